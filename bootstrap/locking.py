"""The init lock: only one control-plane machine of a cluster runs `kubeadm init`.

Same shape as upstream's, so both providers respect each other's lock: a ConfigMap
`<cluster>-lock` whose `lock-information` names the Machine holding it. Creating the ConfigMap
takes the lock; the holder may take it again; a lock whose holder Machine is gone is broken.
"""

from __future__ import annotations

import json

from capy.capi import CLUSTER_NAME_LABEL
from capy.kube import CONFIGMAPS, MACHINES, Conflict, Kube, Obj, owner_reference

LOCK_KEY = "lock-information"


def lock_name(cluster: str) -> str:
    return f"{cluster}-lock"


def holder(lock: Obj) -> str | None:
    try:
        name = json.loads((lock.get("data") or {}).get(LOCK_KEY, "{}")).get("machineName")
    except json.JSONDecodeError:
        return None
    return str(name) if name else None


async def try_lock(kube: Kube, cluster: Obj, machine: str) -> bool:
    """True when `machine` holds the init lock of `cluster` after this call."""
    ns, name = cluster["metadata"]["namespace"], cluster["metadata"]["name"]
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": lock_name(name),
            "labels": {CLUSTER_NAME_LABEL: name},
            "ownerReferences": [owner_reference(cluster)],
        },
        "data": {LOCK_KEY: json.dumps({"machineName": machine})},
    }
    for _ in range(2):
        try:
            await kube.create(CONFIGMAPS, ns, body)
            return True
        except Conflict:
            existing = await kube.get(CONFIGMAPS, ns, lock_name(name))
            if existing is None:
                continue  # Released between our create and get: try once more.
            current = holder(existing)
            if current == machine:
                return True
            if current and await kube.get(MACHINES, ns, current) is not None:
                return False
            # The holder is gone (or unreadable): the lock protects nothing any more.
            await kube.delete(CONFIGMAPS, ns, lock_name(name))
    return False


async def unlock(kube: Kube, namespace: str, cluster: str) -> None:
    await kube.delete(CONFIGMAPS, namespace, lock_name(cluster))
