"""moto in server mode: the AWS simulator, a local process speaking the EC2/ELBv2 wire protocol.

moto accepts any credentials (account 123456789012). Validation of image ids and instance types
is switched on so that requests real EC2 would refuse are refused here too.
"""

from __future__ import annotations

import shutil
import sys
import urllib.request
from pathlib import Path

from capy_harness.probe import free_port, wait_healthy
from capy_harness.process import Health, ProcessRecord, spawn

ACCOUNT = "123456789012"
# moto's own validation switches, off by default.
VALIDATION = {
    "MOTO_ENABLE_AMI_VALIDATION": "true",
    "MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION": "true",
}


def moto_server_binary() -> str:
    beside = Path(sys.executable).with_name("moto_server")
    found = str(beside) if beside.exists() else shutil.which("moto_server")
    if not found:
        raise RuntimeError(
            "moto_server not found: install the dev extras (pip install -e '.[dev]')"
        )
    return found


def start_moto(state: Path, *, tie_to_parent: bool = True, timeout: float = 60) -> ProcessRecord:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    record = spawn(
        "moto",
        [moto_server_binary(), "-H", "127.0.0.1", "-p", str(port)],
        state / "logs" / "moto.log",
        env=VALIDATION,
        address=url,
        health=Health(f"{url}/moto-api/data.json"),
        tie_to_parent=tie_to_parent,
    )
    wait_healthy(record, timeout)
    return record


def reset(endpoint: str) -> None:
    """Forget every resource moto holds."""
    req = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10):
        pass
