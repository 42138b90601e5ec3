"""What cluster and machine reconciles share: the engine's dependencies, credentials, tags,
status writes and Events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from capy import capi, conditions
from capy.errors import InvalidSpec, WaitingFor
from capy.kube import SECRETS, Kube, Obj, Resource, record_event, secret_data
from capy.meta import Condition
from capy.model import KubeModel
from providers.api.v1alpha1 import (
    GROUP,
    VERSION,
    CapyClusterSpec,
    CapyClusterStatus,
    CapyMachineStatus,
)
from providers.core.backend import Backend, Check

CAPY_CLUSTERS = Resource(GROUP, VERSION, "capyclusters", "CapyCluster")
CAPY_MACHINES = Resource(GROUP, VERSION, "capymachines", "CapyMachine")

FINALIZER = "infrastructure.cluster.x-k8s.io/capy"
ALLOWED_NAMESPACES = "capy.io/allowed-namespaces"
OWNED_TAG_PREFIX = "sigs.k8s.io/cluster-api-provider-capy/cluster/"
CLUSTER_UID_TAG = "capy.io/cluster-uid"


@dataclass
class Engine:
    """Dependencies of every reconcile, built once by the operator."""

    kube: Kube
    backends: Mapping[str, Backend]
    controller_namespace: str = "capy-system"
    event_source: str = "capy-infrastructure"
    requeue_ready: float = 300.0
    """Seconds between resyncs of objects that are ready."""
    extra: dict[str, object] = field(default_factory=dict)

    def backend(self, name: str | None) -> Backend:
        if name is None or name not in self.backends:
            enabled = ", ".join(sorted(self.backends)) or "none"
            raise InvalidSpec(
                f"backend {name!r} is not enabled in this controller (enabled: {enabled}); "
                f"start it with --backend {name}",
                reason="BackendNotEnabled",
            )
        return self.backends[name]

    async def event(self, obj: Obj, reason: str, message: str, *, warning: bool = False) -> None:
        await record_event(
            self.kube, obj, reason, message, warning=warning, source=self.event_source
        )

    async def events_for(self, obj: Obj, verb: str, names: Sequence[str]) -> None:
        for name in names:
            await self.event(obj, verb, f"{verb} {name}")


async def credentials(
    engine: Engine, namespace: str, spec: CapyClusterSpec
) -> Mapping[str, bytes] | None:
    """The identityRef Secret's data; None means the controller's own credentials."""
    ref = spec.identity_ref
    if ref is None:
        return None
    secret = await engine.kube.get(SECRETS, namespace, ref.name)
    if secret is not None:
        return secret_data(secret)
    shared = await engine.kube.get(SECRETS, engine.controller_namespace, ref.name)
    if shared is None:
        raise WaitingFor(
            f"identityRef Secret {ref.name} exists neither in {namespace} nor in "
            f"{engine.controller_namespace}",
            reason="IdentityNotFound",
        )
    allowed = [
        n.strip() for n in capi.annotations_of(shared).get(ALLOWED_NAMESPACES, "").split(",")
    ]
    if "*" not in allowed and namespace not in allowed:
        raise InvalidSpec(
            f"identityRef Secret {engine.controller_namespace}/{ref.name} does not admit namespace "
            f"{namespace}: add it to the Secret's {ALLOWED_NAMESPACES} annotation",
            reason="IdentityNotAllowed",
        )
    return secret_data(shared)


def cluster_tags(name: str, uid: str, spec: CapyClusterSpec) -> dict[str, str]:
    """Ownership tags first, so user tags cannot overwrite them."""
    return {**(spec.additional_tags or {}), OWNED_TAG_PREFIX + name: "owned", CLUSTER_UID_TAG: uid}


def apply_checks(
    current: Sequence[Condition], checks: Sequence[Check], generation: int | None
) -> list[Condition]:
    out = list(current)
    for c in checks:
        out = conditions.set_condition(
            out, c.type, c.status, c.reason, c.message, generation=generation
        )
    return out


def not_paused(current: Sequence[Condition], generation: int | None) -> list[Condition]:
    return conditions.set_condition(
        current, conditions.PAUSED, "False", "NotPaused", generation=generation
    )


async def write_condition(
    engine: Engine,
    res: Resource,
    obj: Obj,
    status: CapyClusterStatus | CapyMachineStatus,
    type_: str,
    value: conditions.Status,
    reason: str,
    message: str = "",
    *,
    generation: int | None,
    unpause: bool = False,
) -> None:
    """Set one condition and write the status; with `unpause` also mark Paused=False, as a
    reconcile that got past the pause check does."""
    current = status.conditions or []
    if unpause:
        current = not_paused(current, generation)
    status.conditions = conditions.set_condition(
        current, type_, value, reason, message, generation=generation
    )
    await write_status(engine, res, obj, status)


async def write_status(engine: Engine, res: Resource, obj: Obj, status: KubeModel) -> Obj:
    """Replace the status we own; top-level nulls in the merge patch clear what is no longer
    reported, nested fields are sent only when set."""
    meta = obj["metadata"]
    fields = {f.alias or name for name, f in type(status).model_fields.items()}
    body = {"status": dict.fromkeys(fields) | status.to_kube()}
    return await engine.kube.patch(res, meta["namespace"], meta["name"], body, status=True)
