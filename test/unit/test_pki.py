from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from capy import pki


def test_serving_certificate_is_signed_by_its_ca_and_names_its_hosts() -> None:
    ca = pki.CertificateAuthority("test-ca")
    pair = ca.issue("server", hosts=("127.0.0.1", "localhost"), server=True)
    cert = x509.load_pem_x509_certificate(pair.cert)

    cert.verify_directly_issued_by(ca.cert)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_client_certificate_carries_groups_as_organizations() -> None:
    ca = pki.CertificateAuthority("test-ca")
    cert = x509.load_pem_x509_certificate(
        ca.issue("admin", organizations=("system:masters",), client=True).cert
    )
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "admin"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "system:masters"
    )
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_ca_is_a_ca_and_keys_are_p256() -> None:
    ca = pki.CertificateAuthority("test-ca")
    assert ca.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert isinstance(ca.key, ec.EllipticCurvePrivateKey)
    assert ca.key.curve.name == "secp256r1"


def test_leaf_without_usage_is_refused() -> None:
    with pytest.raises(ValueError, match="server=True, client=True"):
        pki.CertificateAuthority("test-ca").issue("nothing")


def test_private_key_file_is_not_world_readable(tmp_path: Path) -> None:
    _, key = pki.CertificateAuthority("test-ca").pair.write(tmp_path, "ca")
    assert key.stat().st_mode & 0o077 == 0
