"""Reconcile of a CapyCluster: the InfraCluster contract, whatever the backend.

Level-triggered: every call looks at the object, its Cluster and the cloud, makes the cloud
match, and rewrites the whole status. It is what the create, update, resume and resync
handlers all run, so a moved object with an empty status is rebuilt by the next resync.
"""

from __future__ import annotations

from dataclasses import dataclass

from capy import capi, conditions
from capy.errors import ReconcileError, WaitingFor
from capy.kube import CLUSTERS, Obj
from providers.api.v1alpha1 import CapyClusterSpec, CapyClusterStatus
from providers.core.backend import ClusterRequest, backend_of
from providers.core.engine import (
    CAPY_CLUSTERS,
    Engine,
    apply_checks,
    cluster_tags,
    credentials,
    not_paused,
    write_condition,
    write_status,
)

READY_FROM = ("InfrastructureProvisioned",)


@dataclass(frozen=True)
class Result:
    """What the operator needs to schedule the next look."""

    provisioned: bool = False
    paused: bool = False
    skipped: str = ""


async def owner_cluster(engine: Engine, obj: Obj) -> capi.ClusterView:
    meta = obj["metadata"]
    name = capi.owner(obj, "Cluster")
    if name is None:
        raise WaitingFor("waiting for Cluster API to set the owner Cluster", reason="NoOwner")
    cluster = await engine.kube.get(CLUSTERS, meta["namespace"], name)
    if cluster is None:
        raise WaitingFor(f"owner Cluster {name} not found", reason="NoOwner")
    return capi.ClusterView(cluster)


async def request_for(engine: Engine, obj: Obj) -> ClusterRequest:
    meta = obj["metadata"]
    spec = CapyClusterSpec.model_validate(obj.get("spec") or {})
    return ClusterRequest(
        name=meta["name"],
        namespace=meta["namespace"],
        uid=meta["uid"],
        spec=spec,
        credentials=await credentials(engine, meta["namespace"], spec),
        tags=cluster_tags(meta["name"], meta["uid"], spec),
    )


async def reconcile(engine: Engine, obj: Obj) -> Result:
    meta = obj["metadata"]
    generation = meta.get("generation")
    status = CapyClusterStatus.model_validate(obj.get("status") or {})
    conds = list(status.conditions or [])
    try:
        if capi.externally_managed(obj):
            return Result(skipped="externally managed")
        cluster = await owner_cluster(engine, obj)
        paused = capi.paused_reason(cluster, obj)
        if paused:
            await write_condition(
                engine, CAPY_CLUSTERS, obj, status,
                conditions.PAUSED, "True", "Paused", paused, generation=generation,
            )  # fmt: skip
            return Result(paused=True)

        req = await request_for(engine, obj)
        backend = engine.backend(backend_of(req.spec))
        outcome = await backend.reconcile_cluster(req)
    except ReconcileError as err:
        await write_condition(
            engine, CAPY_CLUSTERS, obj, status,
            conditions.READY, "False", err.reason, err.message, generation=generation, unpause=True,
        )  # fmt: skip
        raise

    await engine.events_for(obj, "Created", outcome.created)
    endpoint = req.spec.control_plane_endpoint
    if endpoint is None and outcome.endpoint is not None:
        endpoint = outcome.endpoint
        body = {"spec": {"controlPlaneEndpoint": endpoint.to_kube()}}
        obj = await engine.kube.patch(CAPY_CLUSTERS, meta["namespace"], meta["name"], body)
        # Our own spec write bumps the generation the status describes.
        generation = obj["metadata"].get("generation")

    provisioned = outcome.ready and endpoint is not None
    conds = apply_checks(not_paused(conds, generation), outcome.checks, generation)
    conds = conditions.set_condition(
        conds,
        "InfrastructureProvisioned",
        "True" if provisioned else "False",
        "Provisioned" if provisioned else "Provisioning",
        "" if provisioned else "waiting for the cloud resources and the API server endpoint",
        generation=generation,
    )
    ready_from = [*READY_FROM, *(c.type for c in outcome.checks)]
    was_provisioned = bool(status.initialization and status.initialization.provisioned)
    status = CapyClusterStatus.model_validate(
        {
            # Sticky: Cluster API never un-provisions a cluster.
            "initialization": {"provisioned": provisioned or was_provisioned},
            "failureDomains": [fd.to_kube() for fd in outcome.failure_domains] or None,
            "conditions": [
                c.to_kube()
                for c in conditions.summarise_ready(conds, ready_from, generation=generation)
            ],
            "backend": backend.name,
            "observedGeneration": generation,
            backend.name: dict(outcome.status) or None,
        }
    )
    await write_status(engine, CAPY_CLUSTERS, obj, status)
    return Result(provisioned=provisioned)


async def reconcile_delete(engine: Engine, obj: Obj) -> bool:
    """Delete the cluster's cloud resources; True when the finalizer may go."""
    meta = obj["metadata"]
    try:
        cluster: capi.ClusterView | None = await owner_cluster(engine, obj)
    except WaitingFor:
        cluster = None  # Owner already gone: nothing pauses us any more.
    if capi.DELETE_FOR_MOVE_ANNOTATION in capi.annotations_of(obj):
        return True  # clusterctl move: the cloud now belongs to the target management cluster.
    if not capi.cloud_delete_allowed(cluster, obj):
        raise WaitingFor("deletion waits until the Cluster is unpaused", reason="Paused")
    if capi.externally_managed(obj):
        return True
    req = await request_for(engine, obj)
    backend = engine.backend(backend_of(req.spec))
    deletion = await backend.delete_cluster(req)
    await engine.events_for(obj, "Deleted", deletion.deleted)
    if not deletion.done:
        status = CapyClusterStatus.model_validate(obj.get("status") or {})
        await write_condition(
            engine, CAPY_CLUSTERS, obj, status,
            conditions.READY, "False", "Deleting", deletion.waiting_on,
            generation=meta.get("generation"),
        )  # fmt: skip
        raise WaitingFor(deletion.waiting_on or "deleting cloud resources", reason="Deleting")
    return True
