"""An in-memory `capy.kube.Kube` for unit tests of reconcile code.

It keeps what the engine relies on from a real API server: uids, resourceVersions, generation
bumps on spec changes, JSON merge patch semantics, a status subresource that ignores spec and a
main resource that ignores status, and finalizers holding back deletion.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from typing import Any

from capy.kube import Conflict, Obj, Resource


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


class MemoryKube:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str, str], Obj] = {}
        self._version = 0

    def _key(self, res: Resource, namespace: str, name: str) -> tuple[str, str, str, str]:
        return (res.group, res.plural, namespace, name)

    def _bump(self, obj: Obj) -> None:
        self._version += 1
        obj["metadata"]["resourceVersion"] = str(self._version)

    def put(self, res: Resource, namespace: str, body: Obj) -> Obj:
        """Store an object as given (status included), like a test fixture would."""
        obj = copy.deepcopy(body)
        obj.setdefault("apiVersion", res.api_version)
        obj.setdefault("kind", res.kind)
        meta = obj.setdefault("metadata", {})
        meta["namespace"] = namespace
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("generation", 1)
        self._bump(obj)
        self.objects[self._key(res, namespace, meta["name"])] = obj
        return copy.deepcopy(obj)

    async def get(self, res: Resource, namespace: str, name: str) -> Obj | None:
        obj = self.objects.get(self._key(res, namespace, name))
        return copy.deepcopy(obj) if obj is not None else None

    async def list(
        self, res: Resource, namespace: str, labels: Mapping[str, str] | None = None
    ) -> list[Obj]:
        out = []
        for (group, plural, ns, _), obj in sorted(self.objects.items()):
            if (group, plural, ns) != (res.group, res.plural, namespace):
                continue
            have = obj["metadata"].get("labels") or {}
            if all(have.get(k) == v for k, v in (labels or {}).items()):
                out.append(copy.deepcopy(obj))
        return out

    async def create(self, res: Resource, namespace: str, body: Obj) -> Obj:
        meta = body.get("metadata") or {}
        name = meta.get("name") or f"{meta['generateName']}{uuid.uuid4().hex[:5]}"
        if self._key(res, namespace, name) in self.objects:
            raise Conflict(f"{res.kind} {namespace}/{name} already exists")
        body = {**copy.deepcopy(body), "metadata": {**meta, "name": name}}
        body.pop("status", None)
        return self.put(res, namespace, body)

    async def patch(
        self, res: Resource, namespace: str, name: str, body: Obj, *, status: bool = False
    ) -> Obj:
        key = self._key(res, namespace, name)
        if key not in self.objects:
            raise LookupError(f"{res.kind} {namespace}/{name} not found")
        old = self.objects[key]
        if status:
            new = {**old, "status": merge_patch(old.get("status"), body.get("status"))}
        else:
            new = merge_patch(old, {k: v for k, v in body.items() if k != "status"})
            if new.get("spec") != old.get("spec"):
                new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        self._bump(new)
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
            del self.objects[key]
        else:
            self.objects[key] = new
        return copy.deepcopy(new)

    async def delete(self, res: Resource, namespace: str, name: str) -> None:
        key = self._key(res, namespace, name)
        obj = self.objects.get(key)
        if obj is None:
            return
        if obj["metadata"].get("finalizers"):
            obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
            self._bump(obj)
        else:
            del self.objects[key]
