"""CustomResourceDefinitions generated from pydantic models, the single source of truth.

pydantic emits JSON Schema (draft 2020-12) with `$ref`s, `anyOf` for optional fields and titles;
the API server wants a structural OpenAPI v3 schema: everything inline, one type per node, no
`additionalProperties: false`. `structural()` does that translation and keeps `x-kubernetes-*`
keywords that models declare in `json_schema_extra`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

# Where the generated CRDs live in the repository (the source of config/ manifests).
CRD_DIR = Path(__file__).resolve().parent.parent / "config" / "crd"

# Keywords that carry meaning for the API server; everything else pydantic writes is dropped.
_KEEP = {
    "type",
    "description",
    "properties",
    "required",
    "items",
    "additionalProperties",
    "enum",
    "format",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "nullable",
    "default",
}
# A CRD default is opt-in (`json_schema_extra={"x-capy-default": ...}`): pydantic's own defaults
# describe Python construction, not what the API server should write into stored objects.
_CRD_DEFAULT = "x-capy-default"
_FORMATS = {"date-time", "int32", "int64", "byte", "duration"}


class SchemaError(ValueError):
    """The model cannot be expressed as a structural schema."""


def structural(model: type[BaseModel]) -> dict[str, Any]:
    """The structural OpenAPI v3 schema of `model`, with descriptions and validations."""
    schema = model.model_json_schema(by_alias=True, mode="validation")
    defs = schema.pop("$defs", {})
    return _convert(schema, defs, ())


def _convert(node: dict[str, Any], defs: dict[str, Any], seen: tuple[str, ...]) -> dict[str, Any]:
    node = copy.deepcopy(node)
    if "$ref" in node:
        name = node.pop("$ref").rsplit("/", 1)[-1]
        if name in seen:
            raise SchemaError(f"{name} refers to itself; CRD schemas cannot be recursive")
        # Field-level keys (description, validations) win over the referenced model's.
        return {**_convert(defs[name], defs, (*seen, name)), **_convert(node, defs, seen)}

    options = node.pop("anyOf", None) or node.pop("oneOf", None)
    if options is not None:
        concrete = [o for o in options if o.get("type") != "null"]
        if len(concrete) != 1:
            raise SchemaError(f"union of several types is not structural: {options}")
        return {**_convert(concrete[0], defs, seen), **_convert(node, defs, seen)}
    if "allOf" in node:
        parts = node.pop("allOf")
        merged: dict[str, Any] = {}
        for part in parts:
            merged.update(_convert(part, defs, seen))
        return {**merged, **_convert(node, defs, seen)}

    out: dict[str, Any] = {}
    if "const" in node:
        out["enum"] = [node.pop("const")]
    for key, value in node.items():
        if key.startswith("x-kubernetes-"):
            out[key] = value
        elif key == "description":
            # Attribute docstrings keep their line breaks; kubectl explain reflows anyway.
            out["description"] = " ".join(value.split())
        elif key == _CRD_DEFAULT:
            out["default"] = value
        elif key == "properties":
            out["properties"] = {k: _convert(v, defs, seen) for k, v in value.items()}
        elif key == "items":
            out["items"] = _convert(value, defs, seen)
        elif key == "additionalProperties":
            if isinstance(value, dict):
                if value:
                    out["additionalProperties"] = _convert(value, defs, seen)
                else:
                    out["x-kubernetes-preserve-unknown-fields"] = True
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            out[bound], out[key] = value, True
        elif key == "format":
            if value in _FORMATS:
                out["format"] = value
        elif key in _KEEP and key != "default":
            out[key] = value
    if (
        out.get("type") == "object"
        and not out.get("properties")
        and "additionalProperties" not in (out)
    ):
        out["x-kubernetes-preserve-unknown-fields"] = True
    if "required" in out and not out["required"]:
        del out["required"]
    return out


@dataclass(frozen=True)
class PrinterColumn:
    name: str
    json_path: str
    type: str = "string"
    description: str = ""
    priority: int = 0

    def to_kube(self) -> dict[str, Any]:
        col: dict[str, Any] = {"name": self.name, "type": self.type, "jsonPath": self.json_path}
        if self.description:
            col["description"] = self.description
        if self.priority:
            col["priority"] = self.priority
        return col


@dataclass(frozen=True)
class Version:
    name: str
    spec: type[BaseModel]
    status: type[BaseModel] | None = None
    served: bool = True
    storage: bool = True
    columns: Sequence[PrinterColumn] = ()
    description: str = ""


@dataclass(frozen=True)
class Kind:
    group: str
    kind: str
    plural: str
    versions: Sequence[Version]
    labels: dict[str, str] = field(default_factory=dict)
    categories: Sequence[str] = ()
    short_names: Sequence[str] = ()
    scope: str = "Namespaced"

    @property
    def name(self) -> str:
        return f"{self.plural}.{self.group}"


def _version(kind: Kind, v: Version) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "apiVersion": {
            "type": "string",
            "description": "The versioned schema of this representation of an object.",
        },
        "kind": {"type": "string", "description": "The REST resource this object represents."},
        "metadata": {"type": "object"},
        "spec": structural(v.spec),
    }
    if v.status is not None:
        properties["status"] = structural(v.status)
    schema = {
        "type": "object",
        "description": v.description or (v.spec.__doc__ or kind.kind).strip(),
        "properties": properties,
    }
    out: dict[str, Any] = {
        "name": v.name,
        "served": v.served,
        "storage": v.storage,
        "schema": {"openAPIV3Schema": schema},
    }
    if v.status is not None:
        out["subresources"] = {"status": {}}
    if v.columns:
        out["additionalPrinterColumns"] = [c.to_kube() for c in v.columns]
    return out


def crd(kind: Kind) -> dict[str, Any]:
    names: dict[str, Any] = {
        "kind": kind.kind,
        "listKind": f"{kind.kind}List",
        "plural": kind.plural,
        "singular": kind.kind.lower(),
    }
    if kind.categories:
        names["categories"] = list(kind.categories)
    if kind.short_names:
        names["shortNames"] = list(kind.short_names)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": kind.name, "labels": dict(kind.labels)},
        "spec": {
            "group": kind.group,
            "names": names,
            "scope": kind.scope,
            "versions": [_version(kind, v) for v in kind.versions],
        },
    }


def render(kind: Kind) -> str:
    header = "# Generated from the pydantic models by `capy crds`; do not edit.\n"
    return header + yaml.safe_dump(crd(kind), sort_keys=False, width=100)


def write(kinds: Sequence[Kind], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind in kinds:
        path = directory / f"{kind.group}_{kind.plural}.yaml"
        path.write_text(render(kind))
        paths.append(path)
    return paths


def stale(kinds: Sequence[Kind], directory: Path) -> list[str]:
    """Files under `directory` that differ from what the models generate, or are missing."""
    out = []
    for kind in kinds:
        path = directory / f"{kind.group}_{kind.plural}.yaml"
        if not path.exists() or path.read_text() != render(kind):
            out.append(str(path))
    return out
