"""Local processes of the harness: start in their own session, probe, and stop without orphans.

A process is identified by its pid *and* its kernel start time, so that `capy dev down` run
much later never signals an unrelated process that reused the pid.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_PR_SET_PDEATHSIG = 1


class ProcessError(RuntimeError):
    """A component exited or did not become ready; the message carries its log tail."""


def _tie_to_parent() -> None:
    # Runs in the child between fork and exec: the kernel kills the child when its parent dies,
    # so a killed pytest never leaves an apiserver behind. SIGKILL, because a graceful
    # apiserver shutdown can wait a minute for an etcd that died at the same moment.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _stat(pid: int) -> tuple[str, int] | None:
    """The state letter and start time (clock ticks since boot) of a process, if it exists."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 2 (comm) may contain spaces; everything after the last ')' is space separated.
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], int(fields[19])


def start_time(pid: int) -> int | None:
    """The start time of a live process; None when it is gone or a zombie."""
    stat = _stat(pid)
    return None if stat is None or stat[0] in ("Z", "X") else stat[1]


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class Health:
    """How to ask a component whether it is ready: an HTTP(S) URL and the TLS material for it."""

    url: str
    ca: str | None = None
    cert: str | None = None
    key: str | None = None


@dataclass
class ProcessRecord:
    """What the state file keeps of a running component."""

    name: str
    pid: int
    started: int
    log: str
    address: str = ""
    health: Health | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def alive(self) -> bool:
        return start_time(self.pid) == self.started

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProcessRecord:
        health = data.get("health")
        return cls(**{**data, "health": Health(**health) if health else None})


def spawn(
    name: str,
    argv: Sequence[str],
    log: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    tie_to_parent: bool = True,
    address: str = "",
    health: Health | None = None,
) -> ProcessRecord:
    """Start `argv` in a new session with stdout and stderr appended to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_tie_to_parent if tie_to_parent else None,
        )
    # Our unreaped child keeps its /proc entry even when it exited at once.
    stat = _stat(proc.pid)
    assert stat is not None, f"{name}: no /proc entry for our own child {proc.pid}"
    record = ProcessRecord(name, proc.pid, stat[1], str(log), address, health)
    # Keep the Popen object alive for the lifetime of the record so Python reaps the child.
    _children[proc.pid] = proc
    return record


_children: dict[int, subprocess.Popen[bytes]] = {}


def wait_ready(record: ProcessRecord, probe: Callable[[], bool], timeout: float) -> None:
    """Poll `probe` until it is true; fail early with the log tail when the process dies."""
    deadline = time.monotonic() + timeout
    while True:
        if not record.alive():
            raise ProcessError(f"{record.name} exited:\n{log_tail(Path(record.log))}")
        if probe():
            return
        if time.monotonic() > deadline:
            raise ProcessError(
                f"{record.name} not ready after {timeout:.0f}s:\n{log_tail(Path(record.log))}"
            )
        time.sleep(0.2)


def stop(record: ProcessRecord, timeout: float = 15.0) -> None:
    """SIGTERM the component's process group, then SIGKILL what is left after `timeout`."""
    if not record.alive():
        _children.pop(record.pid, None)
        return
    _signal_group(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while record.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    # The leader may be gone while children of its group linger; the group id is the leader's pid.
    _signal_group(record.pid, signal.SIGKILL)
    proc = _children.pop(record.pid, None)
    if proc is not None:
        proc.wait(timeout=5)
    while record.alive():
        time.sleep(0.05)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
