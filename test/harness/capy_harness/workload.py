"""A workload cluster's API server: etcd and kube-apiserver serving with the cluster's own CA.

This is what `kubeadm init` leaves behind on a first control-plane machine, minus the kubelet:
the API server's serving and client certificates come from the `<cluster>-ca` key pair, so the
`<cluster>-kubeconfig` Secret Cluster API expects can be built from the same CA, and tokens and
CA hashes in join data can be checked against it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from capy import pki
from capy.capi import CLUSTER_NAME_LABEL
from capy.kube import Obj
from capy_harness import controlplane
from capy_harness.plane import PlaneState, stop_directory
from capy_harness.probe import wait_healthy
from capy_harness.tools import Tools


@dataclass(frozen=True)
class Workload:
    cluster: str
    directory: Path
    url: str
    kubeconfig: str
    """Admin kubeconfig YAML, signed by the cluster CA."""

    def kubeconfig_secret(self) -> Obj:
        """The `<cluster>-kubeconfig` Secret Cluster API reads to reach this cluster."""
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "cluster.x-k8s.io/secret",
            "metadata": {
                "name": f"{self.cluster}-kubeconfig",
                "labels": {CLUSTER_NAME_LABEL: self.cluster},
            },
            "data": {"value": base64.b64encode(self.kubeconfig.encode()).decode()},
        }

    def stop(self) -> None:
        stop_directory(self.directory, remove=False)


def start_workload(
    tools: Tools,
    directory: Path,
    cluster: str,
    ca: pki.KeyPair,
    *,
    port: int | None = None,
    tie_to_parent: bool = True,
    timeout: float = 120.0,
) -> Workload:
    """Start the cluster's API server on `port` (a free one by default) under `directory`."""
    (directory / "logs").mkdir(parents=True, exist_ok=True)
    state = PlaneState(directory)
    authority = pki.CertificateAuthority.load(ca)
    trust = controlplane.Trust.create(directory / "pki", authority)
    try:
        etcd = controlplane.start_etcd(
            tools, directory, tie_to_parent=tie_to_parent, name=f"{cluster}-etcd"
        )
        state.components.append(etcd)
        state.save()
        wait_healthy(etcd, timeout)
        kas, kubeconfig = controlplane.start_apiserver(
            tools, directory, trust, etcd.address, tie_to_parent=tie_to_parent, port=port,
            name=f"{cluster}-apiserver",
        )  # fmt: skip
        state.components.append(kas)
        state.kubeconfig = kubeconfig
        state.save()
        wait_healthy(kas, timeout)
    except BaseException:
        stop_directory(directory, remove=False)
        raise
    admin = authority.issue("kubernetes-admin", organizations=("system:masters",), client=True)
    text = controlplane.kubeconfig_yaml(kas.address, ca.cert, admin, cluster)
    return Workload(cluster, directory, kas.address, text)
