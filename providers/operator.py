"""The infrastructure provider's kopf edge: the only module of providers/ that imports kopf.

Every handler is a two-line adapter around the level-triggered reconcile functions of
providers.core. Create, update, resume and a resync timer all run the same reconcile; a per-object
lock keeps the timer and an event handler from reconciling one object at the same time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import logging
import os
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import kopf

from capy import capi
from capy.errors import ReconcileError
from capy.kube import ApiServer, Obj
from providers.api.v1alpha1 import GROUP, VERSION
from providers.core import cluster as cluster_rec
from providers.core import machine as machine_rec
from providers.core.backend import Backend
from providers.core.engine import CAPY_CLUSTERS, CAPY_MACHINES, FINALIZER, Engine

log = logging.getLogger("capy.infrastructure")

# One line per backend: adding a cloud means adding its package and a line here.
BACKENDS: Mapping[str, str] = {
    "aws": "providers.aws.reconcile:AWSBackend",
}
ANNOTATION_PREFIX = "capy.infrastructure.cluster.x-k8s.io"
NUDGE = "capy.io/reconcile-requested-at"

T = TypeVar("T")


def load_backend(name: str) -> Backend:
    if name not in BACKENDS:
        raise SystemExit(f"unknown backend {name!r}; known: {', '.join(sorted(BACKENDS))}")
    module, _, attr = BACKENDS[name].partition(":")
    backend: Backend = getattr(importlib.import_module(module), attr)()
    return backend


def build_registry(engine: Engine, resync: float) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def guarded(body: Any, fn: Callable[[Engine, Obj], Awaitable[T]]) -> T:
        async with locks[body["metadata"]["uid"]]:
            try:
                return await fn(engine, dict(body))
            except ReconcileError as err:
                # Waiting is normal: say it at INFO and let kopf retry after the error's delay.
                log.info("%s/%s: %s", body["metadata"]["namespace"], body["metadata"]["name"], err)
                raise kopf.TemporaryError(err.message, delay=err.delay) from None

    for plural, rec in (("capyclusters", cluster_rec), ("capymachines", machine_rec)):
        reconcile, reconcile_delete = rec.reconcile, rec.reconcile_delete

        async def changed(body: Any, _r: Any = reconcile, **_: Any) -> None:
            await guarded(body, _r)

        async def deleted(body: Any, _d: Any = reconcile_delete, **_: Any) -> None:
            await guarded(body, _d)

        for on in (kopf.on.create, kopf.on.update, kopf.on.resume):
            on(GROUP, VERSION, plural, registry=registry, id=f"reconcile-{plural}")(changed)
        kopf.timer(
            GROUP, VERSION, plural, interval=resync, initial_delay=resync / 4,
            registry=registry, id=f"resync-{plural}",
        )(changed)  # fmt: skip
        kopf.on.delete(GROUP, VERSION, plural, registry=registry, id=f"delete-{plural}")(deleted)

    @kopf.on.update(
        "cluster.x-k8s.io", "v1beta2", "clusters", field="spec.paused", registry=registry
    )
    async def cluster_unpaused(body: Any, new: Any, **_: Any) -> None:
        """Wake this cluster's objects at once instead of at their next resync."""
        if new:
            return
        ns, name = body["metadata"]["namespace"], body["metadata"]["name"]
        stamp = dt.datetime.now(dt.UTC).isoformat()
        patch = {"metadata": {"annotations": {NUDGE: stamp}}}
        for res in (CAPY_CLUSTERS, CAPY_MACHINES):
            for child in await engine.kube.list(res, ns, {capi.CLUSTER_NAME_LABEL: name}):
                await engine.kube.patch(res, ns, child["metadata"]["name"], patch)

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        # The same source the kubernetes client used in run(): in-cluster or $KUBECONFIG.
        info: kopf.ConnectionInfo | None = kopf.login_with_service_account(
            **kwargs
        ) or kopf.login_with_kubeconfig(**kwargs)
        return info

    @kopf.on.startup(registry=registry)
    async def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        # Same names in every management cluster, so objects moved by clusterctl stay ours.
        settings.persistence.finalizer = FINALIZER
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(
            prefix=ANNOTATION_PREFIX, v1=False
        )
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
            prefix=ANNOTATION_PREFIX, key="last-handled-configuration", v1=False
        )
        settings.peering.standalone = True
        # We post our own Events; kopf's would repeat log lines.
        settings.posting.enabled = False
        settings.execution.max_workers = 32

    return registry


def run(
    backends: Sequence[str],
    *,
    namespaces: Sequence[str] = (),
    controller_namespace: str = "capy-system",
    resync: float = 300.0,
    kubeconfig: str | None = None,
    liveness: str | None = None,
) -> None:
    """Run the infrastructure provider until interrupted."""
    from kubernetes import client, config

    if kubeconfig:
        # kopf's login loads the kubeconfig again by itself, from $KUBECONFIG.
        os.environ["KUBECONFIG"] = kubeconfig
        config.load_kube_config(config_file=kubeconfig)
    else:
        try:
            config.load_incluster_config()
        except config.ConfigException:
            config.load_kube_config()
    engine = Engine(
        kube=ApiServer(client.ApiClient()),
        backends={name: load_backend(name) for name in backends},
        controller_namespace=controller_namespace,
    )
    registry = build_registry(engine, resync)
    asyncio.run(
        kopf.operator(
            registry=registry,
            standalone=True,
            clusterwide=not namespaces,
            namespaces=list(namespaces),
            liveness_endpoint=liveness,
        )
    )
