"""capy's providers as local processes, as `capy infra run` and `capy bootstrap run` run in their
Deployments."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from capy_harness.probe import free_port, wait_healthy
from capy_harness.process import Health, ProcessRecord, spawn


def _start(
    name: str,
    args: Sequence[str],
    kubeconfig: Path,
    log: Path,
    env: Mapping[str, str] | None,
    tie_to_parent: bool,
    wait: bool,
) -> ProcessRecord:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    record = spawn(
        name,
        [sys.executable, "-m", "capy.cli", *args, f"--kubeconfig={kubeconfig}",
         f"--liveness={url}/healthz"],
        log,
        env=dict(env or {}),
        address=url,
        health=Health(f"{url}/healthz"),
        tie_to_parent=tie_to_parent,
    )  # fmt: skip
    if wait:
        wait_healthy(record, 60)
    return record


def start_infra_provider(
    kubeconfig: Path,
    log: Path,
    *,
    backends: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    resync: int = 20,
    tie_to_parent: bool = True,
    wait: bool = True,
) -> ProcessRecord:
    args = ["infra", "run", f"--resync={resync}", *(f"--backend={b}" for b in backends)]
    return _start("capy-infra", args, kubeconfig, log, env, tie_to_parent, wait)


def start_bootstrap_provider(
    kubeconfig: Path,
    log: Path,
    *,
    token_ttl: int = 900,
    env: Mapping[str, str] | None = None,
    tie_to_parent: bool = True,
    wait: bool = True,
) -> ProcessRecord:
    args = ["bootstrap", "run", f"--bootstrap-token-ttl={token_ttl}"]
    return _start("capy-bootstrap", args, kubeconfig, log, env, tie_to_parent, wait)


def moto_env(endpoint: str) -> dict[str, str]:
    """What points the aws backend at a moto server (any credentials work there)."""
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing"}  # fmt: skip
