"""The Kubernetes API as both providers use it: a small Protocol and its real implementation.

Reconcile code depends on the `Kube` protocol only, so unit tests run it against an in-memory
implementation and the operator against the real API server. The real implementation wraps the
blocking `kubernetes` client and runs every call in a worker thread.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

Obj = dict[str, Any]


@dataclass(frozen=True)
class Resource:
    """An API resource: group ('' for the core group), version, plural and kind."""

    group: str
    version: str
    plural: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


SECRETS = Resource("", "v1", "secrets", "Secret")
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
EVENTS = Resource("", "v1", "events", "Event")
CLUSTERS = Resource("cluster.x-k8s.io", "v1beta2", "clusters", "Cluster")
MACHINES = Resource("cluster.x-k8s.io", "v1beta2", "machines", "Machine")


class Conflict(Exception):
    """The object changed or already exists (HTTP 409)."""


class Kube(Protocol):
    async def get(self, res: Resource, namespace: str, name: str) -> Obj | None: ...

    async def list(
        self, res: Resource, namespace: str, labels: Mapping[str, str] | None = None
    ) -> list[Obj]: ...

    async def create(self, res: Resource, namespace: str, body: Obj) -> Obj: ...

    async def patch(
        self, res: Resource, namespace: str, name: str, body: Obj, *, status: bool = False
    ) -> Obj:
        """JSON merge patch of the object, or of its status subresource."""
        ...

    async def delete(self, res: Resource, namespace: str, name: str) -> None: ...


def secret_data(secret: Obj) -> dict[str, bytes]:
    """The decoded `data` of a Secret object."""
    return {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}


def owner_reference(obj: Obj, *, controller: bool = False) -> Obj:
    meta = obj["metadata"]
    ref: Obj = {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
    }
    if controller:
        ref |= {"controller": True, "blockOwnerDeletion": True}
    return ref


async def record_event(
    kube: Kube, obj: Obj, reason: str, message: str, *, warning: bool = False, source: str = "capy"
) -> None:
    """Post a core/v1 Event about `obj`. Messages must never carry secrets."""
    meta = obj["metadata"]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    await kube.create(
        EVENTS,
        meta["namespace"],
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{meta['name']}.{uuid.uuid4().hex[:12]}"},
            "involvedObject": {
                "apiVersion": obj["apiVersion"],
                "kind": obj["kind"],
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": meta.get("uid"),
            },
            "reason": reason,
            "message": message[:1024],
            "type": "Warning" if warning else "Normal",
            "source": {"component": source},
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        },
    )


class ApiServer:
    """`Kube` over the official client, one blocking call per worker thread."""

    def __init__(self, api_client: Any) -> None:
        from kubernetes import client

        self._client = client
        self._custom = client.CustomObjectsApi(api_client)
        self._core = client.CoreV1Api(api_client)
        self._api = api_client

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException

        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except ApiException as e:
            if e.status == 404:
                raise LookupError(str(e.reason)) from None
            if e.status == 409:
                raise Conflict(str(e.reason)) from None
            raise

    def _serialize(self, obj: Any) -> Obj:
        data: Obj = self._api.sanitize_for_serialization(obj)
        return data

    async def get(self, res: Resource, namespace: str, name: str) -> Obj | None:
        try:
            if res.group:
                found: Obj = await self._call(
                    self._custom.get_namespaced_custom_object,
                    res.group,
                    res.version,
                    namespace,
                    res.plural,
                    name,
                )
                return found
            read = getattr(self._core, f"read_namespaced_{_singular(res)}")
            obj = self._serialize(await self._call(read, name, namespace))
            return {"apiVersion": "v1", "kind": res.kind, **obj}
        except LookupError:
            return None

    async def list(
        self, res: Resource, namespace: str, labels: Mapping[str, str] | None = None
    ) -> list[Obj]:
        selector = ",".join(f"{k}={v}" for k, v in (labels or {}).items())
        if res.group:
            result = await self._call(
                self._custom.list_namespaced_custom_object,
                res.group,
                res.version,
                namespace,
                res.plural,
                label_selector=selector,
            )
            items: list[Obj] = result["items"]
            return items
        lister = getattr(self._core, f"list_namespaced_{_singular(res)}")
        result = self._serialize(await self._call(lister, namespace, label_selector=selector))
        return [{"apiVersion": "v1", "kind": res.kind, **i} for i in result["items"]]

    async def create(self, res: Resource, namespace: str, body: Obj) -> Obj:
        if res.group:
            created: Obj = await self._call(
                self._custom.create_namespaced_custom_object,
                res.group,
                res.version,
                namespace,
                res.plural,
                body,
            )
            return created
        creator = getattr(self._core, f"create_namespaced_{_singular(res)}")
        return self._serialize(await self._call(creator, namespace, body))

    async def patch(
        self, res: Resource, namespace: str, name: str, body: Obj, *, status: bool = False
    ) -> Obj:
        if res.group:
            fn = (
                self._custom.patch_namespaced_custom_object_status
                if status
                else self._custom.patch_namespaced_custom_object
            )
            patched: Obj = await self._call(
                fn, res.group, res.version, namespace, res.plural, name, body
            )
            return patched
        suffix = "_status" if status else ""
        patcher = getattr(self._core, f"patch_namespaced_{_singular(res)}{suffix}")
        return self._serialize(await self._call(patcher, name, namespace, body))

    async def delete(self, res: Resource, namespace: str, name: str) -> None:
        try:
            if res.group:
                await self._call(
                    self._custom.delete_namespaced_custom_object,
                    res.group,
                    res.version,
                    namespace,
                    res.plural,
                    name,
                )
            else:
                deleter = getattr(self._core, f"delete_namespaced_{_singular(res)}")
                await self._call(deleter, name, namespace)
        except LookupError:
            return


def api_server_from_kubeconfig(kubeconfig: str) -> ApiServer:
    """`Kube` for a cluster described by kubeconfig text, e.g. a `<cluster>-kubeconfig` value."""
    import yaml
    from kubernetes import config

    return ApiServer(config.new_client_from_config_dict(yaml.safe_load(kubeconfig)))


def _singular(res: Resource) -> str:
    # CoreV1Api method names use snake_case kinds: config_map, secret, event.
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in res.kind).lstrip("_")
