"""Reconcile of a CapyMachine: the InfraMachine contract, whatever the backend.

A machine is created at most once. Once `spec.providerID` is set the backend only observes: an
instance deleted or stopped behind our back is reported (Ready=False) and left to Cluster API's
remediation, never silently replaced.
"""

from __future__ import annotations

from dataclasses import dataclass

from capy import capi, conditions
from capy.errors import InvalidSpec, ReconcileError, WaitingFor
from capy.faults import crash_point
from capy.kube import CLUSTERS, MACHINES, SECRETS, Obj, secret_data
from providers.api.v1alpha1 import CapyClusterStatus, CapyMachineSpec, CapyMachineStatus
from providers.core.backend import MachineRequest, backend_of
from providers.core.cluster import request_for as cluster_request_for
from providers.core.engine import (
    CAPY_CLUSTERS,
    CAPY_MACHINES,
    Engine,
    apply_checks,
    not_paused,
    write_condition,
    write_status,
)


@dataclass(frozen=True)
class Context:
    machine: capi.MachineView
    cluster: capi.ClusterView | None
    capy_cluster: Obj | None


async def context(engine: Engine, obj: Obj) -> Context:
    ns = obj["metadata"]["namespace"]
    name = capi.owner(obj, "Machine")
    if name is None:
        raise WaitingFor("waiting for Cluster API to set the owner Machine", reason="NoOwner")
    machine = await engine.kube.get(MACHINES, ns, name)
    if machine is None:
        raise WaitingFor(f"owner Machine {name} not found", reason="NoOwner")
    mv = capi.MachineView(machine)
    cluster_name = mv.cluster_name
    cluster = await engine.kube.get(CLUSTERS, ns, cluster_name) if cluster_name else None
    if cluster is None:
        return Context(mv, None, None)
    ref = (cluster.get("spec") or {}).get("infrastructureRef") or {}
    capy_cluster = None
    if ref.get("kind") == "CapyCluster":
        capy_cluster = await engine.kube.get(CAPY_CLUSTERS, ns, ref["name"])
    return Context(mv, capi.ClusterView(cluster), capy_cluster)


async def request_for(engine: Engine, obj: Obj, ctx: Context, *, create: bool) -> MachineRequest:
    meta = obj["metadata"]
    if ctx.capy_cluster is None:
        raise WaitingFor("the Cluster's CapyCluster does not exist yet", reason="WaitingForCluster")
    spec = CapyMachineSpec.model_validate(obj.get("spec") or {})
    cluster_req = await cluster_request_for(engine, ctx.capy_cluster)
    mine, theirs = backend_of(spec), backend_of(cluster_req.spec)
    if mine != theirs:
        raise InvalidSpec(
            f"this CapyMachine uses backend {mine} but its CapyCluster "
            f"{ctx.capy_cluster['metadata']['name']} uses {theirs}: "
            f"use a CapyMachineTemplate with a {theirs} block",
            reason="BackendMismatch",
        )
    data, fmt = None, "cloud-config"
    if create:
        secret_name = ctx.machine.data_secret_name
        if not secret_name:
            raise WaitingFor("waiting for the bootstrap data Secret", reason="WaitingForBootstrap")
        secret = await engine.kube.get(SECRETS, meta["namespace"], secret_name)
        if secret is None:
            raise WaitingFor(
                f"bootstrap Secret {secret_name} not found", reason="WaitingForBootstrap"
            )
        decoded = secret_data(secret)
        if "value" not in decoded:
            raise WaitingFor(
                f"bootstrap Secret {secret_name} has no value", reason="WaitingForBootstrap"
            )
        data = decoded["value"]
        fmt = decoded.get("format", b"cloud-config").decode()
    return MachineRequest(
        name=meta["name"],
        namespace=meta["namespace"],
        uid=meta["uid"],
        spec=spec,
        cluster=cluster_req,
        cluster_status=CapyClusterStatus.model_validate(ctx.capy_cluster.get("status") or {}),
        failure_domain=ctx.machine.failure_domain,
        control_plane=ctx.machine.is_control_plane,
        version=ctx.machine.version,
        provider_id=spec.provider_id,
        bootstrap_data=data,
        bootstrap_format=fmt,
    )


@dataclass(frozen=True)
class Result:
    provisioned: bool = False
    paused: bool = False


async def reconcile(engine: Engine, obj: Obj) -> Result:
    meta = obj["metadata"]
    generation = meta.get("generation")
    status = CapyMachineStatus.model_validate(obj.get("status") or {})
    conds = list(status.conditions or [])
    try:
        ctx = await context(engine, obj)
        paused = capi.paused_reason(ctx.cluster, obj)
        if paused:
            await write_condition(
                engine, CAPY_MACHINES, obj, status,
                conditions.PAUSED, "True", "Paused", paused, generation=generation,
            )  # fmt: skip
            return Result(paused=True)
        known = CapyMachineSpec.model_validate(obj.get("spec") or {}).provider_id
        if ctx.cluster is None or not (known or ctx.cluster.infrastructure_provisioned):
            raise WaitingFor(
                "waiting for the Cluster's infrastructure to be provisioned",
                reason="WaitingForClusterInfrastructure",
            )
        req = await request_for(engine, obj, ctx, create=not known)
        backend = engine.backend(backend_of(req.spec))
        outcome = await backend.reconcile_machine(req)
    except ReconcileError as err:
        await write_condition(
            engine, CAPY_MACHINES, obj, status,
            conditions.READY, "False", err.reason, err.message, generation=generation, unpause=True,
        )  # fmt: skip
        raise

    await engine.events_for(obj, "Created", outcome.created)
    if outcome.provider_id and not req.provider_id:
        # providerID before provisioned, as the contract asks.
        body = {"spec": {"providerID": outcome.provider_id}}
        obj = await engine.kube.patch(CAPY_MACHINES, meta["namespace"], meta["name"], body)
        # Our own spec write bumps the generation the status describes.
        generation = obj["metadata"].get("generation")
        crash_point("machine.after-provider-id")
    if outcome.state in ("terminated", "missing", "stopped") and req.provider_id:
        await engine.event(
            obj, "InstanceGone", f"instance {req.provider_id} is {outcome.state}", warning=True
        )

    conds = apply_checks(not_paused(conds, generation), outcome.checks, generation)
    was = bool(status.initialization and status.initialization.provisioned)
    provisioned = was or (outcome.ready and bool(outcome.provider_id))
    status = CapyMachineStatus.model_validate(
        {
            "initialization": {"provisioned": provisioned},
            "addresses": [a.to_kube() for a in outcome.addresses] or None,
            "failureDomain": outcome.failure_domain,
            "conditions": [
                c.to_kube()
                for c in conditions.summarise_ready(
                    conds, [c.type for c in outcome.checks], generation=generation
                )
            ],
            "backend": backend.name,
            "observedGeneration": generation,
            backend.name: dict(outcome.status) or None,
        }
    )
    await write_status(engine, CAPY_MACHINES, obj, status)
    crash_point("machine.after-status")
    return Result(provisioned=provisioned)


async def reconcile_delete(engine: Engine, obj: Obj) -> bool:
    """Delete the machine's cloud resources; True when the finalizer may go."""
    meta = obj["metadata"]
    if capi.DELETE_FOR_MOVE_ANNOTATION in capi.annotations_of(obj):
        return True
    try:
        ctx = await context(engine, obj)
    except WaitingFor:
        ctx = Context(capi.MachineView({}), None, None)
    if not capi.cloud_delete_allowed(ctx.cluster, obj):
        raise WaitingFor("deletion waits until the Cluster is unpaused", reason="Paused")
    if ctx.capy_cluster is None:
        raise WaitingFor(
            "cannot delete the instance: its CapyCluster (credentials, region) is gone",
            reason="WaitingForCluster",
        )
    req = await request_for(engine, obj, ctx, create=False)
    deletion = await engine.backend(backend_of(req.spec)).delete_machine(req)
    await engine.events_for(obj, "Deleted", deletion.deleted)
    if not deletion.done:
        status = CapyMachineStatus.model_validate(obj.get("status") or {})
        await write_condition(
            engine, CAPY_MACHINES, obj, status,
            conditions.READY, "False", "Deleting", deletion.waiting_on,
            generation=meta.get("generation"),
        )  # fmt: skip
        raise WaitingFor(deletion.waiting_on or "deleting the instance", reason="Deleting")
    return True
