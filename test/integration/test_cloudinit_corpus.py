"""Every cloud-config rendered from the corpus passes `cloud-init schema` (Debian's cloud-init),
its kubeadm document passes `kubeadm config validate`, and its bootstrap script reports success
and failure as promised."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bootstrap import certs, cloudinit, script
from bootstrap.reconcile import RenderInput, Role
from capy_harness.tools import Tools

pytestmark = pytest.mark.integration

CORPUS = yaml.safe_load((Path(__file__).parents[1] / "data" / "kubeadmconfigs.yaml").read_text())
CERTS = certs.ClusterCerts(**{p: certs.generate(p, key="ecdsa") for p in certs.PURPOSES})
NETWORK = {
    "pods": {"cidrBlocks": ["192.168.0.0/16"]},
    "services": {"cidrBlocks": ["10.128.0.0/12"]},
}


def render_input(entry: dict[str, Any]) -> RenderInput:
    role = Role(entry["role"])
    return RenderInput(
        role, "c1", entry["spec"], "v1.36.5", "api.example.com:6443", NETWORK,
        None if role is Role.JOIN_WORKER else CERTS,
        ca_cert_hashes=[certs.ca_cert_hash(CERTS.ca.cert)],
        token=None if role is Role.INIT else "abcdef.0123456789abcdef",
        files={"/etc/secret.conf": b"secret=1\n"}, passwords={"audit": "$6$hash"},
    )  # fmt: skip


CLOUD_CONFIG = [e for e in CORPUS if e["spec"].get("format", "cloud-config") == "cloud-config"]


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 15
    assert {e["role"] for e in CORPUS} == {"init", "join-control-plane", "join-worker"}


@pytest.mark.parametrize("entry", CLOUD_CONFIG, ids=lambda e: e["name"])
def test_cloud_config_and_kubeadm_documents_are_valid(
    entry: dict[str, Any], toolset: Tools, tmp_path: Path
) -> None:
    data = cloudinit.render(render_input(entry)).decode()
    assert data.startswith(cloudinit.HEADER)
    # On the machine cloud-init renders the jinja template first; the checks apply after.
    data = data.removeprefix("## template: jinja\n").replace(
        "{{ ds.meta_data.local_hostname }}", "ip-10-0-0-5.eu-west-1.compute.internal"
    )
    plain = tmp_path / "user-data"
    plain.write_text(data)
    schema = subprocess.run(["cloud-init", "schema", "--config-file", str(plain)],
                            capture_output=True, text=True)  # fmt: skip
    assert schema.returncode == 0, schema.stderr + data

    files = {f["path"]: f for f in yaml.safe_load(data)["write_files"]}
    kubeadm_path = cloudinit.KUBEADM_INIT if entry["role"] == "init" else cloudinit.KUBEADM_JOIN
    (tmp_path / "kubeadm.yaml").write_text(files[kubeadm_path]["content"])
    validate = subprocess.run(
        [toolset.path("kubeadm"), "config", "validate", "--config", str(tmp_path / "kubeadm.yaml")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert validate.returncode == 0, validate.stdout + validate.stderr
    # Workers get no CA keys; control-plane machines get all four pairs.
    has_keys = any(p.endswith("ca.key") for p in files)
    assert has_keys == (entry["role"] != "join-worker")
    assert files[script.PATH]["permissions"] == "0700"


def run_script(tmp_path: Path, kubeadm: str, post: list[str]) -> tuple[int, Path, Path]:
    text = script.render(["echo pre"], kubeadm, post)
    for real in ("/run/cluster-api", "/var/log", "/dev/ttyS0", "/dev/console"):
        text = text.replace(real, str(tmp_path / real.strip("/").replace("/", "-")))
    (tmp_path / "dev-ttyS0").touch()
    (tmp_path / "var-log").mkdir()
    path = tmp_path / "bootstrap.sh"
    path.write_text(text)
    rc = subprocess.run(["bash", str(path)], capture_output=True, timeout=30).returncode
    return rc, tmp_path / "run-cluster-api", tmp_path / "dev-ttyS0"


def test_script_writes_the_success_sentinel(tmp_path: Path) -> None:
    rc, run, console = run_script(tmp_path, "echo kubeadm ok", ["echo post"])
    assert rc == 0
    assert (run / "bootstrap-success.complete").read_text() == "success\n"
    assert not (run / "bootstrap-failure.log").exists()
    assert console.read_text() == "CAPY-BOOTSTRAP: success\n"


def test_script_failure_leaves_step_and_log_tail(tmp_path: Path) -> None:
    rc, run, console = run_script(
        tmp_path, "echo 'kubeadm: preflight failed' && exit 3", ["echo never"]
    )
    assert rc == 3
    assert not (run / "bootstrap-success.complete").exists()
    failure = (run / "bootstrap-failure.log").read_text()
    assert "step: kubeadm" in failure and "exit code: 3" in failure
    assert "kubeadm: preflight failed" in failure and "never" not in failure
    assert console.read_text() == "CAPY-BOOTSTRAP: failure step=kubeadm rc=3\n"
