"""Named crash points for fault-injection tests.

`crash_point("x")` kills the process with SIGKILL when CAPY_CRASH_POINT is "x", exactly like an
OOM kill or node loss at that line would. Unset (always, in production) it does nothing.
"""

from __future__ import annotations

import os
import signal


def crash_point(name: str) -> None:
    if os.environ.get("CAPY_CRASH_POINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
