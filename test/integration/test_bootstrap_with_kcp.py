"""Upstream KubeadmControlPlane drives capy's bootstrap provider unchanged."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from capy_harness.infra import start_bootstrap_provider
from capy_harness.probe import eventually
from capy_harness.process import ProcessRecord, stop

pytestmark = pytest.mark.integration

CAPI = ("cluster.x-k8s.io", "v1beta2")
INFRA = ("infrastructure.cluster.x-k8s.io", "v1alpha1")
BOOT = ("bootstrap.cluster.x-k8s.io", "v1beta2")


@pytest.fixture(scope="module")
def bootstrap_provider(
    kubeconfig: Path, capy_crds: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProcessRecord]:
    record = start_bootstrap_provider(kubeconfig, tmp_path_factory.mktemp("boot") / "boot.log")
    try:
        yield record
    finally:
        stop(record)


def test_kcp_gets_init_data_from_capy(
    bootstrap_provider: ProcessRecord, api: client.ApiClient, namespace: str
) -> None:
    objs, core = client.CustomObjectsApi(api), client.CoreV1Api(api)
    objs.create_namespaced_custom_object(
        *INFRA,
        namespace,
        "capymachinetemplates",
        {
            "apiVersion": "infrastructure.cluster.x-k8s.io/v1alpha1",
            "kind": "CapyMachineTemplate",
            "metadata": {"name": "cp"},
            "spec": {
                "template": {
                    "spec": {"aws": {"ami": {"id": "ami-0123abcd"}, "instanceType": "m6i.large"}}
                }
            },
        },
    )
    objs.create_namespaced_custom_object(
        *CAPI,
        namespace,
        "clusters",
        {
            "apiVersion": "cluster.x-k8s.io/v1beta2",
            "kind": "Cluster",
            "metadata": {"name": "k1"},
            "spec": {
                "controlPlaneEndpoint": {"host": "10.0.0.10", "port": 6443},
                "clusterNetwork": {"pods": {"cidrBlocks": ["192.168.0.0/16"]}},
                "controlPlaneRef": {
                    "apiGroup": "controlplane.cluster.x-k8s.io",
                    "kind": "KubeadmControlPlane",
                    "name": "k1",
                },
            },
        },
    )
    objs.create_namespaced_custom_object(
        "controlplane.cluster.x-k8s.io",
        "v1beta2",
        namespace,
        "kubeadmcontrolplanes",
        {
            "apiVersion": "controlplane.cluster.x-k8s.io/v1beta2",
            "kind": "KubeadmControlPlane",
            "metadata": {"name": "k1"},
            "spec": {
                "replicas": 1,
                "version": "v1.36.5",
                "machineTemplate": {
                    "spec": {
                        "infrastructureRef": {
                            "apiGroup": "infrastructure.cluster.x-k8s.io",
                            "kind": "CapyMachineTemplate",
                            "name": "cp",
                        }
                    }
                },
                "kubeadmConfigSpec": {
                    "initConfiguration": {
                        "nodeRegistration": {
                            "kubeletExtraArgs": [{"name": "cloud-provider", "value": "external"}]
                        }
                    },
                    "postKubeadmCommands": ["echo done"],
                },
            },
        },
    )

    def config_with_data() -> dict[str, Any] | None:
        items = objs.list_namespaced_custom_object(*BOOT, namespace, "kubeadmconfigs")["items"]
        done = [
            c
            for c in items
            if (c.get("status") or {}).get("initialization", {}).get("dataSecretCreated")
        ]
        return done[0] if done else None

    cfg = eventually(config_with_data, timeout=90)
    status = cfg["status"]
    secret = core.read_namespaced_secret(status["dataSecretName"], namespace)
    assert secret.type == "cluster.x-k8s.io/secret"
    assert secret.metadata.labels["cluster.x-k8s.io/cluster-name"] == "k1"
    assert base64.b64decode(secret.data["format"]) == b"cloud-config"
    value = base64.b64decode(secret.data["value"]).decode()
    assert status["dataSecretSize"] == len(value.encode())
    written = {f["path"]: f for f in yaml.safe_load(value)["write_files"]}
    init = list(yaml.safe_load_all(written["/run/kubeadm/kubeadm.yaml"]["content"]))
    assert [d["kind"] for d in init] == ["ClusterConfiguration", "InitConfiguration"]
    assert init[0]["controlPlaneEndpoint"] == "10.0.0.10:6443"
    assert init[0]["kubernetesVersion"] == "v1.36.5"
    # KubeadmControlPlane generated the cluster CA; capy wrote that very CA to the machine.
    ca = core.read_namespaced_secret("k1-ca", namespace)
    assert (
        written["/etc/kubernetes/pki/ca.crt"]["content"]
        == base64.b64decode(ca.data["tls.crt"]).decode()
    )
    assert "echo done" in written["/run/cluster-api/capy-bootstrap.sh"]["content"]

    # Cluster API core copied the data Secret name to the Machine.
    def machine_data_secret() -> str | None:
        machines = objs.list_namespaced_custom_object(*CAPI, namespace, "machines")["items"]
        name: str | None = machines[0]["spec"]["bootstrap"].get("dataSecretName")
        return name

    assert eventually(machine_data_secret, timeout=30) == status["dataSecretName"]
