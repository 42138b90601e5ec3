"""The management plane is real: upstream CAPI core and KCP reconcile and admit objects."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from capy_harness.probe import eventually
from capy_harness.tools import Tools

pytestmark = pytest.mark.integration

CAPI = ("cluster.x-k8s.io", "v1beta2")


def cluster(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "cluster.x-k8s.io/v1beta2",
        "kind": "Cluster",
        "metadata": {"name": name},
        "spec": {"clusterNetwork": {"pods": {"cidrBlocks": ["192.168.0.0/16"]}}, **spec},
    }


def test_core_reconciles_a_cluster(api: client.ApiClient, namespace: str) -> None:
    objs = client.CustomObjectsApi(api)
    infra_ref = {
        "apiGroup": "infrastructure.cluster.x-k8s.io",
        "kind": "ProbeCluster",
        "name": "probe",
    }
    objs.create_namespaced_custom_object(
        *CAPI, namespace, "clusters", cluster("c1", infrastructureRef=infra_ref)
    )

    def reconciled() -> dict[str, Any] | None:
        c = objs.get_namespaced_custom_object(*CAPI, namespace, "clusters", "c1")
        conditions = {x["type"]: x for x in c.get("status", {}).get("conditions", [])}
        return (
            c
            if "cluster.cluster.x-k8s.io" in c["metadata"].get("finalizers", [])
            and ("InfrastructureReady" in conditions)
            else None
        )

    c = eventually(reconciled)
    conditions = {x["type"]: x for x in c["status"]["conditions"]}
    # v1beta2 conditions are metav1.Conditions: observedGeneration, reason, no severity.
    for kind in ("Available", "InfrastructureReady", "ControlPlaneInitialized"):
        assert conditions[kind]["observedGeneration"] == c["metadata"]["generation"]
        assert conditions[kind]["reason"]
        assert "severity" not in conditions[kind]
    assert conditions["ControlPlaneInitialized"]["status"] == "False"


def test_core_webhook_rejects_a_cluster_without_references(
    api: client.ApiClient, namespace: str
) -> None:
    objs = client.CustomObjectsApi(api)
    with pytest.raises(ApiException) as err:
        objs.create_namespaced_custom_object(*CAPI, namespace, "clusters", cluster("bad"))
    assert err.value.status in (403, 422)
    assert "one of spec.controlPlaneRef, spec.infrastructureRef or spec.topology" in str(
        err.value.body
    )


def test_core_webhook_defaults_a_machine_deployment(api: client.ApiClient, namespace: str) -> None:
    objs = client.CustomObjectsApi(api)
    md = {
        "apiVersion": "cluster.x-k8s.io/v1beta2",
        "kind": "MachineDeployment",
        "metadata": {"name": "md"},
        "spec": {
            "clusterName": "c2",
            "template": {
                "spec": {
                    "clusterName": "c2",
                    "version": "v1.36.5",
                    "bootstrap": {"dataSecretName": "unused"},
                    "infrastructureRef": {
                        "apiGroup": "infrastructure.cluster.x-k8s.io",
                        "kind": "ProbeMachineTemplate",
                        "name": "probe",
                    },
                }
            },
        },
    }
    created = objs.create_namespaced_custom_object(*CAPI, namespace, "machinedeployments", md)
    # The defaulting webhook fills the replica count and selects the cluster's machines.
    assert created["spec"]["replicas"] == 1
    assert created["spec"]["selector"]["matchLabels"]["cluster.x-k8s.io/cluster-name"] == "c2"


def test_kcp_webhook_rejects_an_invalid_version(api: client.ApiClient, namespace: str) -> None:
    objs = client.CustomObjectsApi(api)
    kcp = {
        "apiVersion": "controlplane.cluster.x-k8s.io/v1beta2",
        "kind": "KubeadmControlPlane",
        "metadata": {"name": "cp"},
        "spec": {
            "replicas": 1,
            "version": "not-a-version",
            "machineTemplate": {
                "spec": {
                    "infrastructureRef": {
                        "apiGroup": "infrastructure.cluster.x-k8s.io",
                        "kind": "ProbeMachineTemplate",
                        "name": "probe",
                    }
                }
            },
        },
    }
    with pytest.raises(ApiException) as err:
        objs.create_namespaced_custom_object(
            "controlplane.cluster.x-k8s.io", "v1beta2", namespace, "kubeadmcontrolplanes", kcp
        )
    assert "spec.version" in str(err.value.body)


def test_deleting_a_namespace_removes_it(api: client.ApiClient) -> None:
    # kube-controller-manager's namespace controller finalizes deleted namespaces.
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="short-lived")))
    core.delete_namespace("short-lived")

    def gone() -> bool:
        try:
            core.read_namespace("short-lived")
        except ApiException as e:
            return e.status == 404
        return False

    eventually(gone, timeout=60)


def test_clusterctl_and_kubectl_versions(toolset: Tools, kubeconfig: Path) -> None:
    env = {"CLUSTERCTL_DISABLE_VERSIONCHECK": "true", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [toolset.path("clusterctl"), "version", "-o", "short"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert out.strip() == toolset["clusterctl"].version

    out = subprocess.run(
        [toolset.path("kubectl"), f"--kubeconfig={kubeconfig}", "version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"Client Version: {toolset['kubectl'].version}" in out
    assert f"Server Version: {toolset['kube-apiserver'].version}" in out
