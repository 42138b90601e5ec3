"""The provider is SIGKILLed at several points of a machine's creation and restarted: exactly one
instance exists afterwards, and deleting the machine leaves none."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from capy_harness.infra import moto_env, start_infra_provider
from capy_harness.moto import reset
from capy_harness.probe import eventually
from capy_harness.process import stop

pytestmark = pytest.mark.integration

G, V = "infrastructure.cluster.x-k8s.io", "v1alpha1"
CAPI = ("cluster.x-k8s.io", "v1beta2")
REGION = "eu-west-1"
CRASH_POINTS = ["aws.after-run-instances", "machine.after-provider-id", "machine.after-status"]


@pytest.fixture(scope="module")
def cluster_ns(kubeconfig: Path, capy_crds: Path, moto_endpoint: str, api: client.ApiClient,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # fmt: skip
    """A namespace with a provisioned cluster, made by a provider that is then stopped."""
    reset(moto_endpoint)
    core, objs = client.CoreV1Api(api), client.CustomObjectsApi(api)
    ns = "crash"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    objs.create_namespaced_custom_object(
        *CAPI,
        ns,
        "clusters",
        {
            "apiVersion": "cluster.x-k8s.io/v1beta2",
            "kind": "Cluster",
            "metadata": {"name": "c1"},
            "spec": {"infrastructureRef": {"apiGroup": G, "kind": "CapyCluster", "name": "c1"}},
        },
    )
    objs.create_namespaced_custom_object(G, V, ns, "capyclusters", {
        "apiVersion": f"{G}/{V}", "kind": "CapyCluster", "metadata": {"name": "c1"},
        "spec": {"aws": {"region": REGION, "network": {"availabilityZones": ["eu-west-1a"],
                                                       "natGateways": "None"}}}})  # fmt: skip
    logs = tmp_path_factory.mktemp("crash")
    provider = start_infra_provider(kubeconfig, logs / "setup.log", backends=["aws"],
                                    env=moto_env(moto_endpoint))  # fmt: skip
    try:
        eventually(lambda: (objs.get_namespaced_custom_object(*CAPI, ns, "clusters", "c1")
                            .get("status", {}).get("initialization", {})
                            .get("infrastructureProvisioned")), timeout=90)  # fmt: skip
    finally:
        stop(provider)
    yield ns
    # Leave nothing for later tests: delete the cluster and its cloud resources.
    provider = start_infra_provider(kubeconfig, logs / "teardown.log", backends=["aws"],
                                    env=moto_env(moto_endpoint))  # fmt: skip
    try:
        objs.delete_namespaced_custom_object(*CAPI, ns, "clusters", "c1")
        eventually(lambda: not objs.list_namespaced_custom_object(*CAPI, ns, "clusters")["items"],
                   timeout=120)  # fmt: skip
    finally:
        stop(provider)
    core.delete_namespace(ns)


def instances(ec2: Any, machine_uid: str) -> list[str]:
    f = [
        {"Name": "tag:capy.io/machine-uid", "Values": [machine_uid]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
    ]
    return [i["InstanceId"] for r in ec2.describe_instances(Filters=f)["Reservations"]
            for i in r["Instances"]]  # fmt: skip


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_killed_and_restarted_provider_leaves_exactly_one_instance(
    point: str, cluster_ns: str, kubeconfig: Path, moto_endpoint: str, api: client.ApiClient,
    tmp_path: Path,
) -> None:  # fmt: skip
    ns, name = cluster_ns, point.replace(".", "-")
    core, objs = client.CoreV1Api(api), client.CustomObjectsApi(api)
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=moto_endpoint,
                       aws_access_key_id="t", aws_secret_access_key="t")  # fmt: skip
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    core.create_namespaced_secret(ns, client.V1Secret(
        metadata=client.V1ObjectMeta(name=f"{name}-data"),
        data={"value": base64.b64encode(b"#cloud-config\n").decode()}))  # fmt: skip
    cm = objs.create_namespaced_custom_object(G, V, ns, "capymachines", {
        "apiVersion": f"{G}/{V}", "kind": "CapyMachine", "metadata": {"name": name},
        "spec": {"aws": {"ami": {"id": image}, "instanceType": "t3.small"}}})  # fmt: skip
    objs.create_namespaced_custom_object(*CAPI, ns, "machines", {
        "apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Machine", "metadata": {"name": name},
        "spec": {"clusterName": "c1", "version": "v1.36.5",
                 "bootstrap": {"dataSecretName": f"{name}-data"},
                 "infrastructureRef": {"apiGroup": G, "kind": "CapyMachine",
                                       "name": name}}})  # fmt: skip
    uid = cm["metadata"]["uid"]

    # Not waited for: it may die at the crash point before its health endpoint ever answers.
    doomed = start_infra_provider(
        kubeconfig, tmp_path / "crashing.log", backends=["aws"], wait=False,
        env={**moto_env(moto_endpoint), "CAPY_CRASH_POINT": point},
    )  # fmt: skip
    eventually(lambda: not doomed.alive(), timeout=60)  # it reached the crash point and died

    survivor = start_infra_provider(kubeconfig, tmp_path / "restarted.log", backends=["aws"],
                                    env=moto_env(moto_endpoint))  # fmt: skip
    try:

        def provisioned() -> bool:
            m = objs.get_namespaced_custom_object(G, V, ns, "capymachines", name)
            return bool((m.get("status") or {}).get("initialization", {}).get("provisioned"))

        eventually(provisioned, timeout=90)
        assert len(instances(ec2, uid)) == 1, f"after a crash at {point}"

        objs.delete_namespaced_custom_object(*CAPI, ns, "machines", name)

        def gone() -> bool:
            try:
                objs.get_namespaced_custom_object(G, V, ns, "capymachines", name)
            except ApiException as e:
                return e.status == 404
            return False

        eventually(gone, timeout=90)
        assert instances(ec2, uid) == []
    finally:
        stop(survivor)
