"""Read-only views of upstream Cluster API objects, and the pause and move rules.

Both providers read Clusters and Machines as plain dicts from the API server; these views name
the v1beta2 fields they use in one place, so a contract change is a change here only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CLUSTER_NAME_LABEL = "cluster.x-k8s.io/cluster-name"
CONTROL_PLANE_LABEL = "cluster.x-k8s.io/control-plane"
PAUSED_ANNOTATION = "cluster.x-k8s.io/paused"
DELETE_FOR_MOVE_ANNOTATION = "clusterctl.cluster.x-k8s.io/delete-for-move"
MANAGED_BY = "cluster.x-k8s.io/managed-by"
CAPI_GROUP = "cluster.x-k8s.io"

Obj = Mapping[str, Any]


def _meta(obj: Obj) -> Mapping[str, Any]:
    meta: Mapping[str, Any] = obj.get("metadata") or {}
    return meta


def annotations_of(obj: Obj) -> Mapping[str, str]:
    value: Mapping[str, str] = _meta(obj).get("annotations") or {}
    return value


def labels_of(obj: Obj) -> Mapping[str, str]:
    value: Mapping[str, str] = _meta(obj).get("labels") or {}
    return value


def _conditions(obj: Obj) -> list[Mapping[str, Any]]:
    value: list[Mapping[str, Any]] = (obj.get("status") or {}).get("conditions") or []
    return value


def condition_true(obj: Obj, type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True" for c in _conditions(obj))


def owner(obj: Obj, kind: str, group: str = CAPI_GROUP) -> str | None:
    """Name of the first owner of `kind` in `group`, whatever its version."""
    for ref in _meta(obj).get("ownerReferences") or []:
        if ref.get("kind") == kind and str(ref.get("apiVersion", "")).split("/")[0] == group:
            name: str = ref["name"]
            return name
    return None


@dataclass(frozen=True)
class ClusterView:
    obj: Obj

    @property
    def name(self) -> str:
        name: str = _meta(self.obj)["name"]
        return name

    @property
    def paused(self) -> bool:
        return bool((self.obj.get("spec") or {}).get("paused")) or (
            PAUSED_ANNOTATION in annotations_of(self.obj)
        )

    @property
    def infrastructure_provisioned(self) -> bool:
        init = (self.obj.get("status") or {}).get("initialization") or {}
        return bool(init.get("infrastructureProvisioned"))

    @property
    def control_plane_initialized(self) -> bool:
        return condition_true(self.obj, "ControlPlaneInitialized")


@dataclass(frozen=True)
class MachineView:
    obj: Obj

    @property
    def spec(self) -> Mapping[str, Any]:
        spec: Mapping[str, Any] = self.obj.get("spec") or {}
        return spec

    @property
    def cluster_name(self) -> str | None:
        return self.spec.get("clusterName") or labels_of(self.obj).get(CLUSTER_NAME_LABEL)

    @property
    def is_control_plane(self) -> bool:
        return CONTROL_PLANE_LABEL in labels_of(self.obj)

    @property
    def data_secret_name(self) -> str | None:
        value: str | None = (self.spec.get("bootstrap") or {}).get("dataSecretName")
        return value

    @property
    def failure_domain(self) -> str | None:
        value: str | None = self.spec.get("failureDomain") or None
        return value

    @property
    def version(self) -> str | None:
        value: str | None = self.spec.get("version")
        return value

    @property
    def has_node(self) -> bool:
        return bool((self.obj.get("status") or {}).get("nodeRef"))


def paused_reason(cluster: ClusterView | None, obj: Obj) -> str | None:
    """Why reconciling `obj` must wait, or None: Cluster.spec.paused or the paused annotation."""
    if PAUSED_ANNOTATION in annotations_of(obj):
        return f"the object has the {PAUSED_ANNOTATION} annotation"
    if cluster is not None and cluster.paused:
        return f"Cluster {cluster.name} is paused"
    return None


def cloud_delete_allowed(cluster: ClusterView | None, obj: Obj) -> bool:
    """False while `clusterctl move` deletes the source copy: the cloud now belongs to the target.

    clusterctl marks every moved object with the delete-for-move annotation and pauses the
    Cluster first; deleting cloud resources in either state would destroy the moved cluster.
    """
    moving = DELETE_FOR_MOVE_ANNOTATION in annotations_of(obj)
    return not moving and paused_reason(cluster, obj) is None


def externally_managed(obj: Obj) -> bool:
    """CAPI's managed-by marker (an annotation in code, a label in some docs: honour both)."""
    return MANAGED_BY in annotations_of(obj) or MANAGED_BY in labels_of(obj)
