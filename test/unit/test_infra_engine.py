"""The contract engine against an in-memory API and a recording backend (both behind our own
protocols): what it writes to Kubernetes, and when it must not call the cloud at all."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from capy import capi
from capy.errors import InvalidSpec, WaitingFor
from capy.kube import CLUSTERS, EVENTS, MACHINES, SECRETS, Obj
from capy.meta import APIEndpoint, FailureDomain, MachineAddress
from capy_harness.memory_kube import MemoryKube
from providers.core import cluster as cluster_rec
from providers.core import machine as machine_rec
from providers.core.backend import (
    Check,
    ClusterOutcome,
    ClusterRequest,
    Deletion,
    MachineOutcome,
    MachineRequest,
)
from providers.core.engine import CAPY_CLUSTERS, CAPY_MACHINES, Engine

NS = "team-a"
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@dataclass
class RecordingBackend:
    """Answers like a healthy cloud and records every call."""

    name: str = "aws"
    calls: list[str] = field(default_factory=list)
    requests: list[Any] = field(default_factory=list)
    machine_state: str = "running"

    async def reconcile_cluster(self, req: ClusterRequest) -> ClusterOutcome:
        self.calls.append("reconcile_cluster")
        self.requests.append(req)
        return ClusterOutcome(
            ready=True,
            endpoint=APIEndpoint(host="lb.example.com", port=6443),
            failure_domains=[FailureDomain(name="eu-west-1a", control_plane=True)],
            checks=[Check("NetworkReady", "True", "Created")],
            status={"vpcID": "vpc-1"},
            created=["VPC vpc-1"],
        )

    async def delete_cluster(self, req: ClusterRequest) -> Deletion:
        self.calls.append("delete_cluster")
        return Deletion(done=True, deleted=["VPC vpc-1"])

    async def reconcile_machine(self, req: MachineRequest) -> MachineOutcome:
        self.calls.append("reconcile_machine")
        self.requests.append(req)
        running = self.machine_state == "running"
        return MachineOutcome(
            provider_id=req.provider_id or "aws:///eu-west-1a/i-1",
            ready=running,
            state=self.machine_state,
            addresses=[MachineAddress(type="InternalIP", address="10.0.0.5")],
            failure_domain="eu-west-1a",
            checks=[
                Check(
                    "InstanceReady",
                    "True" if running else "False",
                    "Running" if running else "InstanceTerminated",
                )
            ],
            status={"instanceID": "i-1", "instanceState": self.machine_state},
            created=[] if req.provider_id else ["instance i-1"],
        )

    async def delete_machine(self, req: MachineRequest) -> Deletion:
        self.calls.append("delete_machine")
        return Deletion(done=True, deleted=["instance i-1"])


@pytest.fixture
def kube() -> MemoryKube:
    return MemoryKube()


@pytest.fixture
def backend() -> RecordingBackend:
    return RecordingBackend()


@pytest.fixture
def engine(kube: MemoryKube, backend: RecordingBackend) -> Engine:
    return Engine(kube=kube, backends={"aws": backend})


def capi_cluster(kube: MemoryKube, *, paused: bool = False, provisioned: bool = True) -> Obj:
    return kube.put(
        CLUSTERS,
        NS,
        {
            "metadata": {"name": "c1"},
            "spec": {
                "paused": paused,
                "infrastructureRef": {"kind": "CapyCluster", "name": "c1", "apiGroup": "x"},
            },
            "status": {"initialization": {"infrastructureProvisioned": provisioned}},
        },
    )


def capy_cluster(kube: MemoryKube, owner: Obj | None, **spec: Any) -> Obj:
    meta: dict[str, Any] = {"name": "c1"}
    if owner is not None:
        meta["ownerReferences"] = [
            {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster", "name": "c1",
             "uid": owner["metadata"]["uid"]}
        ]  # fmt: skip
    return kube.put(
        CAPY_CLUSTERS, NS, {"metadata": meta, "spec": {"aws": {"region": "eu-west-1"}, **spec}}
    )


def machine_pair(kube: MemoryKube, *, data_secret: bool = True, provider_id: str = "") -> Obj:
    spec: dict[str, Any] = {"clusterName": "c1", "version": "v1.36.5"}
    if data_secret:
        spec["bootstrap"] = {"dataSecretName": "m1-data"}
        kube.put(SECRETS, NS, {"metadata": {"name": "m1-data"}, "data": {
            "value": base64.b64encode(b"#cloud-config\n").decode(),
            "format": base64.b64encode(b"cloud-config").decode()}})  # fmt: skip
    m = kube.put(MACHINES, NS, {"metadata": {"name": "m1"}, "spec": spec})
    cm_spec: dict[str, Any] = {"aws": {"ami": {"id": "ami-1"}, "instanceType": "m6i.large"}}
    if provider_id:
        cm_spec["providerID"] = provider_id
    return kube.put(
        CAPY_MACHINES,
        NS,
        {
            "metadata": {
                "name": "m1",
                "ownerReferences": [{"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Machine",
                                     "name": "m1", "uid": m["metadata"]["uid"]}],
            },
            "spec": cm_spec,
        },
    )  # fmt: skip


def condition(obj: Obj, type_: str) -> dict[str, Any]:
    return next(c for c in obj["status"]["conditions"] if c["type"] == type_)


def reread(kube: MemoryKube, res: Any, name: str) -> Obj:
    obj = run(kube.get(res, NS, name))
    assert obj is not None
    return obj


def events(kube: MemoryKube) -> list[tuple[str, str]]:
    return [(e["reason"], e["message"]) for e in run(kube.list(EVENTS, NS))]


def test_cluster_without_owner_waits_and_calls_no_cloud(
    engine: Engine, kube: MemoryKube, backend: RecordingBackend
) -> None:
    obj = capy_cluster(kube, owner=None)
    with pytest.raises(WaitingFor):
        run(cluster_rec.reconcile(engine, obj))
    assert backend.calls == []
    ready = condition(reread(kube, CAPY_CLUSTERS, "c1"), "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "NoOwner")


def test_paused_cluster_is_marked_and_left_alone(
    engine: Engine, kube: MemoryKube, backend: RecordingBackend
) -> None:
    obj = capy_cluster(kube, owner=capi_cluster(kube, paused=True))
    assert run(cluster_rec.reconcile(engine, obj)).paused
    assert backend.calls == []
    paused = condition(reread(kube, CAPY_CLUSTERS, "c1"), "Paused")
    assert (paused["status"], paused["message"]) == ("True", "Cluster c1 is paused")


def test_cluster_reaches_provisioned_with_endpoint_and_failure_domains(
    engine: Engine, kube: MemoryKube, backend: RecordingBackend
) -> None:
    obj = capy_cluster(kube, owner=capi_cluster(kube), additionalTags={"team": "a"})
    assert run(cluster_rec.reconcile(engine, obj)).provisioned
    got = reread(kube, CAPY_CLUSTERS, "c1")
    assert got["spec"]["controlPlaneEndpoint"] == {"host": "lb.example.com", "port": 6443}
    assert got["status"]["initialization"] == {"provisioned": True}
    assert got["status"]["failureDomains"] == [{"name": "eu-west-1a", "controlPlane": True}]
    assert got["status"]["aws"] == {"vpcID": "vpc-1"}
    assert condition(got, "Ready")["status"] == "True"
    assert condition(got, "Paused")["status"] == "False"
    assert ("Created", "Created VPC vpc-1") in events(kube)
    req = backend.requests[0]
    assert req.tags["sigs.k8s.io/cluster-api-provider-capy/cluster/c1"] == "owned"
    assert req.tags["team"] == "a" and req.credentials is None

    # Level-triggered: a second pass changes nothing but still asks the cloud.
    run(cluster_rec.reconcile(engine, got))
    again = reread(kube, CAPY_CLUSTERS, "c1")
    assert again["status"]["conditions"] == got["status"]["conditions"]
    assert again["metadata"]["generation"] == got["metadata"]["generation"]


def test_user_endpoint_is_kept(engine: Engine, kube: MemoryKube) -> None:
    endpoint = {"host": "10.1.2.3", "port": 443}
    obj = capy_cluster(kube, owner=capi_cluster(kube), controlPlaneEndpoint=endpoint)
    run(cluster_rec.reconcile(engine, obj))
    assert reread(kube, CAPY_CLUSTERS, "c1")["spec"]["controlPlaneEndpoint"] == endpoint


def test_identity_in_controller_namespace_needs_the_allowed_annotation(
    engine: Engine, kube: MemoryKube, backend: RecordingBackend
) -> None:
    kube.put(SECRETS, "capy-system", {"metadata": {"name": "aws-creds"},
             "data": {"AccessKeyID": base64.b64encode(b"AKIA").decode()}})  # fmt: skip
    obj = capy_cluster(kube, owner=capi_cluster(kube), identityRef={"name": "aws-creds"})
    with pytest.raises(InvalidSpec, match=r"capy\.io/allowed-namespaces"):
        run(cluster_rec.reconcile(engine, obj))
    assert backend.calls == []

    secret = run(kube.get(SECRETS, "capy-system", "aws-creds"))
    assert secret is not None
    secret["metadata"]["annotations"] = {"capy.io/allowed-namespaces": f"other,{NS}"}
    kube.put(SECRETS, "capy-system", secret)
    run(cluster_rec.reconcile(engine, reread(kube, CAPY_CLUSTERS, "c1")))
    assert backend.requests[-1].credentials == {"AccessKeyID": b"AKIA"}


def test_disabled_backend_names_the_flag(kube: MemoryKube) -> None:
    obj = capy_cluster(kube, owner=capi_cluster(kube))
    with pytest.raises(InvalidSpec, match="start it with --backend aws"):
        run(cluster_rec.reconcile(Engine(kube=kube, backends={}), obj))


def test_machine_waits_for_bootstrap_data_without_cloud_calls(
    engine: Engine, kube: MemoryKube, backend: RecordingBackend
) -> None:
    capy_cluster(kube, owner=capi_cluster(kube))
    obj = machine_pair(kube, data_secret=False)
    with pytest.raises(WaitingFor):
        run(machine_rec.reconcile(engine, obj))
    assert backend.calls == []
    ready = condition(reread(kube, CAPY_MACHINES, "m1"), "Ready")
    assert ready["reason"] == "WaitingForBootstrap"


def test_machine_waits_for_cluster_infrastructure(
    engine: Engine, kube: MemoryKube, backend: RecordingBackend
) -> None:
    capy_cluster(kube, owner=capi_cluster(kube, provisioned=False))
    with pytest.raises(WaitingFor):
        run(machine_rec.reconcile(engine, machine_pair(kube)))
    assert backend.calls == []


def test_machine_gets_provider_id_addresses_and_provisioned(
    engine: Engine, kube: MemoryKube, backend: RecordingBackend
) -> None:
    capy_cluster(kube, owner=capi_cluster(kube))
    assert run(machine_rec.reconcile(engine, machine_pair(kube))).provisioned
    got = reread(kube, CAPY_MACHINES, "m1")
    assert got["spec"]["providerID"] == "aws:///eu-west-1a/i-1"
    assert got["status"]["initialization"] == {"provisioned": True}
    assert got["status"]["addresses"] == [{"type": "InternalIP", "address": "10.0.0.5"}]
    assert got["status"]["failureDomain"] == "eu-west-1a"
    req = backend.requests[-1]
    assert (req.bootstrap_data, req.bootstrap_format, req.version) == (
        b"#cloud-config\n", "cloud-config", "v1.36.5")  # fmt: skip


def test_provisioned_machine_is_only_observed_and_loss_is_reported(
    engine: Engine, kube: MemoryKube, backend: RecordingBackend
) -> None:
    capy_cluster(kube, owner=capi_cluster(kube))
    obj = machine_pair(kube, data_secret=False, provider_id="aws:///eu-west-1a/i-1")
    backend.machine_state = "terminated"
    run(machine_rec.reconcile(engine, obj))
    req = backend.requests[-1]
    assert req.provider_id == "aws:///eu-west-1a/i-1" and req.bootstrap_data is None
    got = reread(kube, CAPY_MACHINES, "m1")
    assert condition(got, "Ready")["reason"] == "InstanceTerminated"
    assert ("InstanceGone", "instance aws:///eu-west-1a/i-1 is terminated") in events(kube)


def test_delete_for_move_never_touches_the_cloud(
    engine: Engine, kube: MemoryKube, backend: RecordingBackend
) -> None:
    obj = capy_cluster(kube, owner=capi_cluster(kube, paused=True))
    obj["metadata"]["annotations"] = {capi.DELETE_FOR_MOVE_ANNOTATION: ""}
    assert run(cluster_rec.reconcile_delete(engine, obj))
    m = machine_pair(kube)
    m["metadata"]["annotations"] = {capi.DELETE_FOR_MOVE_ANNOTATION: ""}
    assert run(machine_rec.reconcile_delete(engine, m))
    assert backend.calls == []


def test_delete_waits_while_paused(
    engine: Engine, kube: MemoryKube, backend: RecordingBackend
) -> None:
    obj = capy_cluster(kube, owner=capi_cluster(kube, paused=True))
    with pytest.raises(WaitingFor, match="unpaused"):
        run(cluster_rec.reconcile_delete(engine, obj))
    assert backend.calls == []


def test_delete_removes_cloud_resources_with_events(
    engine: Engine, kube: MemoryKube, backend: RecordingBackend
) -> None:
    capy_cluster(kube, owner=capi_cluster(kube))
    assert run(machine_rec.reconcile_delete(engine, machine_pair(kube)))
    assert run(cluster_rec.reconcile_delete(engine, reread(kube, CAPY_CLUSTERS, "c1")))
    assert backend.calls == ["delete_machine", "delete_cluster"]
    assert ("Deleted", "Deleted instance i-1") in events(kube)
