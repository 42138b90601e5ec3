from __future__ import annotations

from typing import Any

from capy import capi


def cluster(paused: bool = False, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "metadata": {"name": "c1", "annotations": annotations or {}},
        "spec": {"paused": paused},
        "status": {
            "initialization": {"infrastructureProvisioned": True},
            "conditions": [{"type": "ControlPlaneInitialized", "status": "True"}],
        },
    }


def test_cluster_view_reads_v1beta2_fields() -> None:
    view = capi.ClusterView(cluster())
    assert view.infrastructure_provisioned and view.control_plane_initialized
    assert not view.paused
    assert capi.ClusterView(cluster(paused=True)).paused
    assert capi.ClusterView(cluster(annotations={capi.PAUSED_ANNOTATION: ""})).paused


def test_pause_comes_from_the_cluster_or_the_object() -> None:
    obj = {"metadata": {"name": "m"}}
    assert capi.paused_reason(capi.ClusterView(cluster()), obj) is None
    assert capi.paused_reason(capi.ClusterView(cluster(paused=True)), obj) == (
        "Cluster c1 is paused"
    )
    annotated = {"metadata": {"annotations": {capi.PAUSED_ANNOTATION: "true"}}}
    assert "annotation" in (capi.paused_reason(None, annotated) or "")


def test_no_cloud_deletion_while_moving_or_paused() -> None:
    obj: dict[str, Any] = {"metadata": {"name": "m"}}
    assert capi.cloud_delete_allowed(capi.ClusterView(cluster()), obj)
    moving = {"metadata": {"annotations": {capi.DELETE_FOR_MOVE_ANNOTATION: ""}}}
    assert not capi.cloud_delete_allowed(capi.ClusterView(cluster()), moving)
    assert not capi.cloud_delete_allowed(capi.ClusterView(cluster(paused=True)), obj)


def test_machine_view() -> None:
    m = capi.MachineView(
        {
            "metadata": {
                "labels": {capi.CONTROL_PLANE_LABEL: "", capi.CLUSTER_NAME_LABEL: "c1"},
                "ownerReferences": [
                    {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "MachineSet", "name": "s"}
                ],
            },
            "spec": {"bootstrap": {"dataSecretName": "m-data"}, "failureDomain": "az-a"},
        }
    )
    assert (m.cluster_name, m.is_control_plane, m.data_secret_name, m.failure_domain) == (
        "c1",
        True,
        "m-data",
        "az-a",
    )
    assert not m.has_node
    assert capi.owner(m.obj, "MachineSet") == "s"
    assert capi.owner(m.obj, "Machine") is None
