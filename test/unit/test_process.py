"""Process handling with real child processes (sleep, bash), no fakes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from capy_harness.process import ProcessError, ProcessRecord, spawn, start_time, stop, wait_ready


def test_stop_kills_the_whole_process_group(tmp_path: Path) -> None:
    record = spawn(
        "group", ["bash", "-c", "sleep 300 & echo $! > child; wait"], tmp_path / "log", cwd=tmp_path
    )
    wait_ready(record, lambda: (tmp_path / "child").exists(), timeout=10)
    child = int((tmp_path / "child").read_text())
    assert start_time(child) is not None

    stop(record, timeout=5)

    assert not record.alive()
    deadline = time.monotonic() + 5
    while start_time(child) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert start_time(child) is None, "the grandchild survived"


def test_a_reused_pid_is_never_signalled(tmp_path: Path) -> None:
    record = spawn("sleeper", ["sleep", "300"], tmp_path / "log")
    try:
        impostor = ProcessRecord("old", record.pid, record.started - 1, record.log)
        assert not impostor.alive()
        stop(impostor)
        assert record.alive()
    finally:
        stop(record)


def test_wait_ready_reports_the_log_of_a_dead_process(tmp_path: Path) -> None:
    record = spawn("failing", ["bash", "-c", "echo bad flag --foo; exit 3"], tmp_path / "log")
    with pytest.raises(ProcessError, match="failing exited:\nbad flag --foo"):
        wait_ready(record, lambda: False, timeout=10)


def test_wait_ready_times_out_with_the_log(tmp_path: Path) -> None:
    record = spawn("slow", ["bash", "-c", "echo starting; sleep 300"], tmp_path / "log")
    try:
        with pytest.raises(ProcessError, match="slow not ready after 1s:\nstarting"):
            wait_ready(record, lambda: False, timeout=1)
    finally:
        stop(record)


def test_record_round_trips_through_json(tmp_path: Path) -> None:
    record = spawn("sleeper", ["sleep", "300"], tmp_path / "log", env={"X": "1"})
    try:
        again = ProcessRecord.from_json(record.to_json())
        assert again == record and again.alive()
        assert os.getpgid(record.pid) == record.pid
    finally:
        stop(record)
