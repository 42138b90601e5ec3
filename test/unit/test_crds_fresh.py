"""The committed CRDs are exactly what the pydantic models generate."""

from __future__ import annotations

from capy import crd
from capy.cli import all_kinds
from capy.crd import CRD_DIR


def test_generated_crds_are_committed_and_fresh() -> None:
    stale = crd.stale(all_kinds(), CRD_DIR)
    assert not stale, f"stale CRDs {stale}: run `make crds` and commit"


def test_every_field_has_a_description() -> None:
    def walk(node: dict[str, object], path: str, missing: list[str]) -> None:
        for name, child in (node.get("properties") or {}).items():  # type: ignore[attr-defined]
            if name not in ("apiVersion", "kind", "metadata") and not child.get("description"):
                missing.append(f"{path}.{name}")
            walk(child, f"{path}.{name}", missing)
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{path}[]", missing)  # type: ignore[arg-type]

    missing: list[str] = []
    for kind in all_kinds():
        for version in crd.crd(kind)["spec"]["versions"]:
            walk(version["schema"]["openAPIV3Schema"], kind.kind, missing)
    assert not missing, f"fields without description (kubectl explain shows nothing): {missing}"
