"""The cluster certificate authorities kubeadm expects, kept in Secrets as Cluster API names them.

`<cluster>-ca`, `<cluster>-etcd`, `<cluster>-proxy` hold a CA (`tls.crt`, `tls.key`);
`<cluster>-sa` holds the service-account key pair (`tls.crt` is the public key). They are created
once and never rewritten: a second writer that loses the race reads the winner's Secret.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from capy import pki
from capy.capi import CLUSTER_NAME_LABEL
from capy.kube import SECRETS, Conflict, Kube, Obj, secret_data

CLUSTER_SECRET_TYPE = "cluster.x-k8s.io/secret"  # noqa: S105 (a Secret type, not a password)
PURPOSES = ("ca", "etcd", "proxy", "sa")
DEFAULT_VALIDITY_DAYS = 3650


@dataclass(frozen=True)
class ClusterCerts:
    ca: pki.KeyPair
    etcd: pki.KeyPair
    proxy: pki.KeyPair
    sa: pki.KeyPair

    def get(self, purpose: str) -> pki.KeyPair:
        pair: pki.KeyPair = getattr(self, purpose)
        return pair


def key_kind(encryption_algorithm: str | None) -> str:
    """kubeadm's encryptionAlgorithm (RSA-2048 by default) to a pki key kind."""
    algorithm = encryption_algorithm or "RSA-2048"
    kinds = {"RSA-2048": "rsa", "RSA-3072": "rsa-3072", "RSA-4096": "rsa-4096",
             "ECDSA-P256": "ecdsa", "ECDSA-P384": "ecdsa-p384"}  # fmt: skip
    if algorithm not in kinds:
        raise ValueError(
            f"clusterConfiguration.encryptionAlgorithm {algorithm!r} is not supported: "
            f"use one of {', '.join(kinds)}"
        )
    return kinds[algorithm]


def generate(purpose: str, *, key: str = "rsa", validity_days: int = DEFAULT_VALIDITY_DAYS
             ) -> pki.KeyPair:  # fmt: skip
    """A new CA (common name `kubernetes`, as kubeadm's are) or, for `sa`, a bare key pair."""
    private = pki.new_key(key)
    if purpose == "sa":
        public = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pki.KeyPair(cert=public, key=pki.key_pem(private))
    ca = pki.CertificateAuthority(
        "kubernetes", validity=dt.timedelta(days=validity_days), key=private
    )
    return ca.pair


def secret_name(cluster: str, purpose: str) -> str:
    return f"{cluster}-{purpose}"


def secret_for(cluster: str, purpose: str, pair: pki.KeyPair, owner: Obj | None) -> Obj:
    meta: dict[str, Any] = {
        "name": secret_name(cluster, purpose),
        "labels": {CLUSTER_NAME_LABEL: cluster},
    }
    if owner is not None:
        meta["ownerReferences"] = [owner]
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": CLUSTER_SECRET_TYPE,
        "metadata": meta,
        "data": {
            "tls.crt": base64.b64encode(pair.cert).decode(),
            "tls.key": base64.b64encode(pair.key).decode(),
        },
    }


def _pair(data: Mapping[str, bytes], name: str) -> pki.KeyPair:
    if "tls.crt" not in data:
        raise ValueError(f"Secret {name} has no tls.crt")
    return pki.KeyPair(cert=data["tls.crt"], key=data.get("tls.key", b""))


async def lookup(kube: Kube, namespace: str, cluster: str) -> ClusterCerts | None:
    """All four, or None when any is missing."""
    pairs = {}
    for purpose in PURPOSES:
        name = secret_name(cluster, purpose)
        secret = await kube.get(SECRETS, namespace, name)
        if secret is None:
            return None
        pairs[purpose] = _pair(secret_data(secret), name)
    return ClusterCerts(**pairs)


async def lookup_or_generate(
    kube: Kube,
    namespace: str,
    cluster: str,
    *,
    owner: Obj | None,
    key: str = "rsa",
    validity_days: int = DEFAULT_VALIDITY_DAYS,
) -> tuple[ClusterCerts, list[str]]:
    """The cluster's certificates, creating the missing ones; returns them and what was created."""
    pairs, created = {}, []
    for purpose in PURPOSES:
        name = secret_name(cluster, purpose)
        secret = await kube.get(SECRETS, namespace, name)
        if secret is None:
            pair = generate(purpose, key=key, validity_days=validity_days)
            try:
                await kube.create(SECRETS, namespace, secret_for(cluster, purpose, pair, owner))
                created.append(name)
            except Conflict:
                secret = await kube.get(SECRETS, namespace, name)
                if secret is None:
                    raise
                pair = _pair(secret_data(secret), name)
        else:
            pair = _pair(secret_data(secret), name)
        pairs[purpose] = pair
    return ClusterCerts(**pairs), created


def ca_cert_hash(cert_pem: bytes) -> str:
    """kubeadm's discovery hash: sha256 of the CA's SubjectPublicKeyInfo."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(spki).hexdigest()
