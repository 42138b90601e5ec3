"""What a cloud backend implements, and the requests and outcomes it exchanges with the engine.

The engine owns Kubernetes: it reads the objects, resolves credentials and bootstrap data,
writes spec, status, conditions and Events. A backend owns its cloud: it creates, finds,
observes and deletes resources, idempotently, and reports what it saw in these dataclasses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from capy.meta import APIEndpoint, FailureDomain, MachineAddress
from providers.api.v1alpha1 import CapyClusterSpec, CapyClusterStatus, CapyMachineSpec

CheckStatus = Literal["True", "False", "Unknown"]


@dataclass(frozen=True)
class Check:
    """One condition a backend reports, e.g. VPCReady=True or InstanceReady=False."""

    type: str
    status: CheckStatus
    reason: str
    message: str = ""


@dataclass(frozen=True)
class ClusterRequest:
    name: str
    namespace: str
    uid: str
    spec: CapyClusterSpec
    credentials: Mapping[str, bytes] | None
    """Data of the identityRef Secret, or None for the controller's own credentials."""
    tags: Mapping[str, str]
    """Tags every resource of the cluster carries: ownership, cluster name, user tags."""


@dataclass(frozen=True)
class ClusterOutcome:
    ready: bool
    endpoint: APIEndpoint | None
    failure_domains: Sequence[FailureDomain]
    checks: Sequence[Check]
    status: Mapping[str, Any] = field(default_factory=dict)
    """Backend block of CapyCluster.status (e.g. {"vpcID": ...})."""
    created: Sequence[str] = ()
    """Human-readable names of resources created by this call, for Events."""


@dataclass(frozen=True)
class MachineRequest:
    name: str
    namespace: str
    uid: str
    spec: CapyMachineSpec
    cluster: ClusterRequest
    cluster_status: CapyClusterStatus
    failure_domain: str | None
    control_plane: bool
    version: str | None
    provider_id: str | None
    """Set once the machine was provisioned: the backend then observes and never creates."""
    bootstrap_data: bytes | None
    bootstrap_format: str = "cloud-config"


@dataclass(frozen=True)
class MachineOutcome:
    provider_id: str | None
    ready: bool
    state: str
    """The cloud's word for the machine's state (pending, running, terminated, missing, ...)."""
    addresses: Sequence[MachineAddress] = ()
    failure_domain: str | None = None
    checks: Sequence[Check] = ()
    status: Mapping[str, Any] = field(default_factory=dict)
    created: Sequence[str] = ()


@dataclass(frozen=True)
class Deletion:
    done: bool
    """True when nothing of ours is left in the cloud."""
    deleted: Sequence[str] = ()
    waiting_on: str = ""
    """What deletion still waits for, when not done."""


class Backend(Protocol):
    """One cloud. Every method is idempotent and safe to call again after a crash."""

    name: str

    async def reconcile_cluster(self, req: ClusterRequest) -> ClusterOutcome: ...

    async def delete_cluster(self, req: ClusterRequest) -> Deletion: ...

    async def reconcile_machine(self, req: MachineRequest) -> MachineOutcome: ...

    async def delete_machine(self, req: MachineRequest) -> Deletion: ...


def backend_of(spec: CapyClusterSpec | CapyMachineSpec) -> str | None:
    """The name of the one backend block set in `spec` (the CRD enforces exactly one)."""
    from providers.api.v1alpha1 import BACKENDS

    present = [b for b in BACKENDS if getattr(spec, b) is not None]
    return present[0] if len(present) == 1 else None
