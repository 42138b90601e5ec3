"""The infrastructure provider process against the real API server and upstream CAPI core.

No backend is enabled here, so these tests cover what happens before and instead of any cloud
call: owner lookup, finalizer, pause and the unpause nudge, delete-for-move.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from capy_harness.infra import start_infra_provider
from capy_harness.probe import eventually
from capy_harness.process import ProcessRecord, stop

pytestmark = pytest.mark.integration

G, V = "infrastructure.cluster.x-k8s.io", "v1alpha1"


@pytest.fixture(scope="module")
def operator(kubeconfig: Path, capy_crds: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[ProcessRecord]:  # fmt: skip
    record = start_infra_provider(
        kubeconfig, tmp_path_factory.mktemp("infra") / "capy-infra.log", resync=600
    )
    try:
        yield record
    finally:
        stop(record)


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    return next((c for c in (obj.get("status") or {}).get("conditions", []) if c["type"] == type_),
                None)  # fmt: skip


def capy_cluster(name: str, owner: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {"cluster.x-k8s.io/cluster-name": name}}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster",
                                    "name": owner["metadata"]["name"],
                                    "uid": owner["metadata"]["uid"]}]  # fmt: skip
    return {"apiVersion": f"{G}/{V}", "kind": "CapyCluster", "metadata": meta,
            "spec": {"aws": {"region": "eu-west-1"}}}  # fmt: skip


def test_unowned_cluster_gets_finalizer_and_waits(
    operator: ProcessRecord, api: client.ApiClient, namespace: str
) -> None:
    objs = client.CustomObjectsApi(api)
    objs.create_namespaced_custom_object(G, V, namespace, "capyclusters", capy_cluster("lonely"))

    def waiting() -> dict[str, Any] | None:
        o = objs.get_namespaced_custom_object(G, V, namespace, "capyclusters", "lonely")
        ready = condition(o, "Ready")
        return o if ready and ready["reason"] == "NoOwner" else None

    o = eventually(waiting)
    assert "infrastructure.cluster.x-k8s.io/capy" in o["metadata"]["finalizers"]
    assert not any(k.startswith("kopf.zalando.org") for k in o["metadata"].get("annotations", {}))


def test_pause_then_unpause_nudges_a_reconcile(
    operator: ProcessRecord, api: client.ApiClient, namespace: str
) -> None:
    objs = client.CustomObjectsApi(api)
    cluster = objs.create_namespaced_custom_object(
        "cluster.x-k8s.io", "v1beta2", namespace, "clusters",
        {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster",
         "metadata": {"name": "p1"},
         "spec": {"paused": True,
                  "infrastructureRef": {"apiGroup": G, "kind": "CapyCluster", "name": "p1"}}},
    )  # fmt: skip
    objs.create_namespaced_custom_object(
        G, V, namespace, "capyclusters", capy_cluster("p1", owner=cluster)
    )

    def paused() -> bool:
        o = objs.get_namespaced_custom_object(G, V, namespace, "capyclusters", "p1")
        c = condition(o, "Paused")
        return bool(c and c["status"] == "True")

    eventually(paused)
    objs.patch_namespaced_custom_object(
        "cluster.x-k8s.io", "v1beta2", namespace, "clusters", "p1", {"spec": {"paused": False}}
    )

    def reconciled() -> dict[str, Any] | None:
        o = objs.get_namespaced_custom_object(G, V, namespace, "capyclusters", "p1")
        ready, c = condition(o, "Ready"), condition(o, "Paused")
        return o if ready and c and c["status"] == "False" else None

    # Resync is 600 s: only the unpause nudge can make this happen within the timeout.
    o = eventually(reconciled)
    ready = condition(o, "Ready")
    assert ready is not None and ready["reason"] == "BackendNotEnabled"
    assert "start it with --backend aws" in ready["message"]


def test_delete_for_move_releases_the_finalizer(
    operator: ProcessRecord, api: client.ApiClient, namespace: str
) -> None:
    objs = client.CustomObjectsApi(api)
    objs.create_namespaced_custom_object(G, V, namespace, "capyclusters", capy_cluster("moved"))
    eventually(lambda: objs.get_namespaced_custom_object(
        G, V, namespace, "capyclusters", "moved")["metadata"].get("finalizers"))  # fmt: skip
    objs.patch_namespaced_custom_object(
        G, V, namespace, "capyclusters", "moved",
        {"metadata": {"annotations": {"clusterctl.cluster.x-k8s.io/delete-for-move": ""}}},
    )  # fmt: skip
    objs.delete_namespaced_custom_object(G, V, namespace, "capyclusters", "moved")

    def gone() -> bool:
        try:
            objs.get_namespaced_custom_object(G, V, namespace, "capyclusters", "moved")
        except client.exceptions.ApiException as e:
            return e.status == 404
        return False

    eventually(gone)
