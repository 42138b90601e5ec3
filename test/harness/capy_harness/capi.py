"""Upstream CAPI managers as local processes, with their CRDs and URL-based webhooks.

In a real install a Service fronts each manager's webhook server; here nothing routes Services,
so every webhook and conversion `clientConfig` is rewritten to `https://127.0.0.1:<port><path>`
with the harness' serving CA as `caBundle`, the way envtest does for Go controllers.
"""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from capy_harness.controlplane import LOOPBACK, Trust
from capy_harness.probe import free_port
from capy_harness.process import Health, ProcessRecord, spawn
from capy_harness.tools import Tools

FEATURE_GATES = "ClusterTopology=true,KubeadmBootstrapFormatIgnition=true"


@dataclass(frozen=True)
class Manager:
    """One upstream manager binary and where its manifests live in the CAPI module."""

    name: str
    binary: str
    source: str

    def crd_files(self, capi: Path) -> list[Path]:
        return sorted((capi / self.source / "config" / "crd" / "bases").glob("*.yaml"))

    def webhook_file(self, capi: Path) -> Path:
        return capi / self.source / "config" / "webhook" / "manifests.yaml"


MANAGERS = {
    "core": Manager("capi-core", "capi-manager", "core"),
    "kcp": Manager("capi-kcp", "capi-kcp-manager", "controlplane/kubeadm"),
    "cabpk": Manager("capi-cabpk", "capi-cabpk-manager", "bootstrap/kubeadm"),
}


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def with_url_client(client_config: dict[str, Any], port: int, ca: bytes) -> dict[str, Any]:
    """Replace a Service reference by the loopback URL of a local webhook server."""
    path = client_config.get("service", {}).get("path", "")
    return {
        "url": f"https://{LOOPBACK}:{port}{path}",
        "caBundle": base64.b64encode(ca).decode(),
    }


def kustomize_labels(crd_dir: Path) -> dict[str, str]:
    """The labels upstream's kustomization adds to every CRD (e.g. the contract labels
    `cluster.x-k8s.io/v1beta2: v1beta2` that core needs to find a provider's API version)."""
    kustomization = crd_dir / "kustomization.yaml"
    if not kustomization.exists():
        return {}
    doc = yaml.safe_load(kustomization.read_text()) or {}
    labels: dict[str, str] = dict(doc.get("commonLabels") or {})
    for entry in doc.get("labels") or []:
        labels.update(entry.get("pairs") or {})
    return labels


def crds_for(
    manager: Manager, capi: Path, webhook_port: int | None, ca: bytes
) -> list[dict[str, Any]]:
    """The manager's CRDs as upstream's kustomization builds them; with a port, their
    conversion goes to the manager."""
    crds = []
    labels = kustomize_labels(capi / manager.source / "config" / "crd")
    for path in manager.crd_files(capi):
        for crd in load_all(path):
            crd["metadata"].setdefault("labels", {}).update(labels)
            if webhook_port is not None and len(crd["spec"]["versions"]) > 1:
                crd["spec"]["conversion"] = {
                    "strategy": "Webhook",
                    "webhook": {
                        "conversionReviewVersions": ["v1"],
                        "clientConfig": with_url_client(
                            {"service": {"path": "/convert"}}, webhook_port, ca
                        ),
                    },
                }
            crds.append(crd)
    return crds


def webhooks_for(manager: Manager, capi: Path, port: int, ca: bytes) -> list[dict[str, Any]]:
    """The manager's admission webhook configurations, renamed so managers do not collide."""
    configs = load_all(manager.webhook_file(capi))
    for config in configs:
        config["metadata"]["name"] = f"{manager.name}-{config['metadata']['name']}"
        for hook in config.get("webhooks", []):
            hook["clientConfig"] = with_url_client(hook["clientConfig"], port, ca)
    return configs


def kubectl_apply(tools: Tools, kubeconfig: Path, objects: Iterable[dict[str, Any]]) -> None:
    manifest = yaml.safe_dump_all(list(objects))
    subprocess.run(
        [
            tools.path("kubectl"),
            f"--kubeconfig={kubeconfig}",
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=capy-harness",
            "-f",
            "-",
        ],
        input=manifest,
        text=True,
        check=True,
        capture_output=True,
    )


def wait_established(tools: Tools, kubeconfig: Path, timeout: int = 60) -> None:
    subprocess.run(
        [
            tools.path("kubectl"),
            f"--kubeconfig={kubeconfig}",
            "wait",
            "--for=condition=Established",
            "crd",
            "--all",
            f"--timeout={timeout}s",
        ],
        check=True,
        capture_output=True,
    )


def start_manager(
    manager: Manager,
    tools: Tools,
    state: Path,
    kubeconfig: Path,
    trust: Trust,
    webhook_port: int,
    *,
    tie_to_parent: bool,
) -> ProcessRecord:
    health_port, diagnostics_port = free_port(), free_port()
    cert_dir = trust.serving_cert(manager.name)
    return spawn(
        manager.name,
        [
            tools.path(manager.binary),
            f"--kubeconfig={kubeconfig}",
            f"--webhook-port={webhook_port}",
            f"--webhook-cert-dir={cert_dir}",
            f"--health-addr={LOOPBACK}:{health_port}",
            f"--diagnostics-address={LOOPBACK}:{diagnostics_port}",
            "--insecure-diagnostics",
            f"--feature-gates={FEATURE_GATES}",
        ],
        state / "logs" / f"{manager.name}.log",
        # The cluster cache names its owner from these, as in a Pod.
        env={"POD_NAMESPACE": "capi-system", "POD_NAME": manager.name},
        address=f"https://{LOOPBACK}:{webhook_port}",
        health=Health(f"http://{LOOPBACK}:{health_port}/readyz"),
        tie_to_parent=tie_to_parent,
    )
