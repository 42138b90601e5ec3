"""The infrastructure provider's kopf edge: the only module of providers/ that imports kopf.

Every handler is a two-line adapter around the level-triggered reconcile functions of
providers.core. Create, update, resume and a resync timer all run the same reconcile, one at a
time per object.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import kopf

from capy import operator as edge
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


def load_backend(name: str) -> Backend:
    if name not in BACKENDS:
        raise SystemExit(f"unknown backend {name!r}; known: {', '.join(sorted(BACKENDS))}")
    module, _, attr = BACKENDS[name].partition(":")
    backend: Backend = getattr(importlib.import_module(module), attr)()
    return backend


def build_registry(engine: Engine, resync: float) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    serialised = edge.serialised(log)

    for plural, rec in (("capyclusters", cluster_rec), ("capymachines", machine_rec)):

        async def changed(body: Any, _r: Any = rec.reconcile, **_: Any) -> None:
            await serialised(body, lambda: _r(engine, dict(body)))

        async def deleted(body: Any, _d: Any = rec.reconcile_delete, **_: Any) -> None:
            await serialised(body, lambda: _d(engine, dict(body)))

        for on in (kopf.on.create, kopf.on.update, kopf.on.resume):
            on(GROUP, VERSION, plural, registry=registry, id=f"reconcile-{plural}")(changed)
        kopf.timer(
            GROUP, VERSION, plural, interval=resync, initial_delay=resync / 4,
            registry=registry, id=f"resync-{plural}",
        )(changed)  # fmt: skip
        kopf.on.delete(GROUP, VERSION, plural, registry=registry, id=f"delete-{plural}")(deleted)

    edge.register_common(
        registry, finalizer=FINALIZER, annotation_prefix=ANNOTATION_PREFIX, kube=engine.kube,
        children=(CAPY_CLUSTERS, CAPY_MACHINES),
    )  # fmt: skip
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
    engine = Engine(
        kube=edge.load_kube(kubeconfig),
        backends={name: load_backend(name) for name in backends},
        controller_namespace=controller_namespace,
    )
    edge.run(build_registry(engine, resync), namespaces, liveness)
