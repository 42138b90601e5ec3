"""Cluster certificates, the init lock and bootstrap tokens against the in-memory API."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from bootstrap import certs, locking, tokens
from capy.kube import CLUSTERS, CONFIGMAPS, MACHINES, SECRETS, Conflict, Obj
from capy_harness.memory_kube import MemoryKube

T = TypeVar("T")
NS = "team-a"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def test_certificates_are_created_once_with_labels_and_owner() -> None:
    kube = MemoryKube()
    owner = {"apiVersion": "v1", "kind": "X", "name": "o", "uid": "u", "controller": True}
    first, created = run(certs.lookup_or_generate(kube, NS, "c1", owner=owner))
    assert created == ["c1-ca", "c1-etcd", "c1-proxy", "c1-sa"]
    again, created = run(certs.lookup_or_generate(kube, NS, "c1", owner=owner))
    assert created == [] and again == first

    secret = run(kube.get(SECRETS, NS, "c1-ca"))
    assert secret is not None
    assert secret["type"] == "cluster.x-k8s.io/secret"
    assert secret["metadata"]["labels"] == {"cluster.x-k8s.io/cluster-name": "c1"}
    assert secret["metadata"]["ownerReferences"] == [owner]
    ca = x509.load_pem_x509_certificate(first.ca.cert)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert isinstance(ca.public_key(), rsa.RSAPublicKey)
    assert b"PUBLIC KEY" in first.sa.cert and b"PRIVATE KEY" in first.sa.key


def test_a_lost_creation_race_reads_the_winner() -> None:
    kube = MemoryKube()
    winner = certs.generate("ca")
    real_create = kube.create

    async def racing_create(res: Any, ns: str, body: Obj) -> Obj:
        if body["metadata"]["name"] == "c1-ca":
            await real_create(res, ns, certs.secret_for("c1", "ca", winner, None))
            raise Conflict("exists")
        return await real_create(res, ns, body)

    kube.create = racing_create  # type: ignore[method-assign]
    got, created = run(certs.lookup_or_generate(kube, NS, "c1", owner=None))
    assert got.ca == winner and "c1-ca" not in created


def test_ca_cert_hash_matches_kubeadm_format() -> None:
    h = certs.ca_cert_hash(certs.generate("ca", key="ecdsa").cert)
    assert h.startswith("sha256:") and len(h) == len("sha256:") + 64


def test_unknown_encryption_algorithm_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"clusterConfiguration\.encryptionAlgorithm"):
        certs.key_kind("DSA-1024")


def cluster(kube: MemoryKube) -> Obj:
    return kube.put(CLUSTERS, NS, {"metadata": {"name": "c1"}})


def test_only_one_machine_takes_the_init_lock() -> None:
    kube = MemoryKube()
    c = cluster(kube)
    for m in ("m1", "m2"):
        kube.put(MACHINES, NS, {"metadata": {"name": m}})
    assert run(locking.try_lock(kube, c, "m1"))
    assert not run(locking.try_lock(kube, c, "m2"))
    assert run(locking.try_lock(kube, c, "m1")), "the holder may take it again"
    lock = run(kube.get(CONFIGMAPS, NS, "c1-lock"))
    assert lock is not None and locking.holder(lock) == "m1"
    assert lock["metadata"]["labels"] == {"cluster.x-k8s.io/cluster-name": "c1"}
    run(locking.unlock(kube, NS, "c1"))
    assert run(locking.try_lock(kube, c, "m2"))


def test_a_lock_whose_holder_is_gone_is_broken() -> None:
    kube = MemoryKube()
    c = cluster(kube)
    kube.put(MACHINES, NS, {"metadata": {"name": "m2"}})
    assert run(locking.try_lock(kube, c, "deleted-machine"))
    assert run(locking.try_lock(kube, c, "m2"))


T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
TTL = dt.timedelta(minutes=15)


def expiry(kube: MemoryKube, token: str) -> dt.datetime | None:
    secret = run(kube.get(SECRETS, "kube-system", tokens.secret_name(token)))
    assert secret is not None
    return tokens.expires_at(secret)


def test_token_is_created_refreshed_and_recreated() -> None:
    kube, token = MemoryKube(), tokens.new_token()
    assert run(tokens.ensure(kube, token, ttl=TTL, now=T0)) == "created"
    secret = run(kube.get(SECRETS, "kube-system", tokens.secret_name(token)))
    assert secret is not None and secret["type"] == "bootstrap.kubernetes.io/token"
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert f"{data['token-id']}.{data['token-secret']}" == token
    assert data["usage-bootstrap-authentication"] == "true"

    # Checked every TTL/3, as the controller does: the token never gets close to expiring.
    for step in range(1, 10):
        now = T0 + step * TTL / 3
        run(tokens.ensure(kube, token, ttl=TTL, now=now))
        left = expiry(kube, token)
        assert left is not None and left - now > TTL / 2

    run(kube.delete(SECRETS, "kube-system", tokens.secret_name(token)))
    assert run(tokens.ensure(kube, token, ttl=TTL, now=T0)) == "created"


def test_fresh_token_is_left_alone() -> None:
    kube, token = MemoryKube(), tokens.new_token()
    run(tokens.ensure(kube, token, ttl=TTL, now=T0))
    assert run(tokens.ensure(kube, token, ttl=TTL, now=T0 + dt.timedelta(minutes=1))) == "valid"


def test_token_format() -> None:
    token = tokens.new_token()
    assert len(tokens.token_id(token)) == 6
    with pytest.raises(ValueError, match=r"\[a-z0-9\]\{6\}"):
        tokens.token_id("short.token")
