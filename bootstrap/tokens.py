"""kubeadm bootstrap tokens in the workload cluster, kept valid until the machine has joined.

A token is `<id>.<secret>` and lives as Secret `kube-system/bootstrap-token-<id>`. Join data
embeds the token, so the token must outlive however long the infrastructure takes to boot the
machine: `ensure`, called at least every TTL/3 until the Node exists, pushes the expiry back to a
full TTL once less than 5/6 of it is left, and recreates the very same token when the workload
cluster already cleaned it up.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import string

from capy.kube import SECRETS, Conflict, Kube, Obj

NAMESPACE = "kube-system"
TOKEN_TYPE = "bootstrap.kubernetes.io/token"  # noqa: S105 (a Secret type, not a password)
DEFAULT_TTL = dt.timedelta(minutes=15)
_ALPHABET = string.ascii_lowercase + string.digits


def new_token() -> str:
    pick = secrets.choice
    return (
        "".join(pick(_ALPHABET) for _ in range(6))
        + "."
        + "".join(pick(_ALPHABET) for _ in range(16))
    )


def token_id(token: str) -> str:
    tid, sep, secret = token.partition(".")
    if not (sep and len(tid) == 6 and len(secret) == 16):
        raise ValueError("a bootstrap token has the form [a-z0-9]{6}.[a-z0-9]{16}")
    return tid


def secret_name(token: str) -> str:
    return f"bootstrap-token-{token_id(token)}"


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _expiration(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def token_secret(token: str, expires: dt.datetime, description: str) -> Obj:
    tid, _, secret = token.partition(".")
    data = {
        "token-id": tid,
        "token-secret": secret,
        "expiration": _expiration(expires),
        "usage-bootstrap-authentication": "true",
        "usage-bootstrap-signing": "true",
        "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
        "description": description,
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": TOKEN_TYPE,
        "metadata": {"name": secret_name(token), "namespace": NAMESPACE},
        "data": {k: _b64(v) for k, v in data.items()},
    }


def expires_at(secret: Obj) -> dt.datetime | None:
    raw = (secret.get("data") or {}).get("expiration")
    if not raw:
        return None
    return dt.datetime.fromisoformat(base64.b64decode(raw).decode().replace("Z", "+00:00"))


async def ensure(
    workload: Kube,
    token: str,
    *,
    ttl: dt.timedelta = DEFAULT_TTL,
    now: dt.datetime | None = None,
    description: str = "bootstrap token for a capy machine that has not joined yet",
) -> str:
    """Keep `token` valid for most of `ttl`; returns created, exists, valid or refreshed."""
    now = now or dt.datetime.now(dt.UTC)
    existing = await workload.get(SECRETS, NAMESPACE, secret_name(token))
    if existing is None:
        try:
            await workload.create(SECRETS, NAMESPACE, token_secret(token, now + ttl, description))
        except Conflict:
            return "exists"
        return "created"
    expiry = expires_at(existing)
    if expiry is not None and expiry - now > ttl * 5 / 6:
        return "valid"
    patch = {"data": {"expiration": _b64(_expiration(now + ttl))}}
    await workload.patch(SECRETS, NAMESPACE, secret_name(token), patch)
    return "refreshed"
