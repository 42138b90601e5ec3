"""Cluster templates render offline with clusterctl and pass the real API server's validation."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from capy_harness.tools import Tools

pytestmark = pytest.mark.integration

TEMPLATES = Path(__file__).resolve().parents[2] / "config" / "templates"


def generate(toolset: Tools, template: Path, namespace: str, tmp_path: Path) -> str:
    result = subprocess.run(
        [
            toolset.path("clusterctl"),
            "generate",
            "cluster",
            "demo",
            "--from",
            str(template),
            "--kubernetes-version",
            "v1.36.5",
            "--control-plane-machine-count",
            "1",
            "--worker-machine-count",
            "2",
            "--target-namespace",
            namespace,
        ],
        env={
            "CLUSTERCTL_DISABLE_VERSIONCHECK": "true",
            "XDG_CONFIG_HOME": str(tmp_path),
            "HOME": str(tmp_path),
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("flavor", ["aws"])
def test_template_renders_and_is_accepted_by_the_api(
    flavor: str,
    toolset: Tools,
    kubeconfig: Path,
    capy_crds: Path,
    namespace: str,
    tmp_path: Path,
) -> None:
    manifest = generate(toolset, TEMPLATES / f"cluster-template-{flavor}.yaml", namespace, tmp_path)
    kinds = [doc["kind"] for doc in yaml.safe_load_all(manifest) if doc]
    assert sorted(kinds) == sorted(
        [
            "Cluster",
            "CapyCluster",
            "KubeadmControlPlane",
            "CapyMachineTemplate",
            "MachineDeployment",
            "CapyMachineTemplate",
            "KubeadmConfigTemplate",
        ]
    )
    # A server-side dry run runs schema, CEL and the upstream admission webhooks without storing.
    result = subprocess.run(
        [
            toolset.path("kubectl"),
            f"--kubeconfig={kubeconfig}",
            "apply",
            "--dry-run=server",
            "-f",
            "-",
        ],
        input=manifest,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("(server dry run)") == len(kinds)
