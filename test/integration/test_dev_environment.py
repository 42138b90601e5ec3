"""`capy dev up/status/down`, and a plane whose starter dies, leave no process behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from capy_harness.plane import PlaneState
from capy_harness.probe import eventually
from capy_harness.tools import Tools

pytestmark = pytest.mark.integration

CAPY = [sys.executable, "-m", "capy.cli"]


def port_free(address: str) -> bool:
    """Nothing listens there any more. (A bind test would be fooled by other processes'
    client connections that happen to use the same local port.)"""
    url = urllib.parse.urlsplit(address)
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((url.hostname or "", url.port or 0)) != 0


def assert_all_gone(state: PlaneState) -> None:
    for c in state.components:
        assert not c.alive(), f"{c.name} (pid {c.pid}) still runs"
        assert port_free(c.address), f"{c.name} still holds {c.address}"


def test_dev_up_status_down(tmp_path: Path, toolset: Tools) -> None:
    directory = tmp_path / "dev"
    up = subprocess.run(
        [*CAPY, "dev", "up", "--dir", str(directory)], capture_output=True, text=True, timeout=300
    )
    assert up.returncode == 0, up.stdout + up.stderr
    state = PlaneState.load(directory)
    assert state is not None
    try:
        last = up.stdout.strip().splitlines()[-1]
        assert last == f"export KUBECONFIG={directory / 'kubeconfig'}"

        crd = subprocess.run(
            [toolset.path("kubectl"), "get", "crd", "clusters.cluster.x-k8s.io"],
            env={**os.environ, "KUBECONFIG": last.split("=", 1)[1]},
            capture_output=True,
            text=True,
        )
        assert crd.returncode == 0, crd.stderr

        status = subprocess.run(
            [*CAPY, "dev", "status", "--dir", str(directory)], capture_output=True, text=True
        )
        assert status.returncode == 0, status.stdout
        for c in state.components:
            assert f"{c.name} " in status.stdout and str(c.pid) in status.stdout
        assert {c.name for c in state.components} >= {
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
            "capi-core",
            "capi-kcp",
            "moto",
            "capy-infra",
            "capy-bootstrap",
        }
        assert "AWS simulator (moto): http://127.0.0.1:" in up.stdout

        # A second `up` finds the running environment instead of starting another.
        again = subprocess.run(
            [*CAPY, "dev", "up", "--dir", str(directory)], capture_output=True, text=True
        )
        assert "already up" in again.stdout
        assert PlaneState.load(directory) == state
    finally:
        down = subprocess.run(
            [*CAPY, "dev", "down", "--dir", str(directory)], capture_output=True, text=True
        )
    assert down.returncode == 0, down.stderr
    assert_all_gone(state)
    assert not directory.exists()


def test_components_die_with_a_killed_starter(tmp_path: Path, toolset: Tools) -> None:
    directory = tmp_path / "plane"
    # The starter is killed, so it cannot stop anything: the kernel's parent-death signal must.
    script = (
        "import sys, time, pathlib\n"
        "from capy_harness.plane import ManagementPlane\n"
        "ManagementPlane(pathlib.Path(sys.argv[1])).start()\n"
        "print('ready', flush=True)\n"
        "time.sleep(600)\n"
    )
    starter = subprocess.Popen(
        [sys.executable, "-c", script, str(directory)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert starter.stdout is not None
        assert starter.stdout.readline().strip() == "ready"
        state = PlaneState.load(directory)
        assert state is not None
        assert all(c.alive() for c in state.components)
    finally:
        starter.send_signal(signal.SIGKILL)
        starter.wait()

    eventually(lambda: not any(c.alive() for c in state.components))
    assert_all_gone(state)
