"""Reconcile of a KubeadmConfig: decide init or join, gather what the machine needs, store it.

The decision follows upstream CABPK so that KubeadmControlPlane and MachineDeployments behave as
they do with it: nothing before the Cluster's infrastructure is provisioned; the first
control-plane machine to take the init lock renders `kubeadm init`; every other machine waits for
`ControlPlaneInitialized` and renders a join. Rendering itself is a pure function behind the
`Renderer` protocol; this module only reads and writes Kubernetes objects.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from bootstrap import certs, locking, tokens
from bootstrap.api.v1beta2 import KubeadmConfigStatus
from capy import capi, conditions
from capy.errors import InvalidSpec, ReconcileError, WaitingFor
from capy.kube import (
    CLUSTERS,
    MACHINES,
    SECRETS,
    Conflict,
    Kube,
    Obj,
    Resource,
    api_server_from_kubeconfig,
    owner_reference,
    record_event,
    secret_data,
)
from capy.meta import Condition

GROUP, VERSION = "bootstrap.cluster.x-k8s.io", "v1beta2"
KUBEADM_CONFIGS = Resource(GROUP, VERSION, "kubeadmconfigs", "KubeadmConfig")
DATA_SECRET_TYPE = certs.CLUSTER_SECRET_TYPE
CERTIFICATES_CONDITION = "CertificatesAvailable"
DATA_SECRET_CONDITION = "DataSecretAvailable"  # noqa: S105 (a condition type)


class Role(StrEnum):
    INIT = "init"
    JOIN_CONTROL_PLANE = "join-control-plane"
    JOIN_WORKER = "join-worker"


@dataclass(frozen=True)
class RenderInput:
    """Everything a renderer needs; secrets are resolved, nothing is left to look up."""

    role: Role
    cluster_name: str
    spec: Mapping[str, Any]
    """KubeadmConfig.spec as stored, with the join token filled in."""
    kubernetes_version: str | None
    control_plane_endpoint: str
    """host:port of the workload API server."""
    cluster_network: Mapping[str, Any]
    """Cluster.spec.clusterNetwork."""
    certs: certs.ClusterCerts | None
    """All four for init and control-plane joins; None for workers."""
    ca_cert_hashes: Sequence[str] = ()
    token: str | None = None
    files: Mapping[str, bytes] = field(default_factory=dict)
    """Contents of files given by contentFrom, by path."""
    passwords: Mapping[str, str] = field(default_factory=dict)
    """Passwords given by passwdFrom, by user name."""


class Renderer(Protocol):
    def render(self, inp: RenderInput) -> tuple[bytes, str]:
        """The bootstrap data and its format (cloud-config or ignition)."""
        ...


@dataclass
class BootstrapEngine:
    kube: Kube
    renderer: Renderer
    token_ttl: dt.timedelta = tokens.DEFAULT_TTL
    event_source: str = "capy-bootstrap"
    connect: Callable[[str], Kube] = api_server_from_kubeconfig
    """Opens a workload cluster from its kubeconfig text."""
    _workloads: dict[str, Kube] = field(default_factory=dict)

    async def workload(self, namespace: str, cluster: str) -> Kube:
        secret = await self.kube.get(SECRETS, namespace, f"{cluster}-kubeconfig")
        value = secret_data(secret).get("value") if secret else None
        if not value:
            raise WaitingFor(
                f"waiting for Secret {cluster}-kubeconfig to reach the workload cluster",
                reason="WaitingForKubeconfig",
            )
        key = hashlib.sha256(value).hexdigest()
        if key not in self._workloads:
            self._workloads[key] = self.connect(value.decode())
        return self._workloads[key]


@dataclass(frozen=True)
class Result:
    requeue: float | None = None
    """Seconds until the next look, when something (a token) needs tending."""
    paused: bool = False


def _spec_get(spec: Mapping[str, Any], *path: str) -> Any:
    node: Any = spec
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _endpoint(cluster: Obj) -> str:
    ep = (cluster.get("spec") or {}).get("controlPlaneEndpoint") or {}
    if not ep.get("host") or not ep.get("port"):
        raise WaitingFor(
            "waiting for Cluster.spec.controlPlaneEndpoint", reason="WaitingForControlPlaneEndpoint"
        )
    return f"{ep['host']}:{ep['port']}"


async def _secret_value(kube: Kube, ns: str, ref: Mapping[str, Any], what: str) -> bytes:
    name, key = ref.get("name", ""), ref.get("key", "")
    secret = await kube.get(SECRETS, ns, name)
    data = secret_data(secret) if secret else {}
    if key not in data:
        raise WaitingFor(f"{what}: Secret {name} has no key {key!r} yet", reason="WaitingForSecret")
    return data[key]


async def resolve_files(kube: Kube, ns: str, spec: Mapping[str, Any]) -> dict[str, bytes]:
    out = {}
    for i, f in enumerate(spec.get("files") or []):
        ref = _spec_get(f, "contentFrom", "secret")
        if ref:
            out[f["path"]] = await _secret_value(kube, ns, ref, f"spec.files[{i}].contentFrom")
    return out


async def resolve_passwords(kube: Kube, ns: str, spec: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for i, u in enumerate(spec.get("users") or []):
        ref = _spec_get(u, "passwdFrom", "secret")
        if ref:
            value = await _secret_value(kube, ns, ref, f"spec.users[{i}].passwdFrom")
            out[u["name"]] = value.decode()
    return out


class Reconciler:
    """One pass over one KubeadmConfig."""

    def __init__(self, engine: BootstrapEngine, obj: Obj) -> None:
        self.engine, self.kube, self.obj = engine, engine.kube, obj
        meta = obj["metadata"]
        self.ns, self.name = meta["namespace"], meta["name"]
        self.generation = meta.get("generation")
        self.status: dict[str, Any] = dict(obj.get("status") or {})
        self.conds = [Condition.model_validate(c) for c in self.status.get("conditions") or []]

    def _set(self, type_: str, status: conditions.Status, reason: str, message: str = "") -> None:
        self.conds = conditions.set_condition(
            self.conds, type_, status, reason, message, generation=self.generation
        )

    async def _write_status(self) -> None:
        self.status["conditions"] = [c.to_kube() for c in self.conds]
        self.status["observedGeneration"] = self.generation
        # Through the model that generated the CRD, so a status we write always fits it.
        status = KubeadmConfigStatus.model_validate(self.status).to_kube()
        await self.kube.patch(KUBEADM_CONFIGS, self.ns, self.name, {"status": status}, status=True)

    async def run(self) -> Result:
        try:
            return await self._run()
        except ReconcileError as err:
            self._set(conditions.READY, "False", err.reason, err.message)
            await self._write_status()
            raise

    async def _run(self) -> Result:
        machine_name = capi.owner(self.obj, "Machine")
        if machine_name is None:
            raise WaitingFor("waiting for Cluster API to set the owner Machine", reason="NoOwner")
        machine = await self.kube.get(MACHINES, self.ns, machine_name)
        if machine is None:
            raise WaitingFor(f"owner Machine {machine_name} not found", reason="NoOwner")
        mv = capi.MachineView(machine)
        cluster = await self.kube.get(CLUSTERS, self.ns, mv.cluster_name or "")
        if cluster is None:
            raise WaitingFor(f"Cluster {mv.cluster_name} not found", reason="WaitingForCluster")
        cv = capi.ClusterView(cluster)
        paused = capi.paused_reason(cv, self.obj)
        if paused:
            self._set(conditions.PAUSED, "True", "Paused", paused)
            await self._write_status()
            return Result(paused=True)
        self._set(conditions.PAUSED, "False", "NotPaused")

        init = self.status.get("initialization") or {}
        if mv.data_secret_name and not init.get("dataSecretCreated"):
            # A moved or restored object: the Machine already points at our data Secret.
            self._mark_stored(mv.data_secret_name, self.status.get("dataSecretSize"))
        if (self.status.get("initialization") or {}).get("dataSecretCreated"):
            result = await self._tend_token(cv, mv)
            await self._write_status()
            return result

        if not cv.infrastructure_provisioned:
            raise WaitingFor(
                "waiting for the Cluster's infrastructure to be provisioned",
                reason="WaitingForClusterInfrastructure",
            )
        if not cv.control_plane_initialized:
            if not mv.is_control_plane:
                raise WaitingFor(
                    "waiting for the control plane to be initialized",
                    reason="WaitingForControlPlaneInitialized",
                )
            if not await locking.try_lock(self.kube, cluster, machine_name):
                raise WaitingFor(
                    "another control-plane machine is running kubeadm init",
                    reason="WaitingForInitLock",
                )
            try:
                inp = await self._init_input(cluster, mv)
            except BaseException:
                await locking.unlock(self.kube, self.ns, cv.name)
                raise
        else:
            await locking.unlock(self.kube, self.ns, cv.name)
            inp = await self._join_input(cluster, mv)

        value, fmt = self.engine.renderer.render(inp)
        await self._store(cv.name, value, fmt)
        await self._write_status()
        return await self._tend_token(cv, mv) if inp.token else Result()

    def _mark_stored(self, secret_name: str, size: int | None) -> None:
        self.status["dataSecretName"] = secret_name
        self.status["initialization"] = {"dataSecretCreated": True}
        if size is not None:
            self.status["dataSecretSize"] = size
        self._set(DATA_SECRET_CONDITION, "True", "Available")
        self._set(conditions.READY, "True", "Ready")

    async def _tend_token(self, cv: capi.ClusterView, mv: capi.MachineView) -> Result:
        token = _spec_get(self.obj.get("spec") or {}, "joinConfiguration", "discovery",
                          "bootstrapToken", "token")  # fmt: skip
        if not token or mv.has_node:
            return Result()
        workload = await self.engine.workload(self.ns, cv.name)
        await tokens.ensure(workload, token, ttl=self.engine.token_ttl)
        return Result(requeue=self.engine.token_ttl.total_seconds() / 3)

    async def _certs(self, cluster: Obj, *, generate: bool) -> certs.ClusterCerts:
        name = cluster["metadata"]["name"]
        # With a control plane provider (KubeadmControlPlane) it owns the CAs; standalone
        # control-plane machines get them from the config that runs kubeadm init.
        if generate and not (cluster.get("spec") or {}).get("controlPlaneRef"):
            spec = self.obj.get("spec") or {}
            key = certs.key_kind(_spec_get(spec, "clusterConfiguration", "encryptionAlgorithm"))
            days = _spec_get(spec, "clusterConfiguration", "caCertificateValidityPeriodDays")
            found, created = await certs.lookup_or_generate(
                self.kube, self.ns, name, owner=owner_reference(self.obj, controller=True),
                key=key, validity_days=days or certs.DEFAULT_VALIDITY_DAYS,
            )  # fmt: skip
            for secret in created:
                await record_event(self.kube, self.obj, "Created", f"Created Secret {secret}",
                                   source=self.engine.event_source)  # fmt: skip
        else:
            looked = await certs.lookup(self.kube, self.ns, name)
            if looked is None:
                self._set(CERTIFICATES_CONDITION, "False", "WaitingForCertificates")
                raise WaitingFor(
                    f"waiting for the cluster certificates ({name}-ca, -etcd, -proxy, -sa)",
                    reason="WaitingForCertificates",
                )
            found = looked
        self._set(CERTIFICATES_CONDITION, "True", "Available")
        return found

    async def _common(self, cluster: Obj, mv: capi.MachineView) -> dict[str, Any]:
        spec = self.obj.get("spec") or {}
        return {
            "cluster_name": cluster["metadata"]["name"],
            "kubernetes_version": mv.version,
            "control_plane_endpoint": _endpoint(cluster),
            "cluster_network": (cluster.get("spec") or {}).get("clusterNetwork") or {},
            "files": await resolve_files(self.kube, self.ns, spec),
            "passwords": await resolve_passwords(self.kube, self.ns, spec),
        }

    async def _init_input(self, cluster: Obj, mv: capi.MachineView) -> RenderInput:
        common = await self._common(cluster, mv)
        found = await self._certs(cluster, generate=True)
        return RenderInput(Role.INIT, spec=self.obj.get("spec") or {}, certs=found, **common)

    async def _join_input(self, cluster: Obj, mv: capi.MachineView) -> RenderInput:
        common = await self._common(cluster, mv)
        spec = dict(self.obj.get("spec") or {})
        control_plane = mv.is_control_plane
        found = await self._certs(cluster, generate=False) if control_plane else None
        ca_pem = found.ca.cert if found else await self._ca_cert(cluster["metadata"]["name"])
        discovery = _spec_get(spec, "joinConfiguration", "discovery") or {}
        token = None
        hashes: list[str] = []
        if not discovery.get("file"):
            token = _spec_get(discovery, "bootstrapToken", "token")
            if not token:
                token = tokens.new_token()
                # Persisted before use, so a crash after this point never mints a second token.
                await self._persist_token(spec, token)
            workload = await self.engine.workload(self.ns, cluster["metadata"]["name"])
            await tokens.ensure(workload, token, ttl=self.engine.token_ttl)
            hashes = list(_spec_get(discovery, "bootstrapToken", "caCertHashes") or []) or [
                certs.ca_cert_hash(ca_pem)
            ]
        role = Role.JOIN_CONTROL_PLANE if control_plane else Role.JOIN_WORKER
        return RenderInput(
            role, spec=self.obj.get("spec") or {}, certs=found, ca_cert_hashes=hashes,
            token=token, **common,
        )  # fmt: skip

    async def _ca_cert(self, cluster: str) -> bytes:
        secret = await self.kube.get(SECRETS, self.ns, certs.secret_name(cluster, "ca"))
        crt = secret_data(secret).get("tls.crt") if secret else None
        if not crt:
            raise WaitingFor(f"waiting for Secret {cluster}-ca", reason="WaitingForCertificates")
        return crt

    async def _persist_token(self, spec: dict[str, Any], token: str) -> None:
        patch = {"spec": {"joinConfiguration": {"discovery": {"bootstrapToken": {"token": token}}}}}
        self.obj = await self.kube.patch(KUBEADM_CONFIGS, self.ns, self.name, patch)
        self.generation = self.obj["metadata"].get("generation")

    async def _store(self, cluster: str, value: bytes, fmt: str) -> None:
        if fmt not in ("cloud-config", "ignition"):
            raise InvalidSpec(f"spec.format {fmt!r} is not supported: use cloud-config or ignition")
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": DATA_SECRET_TYPE,
            "metadata": {
                "name": self.name,
                "labels": {capi.CLUSTER_NAME_LABEL: cluster},
                "ownerReferences": [owner_reference(self.obj, controller=True)],
            },
            "data": {
                "value": base64.b64encode(value).decode(),
                "format": base64.b64encode(fmt.encode()).decode(),
            },
        }
        try:
            await self.kube.create(SECRETS, self.ns, body)
        except Conflict:
            await self.kube.patch(SECRETS, self.ns, self.name, {"data": body["data"]})
        self._mark_stored(self.name, len(value))


async def reconcile(engine: BootstrapEngine, obj: Obj) -> Result:
    return await Reconciler(engine, obj).run()
