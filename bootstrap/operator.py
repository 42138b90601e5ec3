"""The bootstrap provider's kopf edge: the only module of bootstrap/ that imports kopf.

Create, update, resume and a timer run the same level-triggered reconcile. The timer is what
keeps join tokens alive until their machine's Node exists, so its interval is a third of the TTL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import kopf

from bootstrap.reconcile import GROUP, KUBEADM_CONFIGS, VERSION, BootstrapEngine, reconcile
from bootstrap.render import BootstrapRenderer
from capy import capi
from capy.errors import ReconcileError
from capy.kube import ApiServer

log = logging.getLogger("capy.bootstrap")

FINALIZER = "bootstrap.cluster.x-k8s.io/capy"
ANNOTATION_PREFIX = "capy.bootstrap.cluster.x-k8s.io"
NUDGE = "capy.io/reconcile-requested-at"


def build_registry(engine: BootstrapEngine) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    resync = max(engine.token_ttl.total_seconds() / 3, 5.0)

    async def changed(body: Any, **_: Any) -> None:
        async with locks[body["metadata"]["uid"]]:
            try:
                await reconcile(engine, dict(body))
            except ReconcileError as err:
                log.info("%s/%s: %s", body["metadata"]["namespace"], body["metadata"]["name"], err)
                raise kopf.TemporaryError(err.message, delay=err.delay) from None

    for on in (kopf.on.create, kopf.on.update, kopf.on.resume):
        on(GROUP, VERSION, "kubeadmconfigs", registry=registry, id="reconcile")(changed)
    kopf.timer(GROUP, VERSION, "kubeadmconfigs", interval=resync, initial_delay=resync / 4,
               registry=registry, id="resync")(changed)  # fmt: skip

    @kopf.on.update(
        "cluster.x-k8s.io", "v1beta2", "clusters", field="spec.paused", registry=registry
    )
    async def cluster_unpaused(body: Any, new: Any, **_: Any) -> None:
        if new:
            return
        ns, name = body["metadata"]["namespace"], body["metadata"]["name"]
        patch = {"metadata": {"annotations": {NUDGE: dt.datetime.now(dt.UTC).isoformat()}}}
        for child in await engine.kube.list(KUBEADM_CONFIGS, ns, {capi.CLUSTER_NAME_LABEL: name}):
            await engine.kube.patch(KUBEADM_CONFIGS, ns, child["metadata"]["name"], patch)

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
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
        settings.posting.enabled = False

    return registry


def run(
    *,
    namespaces: Sequence[str] = (),
    token_ttl: dt.timedelta,
    kubeconfig: str | None = None,
    liveness: str | None = None,
) -> None:
    """Run the bootstrap provider until interrupted."""
    from kubernetes import client, config

    if kubeconfig:
        os.environ["KUBECONFIG"] = kubeconfig  # kopf's login reads it from there
        config.load_kube_config(config_file=kubeconfig)
    else:
        try:
            config.load_incluster_config()
        except config.ConfigException:
            config.load_kube_config()
    engine = BootstrapEngine(
        kube=ApiServer(client.ApiClient()), renderer=BootstrapRenderer(), token_ttl=token_ttl
    )
    asyncio.run(
        kopf.operator(
            registry=build_registry(engine),
            standalone=True,
            clusterwide=not namespaces,
            namespaces=list(namespaces),
            liveness_endpoint=liveness,
        )
    )
