"""Small X.509 toolkit: certificate authorities and the certificates they sign.

Used by the test harness (serving and client certs of the local management plane) and by the
bootstrap provider (cluster CAs). Keys are ECDSA P-256 unless a caller asks for RSA, which
kubeadm's service-account key and some legacy consumers need.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

# Certificates are backdated so that small clock differences never make them "not yet valid".
_BACKDATE = dt.timedelta(minutes=5)


_CURVES = {"ecdsa": ec.SECP256R1, "ecdsa-p384": ec.SECP384R1}
_RSA_BITS = {"rsa": 2048, "rsa-3072": 3072, "rsa-4096": 4096}


def new_key(kind: str = "ecdsa") -> PrivateKey:
    """A new private key: ecdsa (P-256), ecdsa-p384, rsa (2048 bits), rsa-3072 or rsa-4096."""
    if kind in _CURVES:
        return ec.generate_private_key(_CURVES[kind]())
    if kind in _RSA_BITS:
        return rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS[kind])
    raise ValueError(f"unknown key kind {kind!r}: use one of {', '.join([*_CURVES, *_RSA_BITS])}")


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str, organizations: tuple[str, ...] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _sans(hosts: tuple[str, ...]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


@dataclass(frozen=True)
class KeyPair:
    """A certificate and its private key, as PEM."""

    cert: bytes
    key: bytes

    def write(self, directory: Path, stem: str) -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        crt, key = directory / f"{stem}.crt", directory / f"{stem}.key"
        crt.write_bytes(self.cert)
        key.touch(mode=0o600)
        key.write_bytes(self.key)
        return crt, key


@dataclass
class CertificateAuthority:
    """A self-signed CA that issues serving and client certificates."""

    common_name: str
    validity: dt.timedelta = dt.timedelta(days=365)
    key: PrivateKey = field(default_factory=new_key)
    existing: x509.Certificate | None = field(default=None, repr=False)
    """An already issued CA certificate for `key`; a new self-signed one is made otherwise."""
    cert: x509.Certificate = field(init=False)

    @classmethod
    def load(cls, pair: KeyPair, validity: dt.timedelta = dt.timedelta(days=365)) -> Self:
        """A CA from PEM (e.g. a cluster's `<cluster>-ca` Secret), to issue more leaves."""
        cert = x509.load_pem_x509_certificate(pair.cert)
        key = serialization.load_pem_private_key(pair.key, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise ValueError("a CA key must be ECDSA or RSA")
        name = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        return cls(str(name), validity, key, cert)

    def __post_init__(self) -> None:
        if self.existing is not None:
            self.cert = self.existing
            return
        now = dt.datetime.now(dt.UTC)
        subject = _name(self.common_name)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + self.validity)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=True,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )

    def _authority_key_id(self) -> x509.AuthorityKeyIdentifier:
        # Chains are built by matching this to the CA's own key id, which another tool (Cluster
        # API's Go code, for one) may have computed differently from the public key.
        try:
            ski = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        except x509.ExtensionNotFound:
            return x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key())
        return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski.value)

    @property
    def pair(self) -> KeyPair:
        return KeyPair(cert=cert_pem(self.cert), key=key_pem(self.key))

    def issue(
        self,
        common_name: str,
        *,
        hosts: tuple[str, ...] = (),
        organizations: tuple[str, ...] = (),
        server: bool = False,
        client: bool = False,
    ) -> KeyPair:
        """Sign a leaf certificate; `hosts` become DNS or IP subject alternative names."""
        if not (server or client):
            raise ValueError("a leaf certificate needs server=True, client=True or both")
        key = new_key()
        now = dt.datetime.now(dt.UTC)
        usages = []
        if server:
            usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
        if client:
            usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name, organizations))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + self.validity)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=True,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(self._authority_key_id(), critical=False)
        )
        if hosts:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(_sans(hosts)), critical=False
            )
        cert = builder.sign(self.key, hashes.SHA256())
        return KeyPair(cert=cert_pem(cert), key=key_pem(key))
