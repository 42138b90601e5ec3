"""The kopf edge both providers share: persistence names, login, pause nudges, error mapping,
and running an operator. Like every operator.py, one of the few modules that import kopf."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import kopf

from capy import capi
from capy.errors import ReconcileError
from capy.kube import ApiServer, Kube, Obj, Resource

T = TypeVar("T")
NUDGE = "capy.io/reconcile-requested-at"


def load_kube(kubeconfig: str | None) -> ApiServer:
    """The API server from a kubeconfig, in-cluster credentials, or $KUBECONFIG, in that order."""
    from kubernetes import client, config

    if kubeconfig:
        os.environ["KUBECONFIG"] = kubeconfig  # kopf's login reads it from there
        config.load_kube_config(config_file=kubeconfig)
    else:
        try:
            config.load_incluster_config()
        except config.ConfigException:
            config.load_kube_config()
    return ApiServer(client.ApiClient())


def serialised(log: logging.Logger) -> Callable[[Any, Callable[[], Awaitable[T]]], Awaitable[T]]:
    """Run one object's reconciles one at a time, with capy errors as kopf retries."""
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def run(body: Any, work: Callable[[], Awaitable[T]]) -> T:
        async with locks[body["metadata"]["uid"]]:
            try:
                return await work()
            except ReconcileError as err:
                # Waiting is normal: say it at INFO and let kopf retry after the error's delay.
                log.info("%s/%s: %s", body["metadata"]["namespace"], body["metadata"]["name"], err)
                raise kopf.TemporaryError(err.message, delay=err.delay) from None

    return run


def register_common(
    registry: kopf.OperatorRegistry,
    *,
    finalizer: str,
    annotation_prefix: str,
    kube: Kube,
    children: Sequence[Resource],
) -> None:
    """Login, persistence names and the unpause nudge of `children` (labelled with the cluster)."""

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        info: kopf.ConnectionInfo | None = kopf.login_with_service_account(
            **kwargs
        ) or kopf.login_with_kubeconfig(**kwargs)
        return info

    @kopf.on.startup(registry=registry)
    async def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        # Same names in every management cluster, so objects moved by clusterctl stay ours.
        settings.persistence.finalizer = finalizer
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(
            prefix=annotation_prefix, v1=False
        )
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
            prefix=annotation_prefix, key="last-handled-configuration", v1=False
        )
        settings.peering.standalone = True
        # We post our own Events; kopf's would repeat log lines.
        settings.posting.enabled = False
        settings.execution.max_workers = 32

    @kopf.on.update(
        "cluster.x-k8s.io", "v1beta2", "clusters", field="spec.paused", registry=registry
    )
    async def cluster_unpaused(body: Any, new: Any, **_: Any) -> None:
        """Wake this cluster's objects at once instead of at their next resync."""
        if new:
            return
        ns, name = body["metadata"]["namespace"], body["metadata"]["name"]
        patch: Obj = {"metadata": {"annotations": {NUDGE: dt.datetime.now(dt.UTC).isoformat()}}}
        for res in children:
            for child in await kube.list(res, ns, {capi.CLUSTER_NAME_LABEL: name}):
                await kube.patch(res, ns, child["metadata"]["name"], patch)


def run(registry: kopf.OperatorRegistry, namespaces: Sequence[str], liveness: str | None) -> None:
    asyncio.run(
        kopf.operator(
            registry=registry,
            standalone=True,
            clusterwide=not namespaces,
            namespaces=list(namespaces),
            liveness_endpoint=liveness,
        )
    )
