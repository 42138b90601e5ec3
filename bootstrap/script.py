"""The bootstrap script both cloud-init and Ignition run on the machine.

It runs the KubeadmConfig's commands in their order (pre-kubeadm, kubeadm, post-kubeadm) and
makes the outcome visible from outside the machine: on success the Cluster API sentinel
`/run/cluster-api/bootstrap-success.complete`; on any failure `bootstrap-failure.log` beside it with
the step and the last lines of the log; either way one `CAPY-BOOTSTRAP:` line on the serial console,
which clouds expose (EC2 console output, vSphere serial log) without logging in.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

PATH = "/run/cluster-api/capy-bootstrap.sh"
LOG = "/var/log/capy-bootstrap.log"
SUCCESS = "/run/cluster-api/bootstrap-success.complete"
FAILURE = "/run/cluster-api/bootstrap-failure.log"
MARKER = "CAPY-BOOTSTRAP:"
TAIL_LINES = 50


def kubeadm_command(init: bool, config_path: str, verbosity: int | None) -> str:
    verb = "init" if init else "join"
    cmd = f"kubeadm {verb} --config {shlex.quote(config_path)}"
    return f"{cmd} --v={verbosity}" if verbosity is not None else cmd


def render(pre: Sequence[str], kubeadm: str, post: Sequence[str]) -> str:
    """The script text; each command runs as its own line, exactly as written."""
    steps = [("pre-kubeadm", pre), ("kubeadm", [kubeadm]), ("post-kubeadm", post)]
    body = []
    for step, commands in steps:
        body.append(f"STEP={step}")
        body.extend(commands)
    return "\n".join(
        [
            "#!/bin/bash",
            "# Written by capy's kubeadm bootstrap provider.",
            "mkdir -p /run/cluster-api",
            # Output goes to cloud-init's log as usual and to our own, whose tail a failure keeps.
            f"exec > >(tee -a {LOG}) 2>&1",
            "TEE=$!",
            "console() {",
            "  for c in /dev/ttyS0 /dev/console; do",
            '    [ -w "$c" ] && echo "$1" > "$c" 2>/dev/null',
            "  done",
            "  return 0",
            "}",
            # On any exit: a failing command (set -e), an explicit exit, or the end of the script.
            "finish() {",
            "  rc=$?",
            '  exec >&- 2>&-; wait "$TEE" 2>/dev/null',
            '  if [ "$rc" -eq 0 ]; then',
            f"    echo success > {SUCCESS}",
            f'    console "{MARKER} success"',
            "  else",
            f'    {{ echo "step: $STEP"; echo "exit code: $rc"; tail -n {TAIL_LINES} {LOG}; }}'
            f" > {FAILURE}",
            f'    console "{MARKER} failure step=$STEP rc=$rc"',
            "  fi",
            "}",
            "trap finish EXIT",
            "set -e -o pipefail",
            *body,
            "",
        ]
    )
