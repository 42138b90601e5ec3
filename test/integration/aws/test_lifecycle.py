"""CapyCluster and CapyMachine lifecycles on moto, driven by upstream CAPI core and the capy
infrastructure provider process, exactly as in a management cluster."""

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
from capy_harness.process import ProcessRecord, stop

pytestmark = pytest.mark.integration

G, V = "infrastructure.cluster.x-k8s.io", "v1alpha1"
CAPI = ("cluster.x-k8s.io", "v1beta2")
REGION = "eu-west-1"


@pytest.fixture(scope="module")
def provider(kubeconfig: Path, capy_crds: Path, moto_endpoint: str,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessRecord]:  # fmt: skip
    reset(moto_endpoint)
    log = tmp_path_factory.mktemp("infra-aws") / "capy-infra.log"
    record = start_infra_provider(kubeconfig, log, backends=["aws"], env=moto_env(moto_endpoint))
    try:
        yield record
    finally:
        stop(record)


@pytest.fixture(scope="module")
def ec2(moto_endpoint: str) -> Any:
    return boto3.client("ec2", region_name=REGION, endpoint_url=moto_endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip


def owned_resources(ec2: Any, cluster_uid: str) -> dict[str, int]:
    """Live resources of one cluster, by its uid tag (names repeat across namespaces)."""
    f = [{"Name": "tag:capy.io/cluster-uid", "Values": [cluster_uid]}]
    reservations = ec2.describe_instances(Filters=f)["Reservations"]
    instances = [i for r in reservations for i in r["Instances"]
                 if i["State"]["Name"] != "terminated"]  # fmt: skip
    nats = [n for n in ec2.describe_nat_gateways(Filter=f)["NatGateways"]
            if n["State"] not in ("deleted", "deleting")]  # fmt: skip
    counts = {
        "instance": len(instances),
        "vpc": len(ec2.describe_vpcs(Filters=f)["Vpcs"]),
        "subnet": len(ec2.describe_subnets(Filters=f)["Subnets"]),
        "sg": len(ec2.describe_security_groups(Filters=f)["SecurityGroups"]),
        "eip": len(ec2.describe_addresses(Filters=f)["Addresses"]),
        "nat": len(nats),
    }
    return {k: v for k, v in counts.items() if v}


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    conds = (obj.get("status") or {}).get("conditions") or []
    return next((c for c in conds if c["type"] == type_), None)


def get(objs: client.CustomObjectsApi, group: str, version: str, ns: str, plural: str,
        name: str) -> dict[str, Any] | None:  # fmt: skip
    try:
        found: dict[str, Any] = objs.get_namespaced_custom_object(group, version, ns, plural, name)
    except ApiException as e:
        if e.status == 404:
            return None
        raise
    return found


def test_cluster_and_machine_lifecycle(
    provider: ProcessRecord, api: client.ApiClient, namespace: str, ec2: Any
) -> None:
    objs, core = client.CustomObjectsApi(api), client.CoreV1Api(api)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    objs.create_namespaced_custom_object(
        *CAPI,
        namespace,
        "clusters",
        {
            "apiVersion": "cluster.x-k8s.io/v1beta2",
            "kind": "Cluster",
            "metadata": {"name": "c1"},
            "spec": {"infrastructureRef": {"apiGroup": G, "kind": "CapyCluster", "name": "c1"}},
        },
    )
    objs.create_namespaced_custom_object(G, V, namespace, "capyclusters", {
        "apiVersion": f"{G}/{V}", "kind": "CapyCluster", "metadata": {"name": "c1"},
        "spec": {"aws": {"region": REGION, "network": {
            "availabilityZones": ["eu-west-1a", "eu-west-1b"],
            "natGateways": "Single"}}}})  # fmt: skip

    def provisioned() -> dict[str, Any] | None:
        c = get(objs, G, V, namespace, "capyclusters", "c1")
        return (
            c
            if c and (c.get("status") or {}).get("initialization", {}).get("provisioned")
            else None
        )

    cc = eventually(provisioned, timeout=90)
    uid = cc["metadata"]["uid"]
    assert cc["spec"]["controlPlaneEndpoint"]["port"] == 6443
    assert [fd["name"] for fd in cc["status"]["failureDomains"]] == ["eu-west-1a", "eu-west-1b"]
    ready = condition(cc, "Ready")
    assert ready is not None and ready["status"] == "True"
    # Upstream core takes the endpoint and marks the Cluster's infrastructure provisioned.
    cluster = eventually(lambda: (lambda c: c if c and (c.get("status") or {}).get(
        "initialization", {}).get("infrastructureProvisioned") else None)(
        get(objs, *CAPI, namespace, "clusters", "c1")), timeout=60)  # fmt: skip
    assert cluster["spec"]["controlPlaneEndpoint"] == cc["spec"]["controlPlaneEndpoint"]

    core.create_namespaced_secret(namespace, client.V1Secret(
        metadata=client.V1ObjectMeta(name="m1-data",
                                     labels={"cluster.x-k8s.io/cluster-name": "c1"}),
        data={"value": base64.b64encode(b"#cloud-config\nruncmd: [true]\n").decode()}))  # fmt: skip
    objs.create_namespaced_custom_object(G, V, namespace, "capymachines", {
        "apiVersion": f"{G}/{V}", "kind": "CapyMachine", "metadata": {"name": "m1"},
        "spec": {"aws": {"ami": {"id": image}, "instanceType": "t3.medium"}}})  # fmt: skip
    objs.create_namespaced_custom_object(*CAPI, namespace, "machines", {
        "apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Machine",
        "metadata": {"name": "m1", "labels": {"cluster.x-k8s.io/control-plane": ""}},
        "spec": {"clusterName": "c1", "version": "v1.36.5", "failureDomain": "eu-west-1b",
                 "bootstrap": {"dataSecretName": "m1-data"},
                 "infrastructureRef": {"apiGroup": G, "kind": "CapyMachine",
                                       "name": "m1"}}})  # fmt: skip

    def machine_provisioned() -> dict[str, Any] | None:
        m = get(objs, G, V, namespace, "capymachines", "m1")
        return (
            m
            if m and (m.get("status") or {}).get("initialization", {}).get("provisioned")
            else None
        )

    m = eventually(machine_provisioned, timeout=90)
    assert m["spec"]["providerID"].startswith("aws:///eu-west-1b/i-")
    assert m["status"]["failureDomain"] == "eu-west-1b"
    assert {"InternalIP"} <= {a["type"] for a in m["status"]["addresses"]}
    assert owned_resources(ec2, uid)["instance"] == 1
    # A control-plane machine sits behind the API server load balancer.
    elb = boto3.client("elbv2", region_name=REGION, endpoint_url=ec2.meta.endpoint_url,
                       aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    tg = elb.describe_target_groups()["TargetGroups"][0]["TargetGroupArn"]
    targets = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    assert [t["Target"]["Id"] for t in targets] == [m["status"]["aws"]["instanceID"]]
    events = core.list_namespaced_event(namespace).items
    assert any(e.reason == "Created" and "instance" in e.message for e in events)

    # An instance terminated behind our back is reported by the next resync, not replaced.
    ec2.terminate_instances(InstanceIds=[m["status"]["aws"]["instanceID"]])

    def reported() -> dict[str, Any] | None:
        got = get(objs, G, V, namespace, "capymachines", "m1")
        ready = condition(got or {}, "Ready")
        return got if ready and ready["reason"] == "InstanceTerminated" else None

    gone = eventually(reported, timeout=60)
    assert gone["spec"]["providerID"] == m["spec"]["providerID"]
    assert owned_resources(ec2, uid).get("instance", 0) == 0
    events = core.list_namespaced_event(namespace).items
    assert any(e.reason == "InstanceGone" and e.type == "Warning" for e in events)

    # Deleting through Cluster API removes every cloud resource of the cluster.
    objs.delete_namespaced_custom_object(*CAPI, namespace, "machines", "m1")
    eventually(lambda: get(objs, G, V, namespace, "capymachines", "m1") is None, timeout=90)
    objs.delete_namespaced_custom_object(*CAPI, namespace, "clusters", "c1")
    eventually(lambda: get(objs, *CAPI, namespace, "clusters", "c1") is None, timeout=120)
    assert owned_resources(ec2, uid) == {}
