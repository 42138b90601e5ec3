"""The KubeadmConfig decision flow against in-memory management and workload APIs, with a
recording renderer behind our own Renderer protocol."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from bootstrap import certs, tokens
from bootstrap.reconcile import KUBEADM_CONFIGS, BootstrapEngine, RenderInput, Role, reconcile
from capy import capi
from capy.errors import WaitingFor
from capy.kube import CLUSTERS, CONFIGMAPS, EVENTS, MACHINES, SECRETS, Kube, Obj
from capy_harness.memory_kube import MemoryKube

NS = "team-a"
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@dataclass
class RecordingRenderer:
    inputs: list[RenderInput] = field(default_factory=list)

    def render(self, inp: RenderInput) -> tuple[bytes, str]:
        self.inputs.append(inp)
        return f"#cloud-config\n# {inp.role}\n".encode(), "cloud-config"


@dataclass
class World:
    kube: MemoryKube
    workload: MemoryKube
    renderer: RecordingRenderer
    engine: BootstrapEngine

    def cluster(
        self,
        *,
        provisioned: bool = True,
        initialized: bool = False,
        paused: bool = False,
        kcp: bool = True,
    ) -> Obj:
        spec: dict[str, Any] = {
            "paused": paused,
            "controlPlaneEndpoint": {"host": "10.0.0.10", "port": 6443},
            "clusterNetwork": {"pods": {"cidrBlocks": ["192.168.0.0/16"]}},
        }
        if kcp:
            spec["controlPlaneRef"] = {"kind": "KubeadmControlPlane", "name": "cp"}
        status: dict[str, Any] = {"initialization": {"infrastructureProvisioned": provisioned}}
        if initialized:
            status["conditions"] = [{"type": "ControlPlaneInitialized", "status": "True"}]
        return self.kube.put(
            CLUSTERS, NS, {"metadata": {"name": "c1"}, "spec": spec, "status": status}
        )

    def config(self, name: str, *, control_plane: bool, spec: dict[str, Any] | None = None) -> Obj:
        labels = {capi.CLUSTER_NAME_LABEL: "c1"}
        if control_plane:
            labels[capi.CONTROL_PLANE_LABEL] = ""
        m = self.kube.put(
            MACHINES,
            NS,
            {
                "metadata": {"name": name, "labels": labels},
                "spec": {"clusterName": "c1", "version": "v1.36.5"},
            },
        )
        return self.kube.put(
            KUBEADM_CONFIGS,
            NS,
            {
                "metadata": {
                    "name": name,
                    "ownerReferences": [
                        {
                            "apiVersion": "cluster.x-k8s.io/v1beta2",
                            "kind": "Machine",
                            "name": name,
                            "uid": m["metadata"]["uid"],
                        }
                    ],
                },
                "spec": spec or {},
            },
        )

    def get(self, res: Any, name: str, ns: str = NS) -> Obj:
        obj = run(self.kube.get(res, ns, name))
        assert obj is not None, name
        return obj


@pytest.fixture
def world() -> World:
    kube, workload, renderer = MemoryKube(), MemoryKube(), RecordingRenderer()
    kube.put(
        SECRETS,
        NS,
        {
            "metadata": {"name": "c1-kubeconfig"},
            "data": {"value": base64.b64encode(b"kubeconfig").decode()},
        },
    )

    def connect(text: str) -> Kube:
        assert text == "kubeconfig"
        return workload

    engine = BootstrapEngine(kube=kube, renderer=renderer, connect=connect)
    return World(kube, workload, renderer, engine)


def put_certs(world: World) -> certs.ClusterCerts:
    found, _ = run(certs.lookup_or_generate(world.kube, NS, "c1", owner=None, key="ecdsa"))
    return found


def test_nothing_happens_before_the_infrastructure_is_provisioned(world: World) -> None:
    world.cluster(provisioned=False)
    with pytest.raises(WaitingFor):
        run(reconcile(world.engine, world.config("m1", control_plane=True)))
    assert world.renderer.inputs == []
    ready = world.get(KUBEADM_CONFIGS, "m1")["status"]["conditions"]
    assert any(c["reason"] == "WaitingForClusterInfrastructure" for c in ready)


def test_first_control_plane_machine_inits_and_stores_data(world: World) -> None:
    world.cluster()
    ca = put_certs(world)
    run(reconcile(world.engine, world.config("m1", control_plane=True)))

    inp = world.renderer.inputs[-1]
    assert inp.role is Role.INIT and inp.certs is not None and inp.certs.ca == ca.ca
    assert (inp.control_plane_endpoint, inp.kubernetes_version) == ("10.0.0.10:6443", "v1.36.5")
    secret = world.get(SECRETS, "m1")
    assert secret["type"] == "cluster.x-k8s.io/secret"
    assert secret["metadata"]["labels"] == {capi.CLUSTER_NAME_LABEL: "c1"}
    assert secret["metadata"]["ownerReferences"][0]["kind"] == "KubeadmConfig"
    assert secret["metadata"]["ownerReferences"][0]["controller"] is True
    assert base64.b64decode(secret["data"]["format"]) == b"cloud-config"
    status = world.get(KUBEADM_CONFIGS, "m1")["status"]
    assert status["dataSecretName"] == "m1"
    assert status["initialization"] == {"dataSecretCreated": True}
    assert status["dataSecretSize"] == len(base64.b64decode(secret["data"]["value"]))
    kinds = {c["type"]: c["status"] for c in status["conditions"]}
    assert kinds == {
        "Ready": "True",
        "DataSecretAvailable": "True",
        "CertificatesAvailable": "True",
        "Paused": "False",
    }


def test_second_control_plane_machine_waits_for_the_lock(world: World) -> None:
    world.cluster()
    put_certs(world)
    run(reconcile(world.engine, world.config("m1", control_plane=True)))
    with pytest.raises(WaitingFor, match="another control-plane machine"):
        run(reconcile(world.engine, world.config("m2", control_plane=True)))
    assert [i.role for i in world.renderer.inputs] == [Role.INIT]


def test_with_kcp_the_config_waits_for_kcp_certificates(world: World) -> None:
    world.cluster(kcp=True)
    with pytest.raises(WaitingFor, match="cluster certificates"):
        run(reconcile(world.engine, world.config("m1", control_plane=True)))
    # The lock is released so another attempt (or machine) can proceed later.
    assert run(world.kube.get(CONFIGMAPS, NS, "c1-lock")) is None


def test_standalone_control_plane_generates_certificates(world: World) -> None:
    world.cluster(kcp=False)
    run(reconcile(world.engine, world.config("m1", control_plane=True)))
    ca = world.get(SECRETS, "c1-ca")
    assert ca["metadata"]["ownerReferences"][0]["kind"] == "KubeadmConfig"
    reasons = [e["message"] for e in run(world.kube.list(EVENTS, NS))]
    assert "Created Secret c1-ca" in reasons


def test_workers_wait_for_control_plane_initialized(world: World) -> None:
    world.cluster(initialized=False)
    with pytest.raises(WaitingFor, match="control plane to be initialized"):
        run(reconcile(world.engine, world.config("w1", control_plane=False)))


def test_worker_join_creates_a_persisted_token_in_the_workload(world: World) -> None:
    world.cluster(initialized=True)
    found = put_certs(world)
    result = run(reconcile(world.engine, world.config("w1", control_plane=False)))

    inp = world.renderer.inputs[-1]
    assert inp.role is Role.JOIN_WORKER and inp.certs is None
    assert inp.ca_cert_hashes == [certs.ca_cert_hash(found.ca.cert)]
    assert inp.token is not None
    stored = world.get(KUBEADM_CONFIGS, "w1")
    assert stored["spec"]["joinConfiguration"]["discovery"]["bootstrapToken"]["token"] == inp.token
    assert run(world.workload.get(SECRETS, "kube-system", tokens.secret_name(inp.token)))
    assert result.requeue == pytest.approx(300)

    # The next pass only tends the token; it does not render again or mint another.
    run(reconcile(world.engine, stored))
    assert len(world.renderer.inputs) == 1
    assert len(run(world.workload.list(SECRETS, "kube-system"))) == 1


def test_control_plane_join_gets_all_certificates(world: World) -> None:
    world.cluster(initialized=True)
    found = put_certs(world)
    run(reconcile(world.engine, world.config("m2", control_plane=True)))
    inp = world.renderer.inputs[-1]
    assert inp.role is Role.JOIN_CONTROL_PLANE and inp.certs == found


def test_files_and_passwords_from_secrets_are_resolved(world: World) -> None:
    world.cluster(initialized=True)
    put_certs(world)
    world.kube.put(
        SECRETS,
        NS,
        {
            "metadata": {"name": "extra"},
            "data": {
                "conf": base64.b64encode(b"key=value").decode(),
                "pw": base64.b64encode(b"hashed").decode(),
            },
        },
    )
    spec = {
        "files": [
            {"path": "/etc/extra.conf", "contentFrom": {"secret": {"name": "extra", "key": "conf"}}}
        ],
        "users": [{"name": "ops", "passwdFrom": {"secret": {"name": "extra", "key": "pw"}}}],
    }
    run(reconcile(world.engine, world.config("w1", control_plane=False, spec=spec)))
    inp = world.renderer.inputs[-1]
    assert inp.files == {"/etc/extra.conf": b"key=value"}
    assert inp.passwords == {"ops": "hashed"}


def test_a_missing_file_secret_names_the_field(world: World) -> None:
    world.cluster(initialized=True)
    put_certs(world)
    spec = {"files": [{"path": "/x", "contentFrom": {"secret": {"name": "nope", "key": "k"}}}]}
    with pytest.raises(WaitingFor, match=r"spec\.files\[0\]\.contentFrom"):
        run(reconcile(world.engine, world.config("w1", control_plane=False, spec=spec)))


def test_moved_config_restores_status_without_rendering(world: World) -> None:
    world.cluster(initialized=True)
    obj = world.config("w1", control_plane=False)
    machine = world.get(MACHINES, "w1")
    machine["spec"]["bootstrap"] = {"dataSecretName": "w1"}
    world.kube.put(MACHINES, NS, machine)
    run(reconcile(world.engine, obj))
    assert world.renderer.inputs == []
    status = world.get(KUBEADM_CONFIGS, "w1")["status"]
    assert status["dataSecretName"] == "w1"
    assert status["initialization"] == {"dataSecretCreated": True}


def test_paused_cluster_stops_everything(world: World) -> None:
    world.cluster(paused=True)
    result = run(reconcile(world.engine, world.config("m1", control_plane=True)))
    assert result.paused and world.renderer.inputs == []
