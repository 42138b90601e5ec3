"""The bootstrap provider's kopf edge: the only module of bootstrap/ that imports kopf.

Create, update, resume and a timer run the same level-triggered reconcile. The timer is what
keeps join tokens alive until their machine's Node exists, so its interval is a third of the TTL.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

import kopf

from bootstrap.reconcile import GROUP, KUBEADM_CONFIGS, VERSION, BootstrapEngine, reconcile
from bootstrap.render import BootstrapRenderer
from capy import operator as edge

log = logging.getLogger("capy.bootstrap")

FINALIZER = "bootstrap.cluster.x-k8s.io/capy"
ANNOTATION_PREFIX = "capy.bootstrap.cluster.x-k8s.io"


def build_registry(engine: BootstrapEngine) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    serialised = edge.serialised(log)
    resync = max(engine.token_ttl.total_seconds() / 3, 5.0)

    async def changed(body: Any, **_: Any) -> None:
        await serialised(body, lambda: reconcile(engine, dict(body)))

    for on in (kopf.on.create, kopf.on.update, kopf.on.resume):
        on(GROUP, VERSION, "kubeadmconfigs", registry=registry, id="reconcile")(changed)
    kopf.timer(GROUP, VERSION, "kubeadmconfigs", interval=resync, initial_delay=resync / 4,
               registry=registry, id="resync")(changed)  # fmt: skip
    edge.register_common(
        registry, finalizer=FINALIZER, annotation_prefix=ANNOTATION_PREFIX, kube=engine.kube,
        children=(KUBEADM_CONFIGS,),
    )  # fmt: skip
    return registry


def run(
    *,
    namespaces: Sequence[str] = (),
    token_ttl: dt.timedelta,
    kubeconfig: str | None = None,
    liveness: str | None = None,
) -> None:
    """Run the bootstrap provider until interrupted."""
    engine = BootstrapEngine(
        kube=edge.load_kube(kubeconfig), renderer=BootstrapRenderer(), token_ttl=token_ttl
    )
    edge.run(build_registry(engine), namespaces, liveness)
