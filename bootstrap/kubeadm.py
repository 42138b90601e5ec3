"""kubeadm.k8s.io/v1beta4 documents from a KubeadmConfig's v1beta2 configuration.

v1beta4 is what kubeadm 1.31 and later read. Most fields carry over by name; the differences are
durations (Cluster API counts seconds and days, kubeadm wants durations) and the cluster-wide
values kubeadm needs but the KubeadmConfig leaves to the Cluster: version, endpoint, networking.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from bootstrap.api.kubeadm import ClusterConfiguration, InitConfiguration, JoinConfiguration

API_VERSION = "kubeadm.k8s.io/v1beta4"


def _seconds(value: int) -> str:
    return f"{value}s"


def _days(value: int) -> str:
    return f"{value * 24}h0m0s"


def _timeouts(raw: Mapping[str, Any] | None) -> dict[str, str] | None:
    if not raw:
        return None
    # v1beta2 `kubeletHealthCheckSeconds: 40` is v1beta4 `kubeletHealthCheck: 40s`.
    return {k.removesuffix("Seconds"): _seconds(v) for k, v in raw.items()}


def cluster_configuration(
    spec: ClusterConfiguration | None,
    *,
    cluster_name: str,
    kubernetes_version: str | None,
    control_plane_endpoint: str,
    cluster_network: Mapping[str, Any],
) -> dict[str, Any]:
    doc: dict[str, Any] = {"apiVersion": API_VERSION, "kind": "ClusterConfiguration"}
    body = spec.to_kube() if spec else {}
    for kube_key in ("certificateValidityPeriod", "caCertificateValidityPeriod"):
        if f"{kube_key}Days" in body:
            body[kube_key] = _days(body.pop(f"{kube_key}Days"))
    body.setdefault("controlPlaneEndpoint", control_plane_endpoint)
    doc.update(body)
    doc["clusterName"] = cluster_name
    if kubernetes_version:
        doc["kubernetesVersion"] = kubernetes_version
    networking = {
        "podSubnet": ",".join((cluster_network.get("pods") or {}).get("cidrBlocks") or []),
        "serviceSubnet": ",".join((cluster_network.get("services") or {}).get("cidrBlocks") or []),
        "dnsDomain": cluster_network.get("serviceDomain") or "",
    }
    if any(networking.values()):
        doc["networking"] = {k: v for k, v in networking.items() if v}
    return doc


def init_configuration(spec: InitConfiguration | None) -> dict[str, Any]:
    doc: dict[str, Any] = {"apiVersion": API_VERSION, "kind": "InitConfiguration"}
    body = spec.to_kube() if spec else {}
    for token in body.get("bootstrapTokens") or []:
        if "ttlSeconds" in token:
            token["ttl"] = _seconds(token.pop("ttlSeconds"))
    if "timeouts" in body:
        body["timeouts"] = _timeouts(body["timeouts"])
    doc.update(body)
    return doc


def join_configuration(
    spec: JoinConfiguration | None,
    *,
    api_server_endpoint: str,
    token: str | None,
    ca_cert_hashes: Sequence[str],
) -> dict[str, Any]:
    doc: dict[str, Any] = {"apiVersion": API_VERSION, "kind": "JoinConfiguration"}
    body = spec.to_kube() if spec else {}
    discovery = body.setdefault("discovery", {})
    if "file" not in discovery:
        bt = discovery.setdefault("bootstrapToken", {})
        bt.setdefault("apiServerEndpoint", api_server_endpoint)
        if token:
            bt["token"] = token
        if ca_cert_hashes and not bt.get("caCertHashes"):
            bt["caCertHashes"] = list(ca_cert_hashes)
        if not bt.get("caCertHashes"):
            bt.setdefault("unsafeSkipCAVerification", True)
    else:
        # The generated kubeconfig is a file on the machine; kubeadm only reads its path.
        discovery["file"] = {"kubeConfigPath": discovery["file"]["kubeConfigPath"]}
    if "timeouts" in body:
        body["timeouts"] = _timeouts(body["timeouts"])
    doc.update(body)
    return doc


def dump(*docs: Mapping[str, Any]) -> str:
    return yaml.safe_dump_all([dict(d) for d in docs], sort_keys=False, default_flow_style=False)
