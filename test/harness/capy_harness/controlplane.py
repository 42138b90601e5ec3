"""etcd, kube-apiserver and kube-controller-manager as local processes, set up as envtest does.

Three trust roots: a serving CA (the apiserver's and every webhook's serving certificate), a
client CA (the admin user's certificate) and a service-account signing key.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography.hazmat.primitives import serialization

from capy import pki
from capy_harness.probe import free_port
from capy_harness.process import Health, ProcessRecord, spawn
from capy_harness.tools import Tools

LOOPBACK = "127.0.0.1"
ADMIN_USER = "capy-admin"


@dataclass
class Trust:
    """The CAs of one management plane, written under `directory`."""

    directory: Path
    serving: pki.CertificateAuthority
    client: pki.CertificateAuthority

    @classmethod
    def create(cls, directory: Path, ca: pki.CertificateAuthority | None = None) -> Trust:
        """New CAs, or one given CA for both roles, as kubeadm uses a workload cluster's CA."""
        trust = cls(
            directory,
            ca or pki.CertificateAuthority("capy-harness-serving-ca"),
            ca or pki.CertificateAuthority("capy-harness-client-ca"),
        )
        trust.serving.pair.write(directory, "serving-ca")
        trust.client.pair.write(directory, "client-ca")
        sa = pki.new_key()
        (directory / "sa.key").write_bytes(pki.key_pem(sa))
        (directory / "sa.pub").write_bytes(
            sa.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        return trust

    @property
    def serving_ca_file(self) -> Path:
        return self.directory / "serving-ca.crt"

    def serving_cert(self, stem: str, hosts: tuple[str, ...] = (LOOPBACK, "localhost")) -> Path:
        """Issue a serving certificate for loopback; returns the directory holding it."""
        self.serving.issue(stem, hosts=hosts, server=True).write(self.directory / stem, "tls")
        return self.directory / stem


def start_etcd(
    tools: Tools, state: Path, *, tie_to_parent: bool, name: str = "etcd"
) -> ProcessRecord:
    client, peer = free_port(), free_port()
    url = f"http://{LOOPBACK}:{client}"
    peer_url = f"http://{LOOPBACK}:{peer}"
    return spawn(
        name,
        [
            tools.path("etcd"),
            "--name=capy",
            f"--data-dir={state / 'etcd'}",
            f"--listen-client-urls={url}",
            f"--advertise-client-urls={url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=capy={peer_url}",
            "--listen-metrics-urls=",
            # Test data is disposable; skipping fsync makes etcd fast on a shared disk.
            "--unsafe-no-fsync",
            "--log-level=warn",
        ],
        state / "logs" / f"{name}.log",
        address=url,
        health=Health(f"{url}/health"),
        tie_to_parent=tie_to_parent,
    )


def start_apiserver(
    tools: Tools,
    state: Path,
    trust: Trust,
    etcd_url: str,
    *,
    tie_to_parent: bool,
    port: int | None = None,
    name: str = "kube-apiserver",
) -> tuple[ProcessRecord, Path]:
    """Start kube-apiserver; returns its record and the admin kubeconfig it accepts."""
    port = port or free_port()
    cert_dir = trust.serving_cert("apiserver")
    pki_dir = trust.directory
    url = f"https://{LOOPBACK}:{port}"
    admin = trust.client.issue(ADMIN_USER, organizations=("system:masters",), client=True)
    admin_crt, admin_key = admin.write(pki_dir, "admin")
    record = spawn(
        name,
        [
            tools.path("kube-apiserver"),
            f"--advertise-address={LOOPBACK}",
            f"--bind-address={LOOPBACK}",
            f"--secure-port={port}",
            f"--tls-cert-file={cert_dir / 'tls.crt'}",
            f"--tls-private-key-file={cert_dir / 'tls.key'}",
            f"--etcd-servers={etcd_url}",
            "--service-cluster-ip-range=10.96.0.0/24",
            "--authorization-mode=Node,RBAC",
            # As kubeadm sets it: joining machines authenticate with bootstrap tokens.
            "--enable-bootstrap-token-auth=true",
            "--allow-privileged=true",
            f"--client-ca-file={pki_dir / 'client-ca.crt'}",
            f"--service-account-issuer={url}",
            f"--service-account-key-file={pki_dir / 'sa.pub'}",
            f"--service-account-signing-key-file={pki_dir / 'sa.key'}",
            # No pods run here, so nothing would ever mount a service-account token.
            "--disable-admission-plugins=ServiceAccount",
            # The kubernetes Service's endpoints would name 127.0.0.1; nothing reads them.
            "--endpoint-reconciler-type=none",
            "--v=1",
        ],
        state / "logs" / f"{name}.log",
        address=url,
        health=Health(
            f"{url}/readyz", ca=str(trust.serving_ca_file), cert=str(admin_crt), key=str(admin_key)
        ),
        tie_to_parent=tie_to_parent,
    )
    kubeconfig = state / "kubeconfig"
    kubeconfig.touch(mode=0o600)
    kubeconfig.write_text(kubeconfig_yaml(url, trust.serving.pair.cert, admin, "capy-dev"))
    return record, kubeconfig


def kubeconfig_yaml(server: str, ca_pem: bytes, user: pki.KeyPair, cluster: str) -> str:
    """An admin kubeconfig named the way Cluster API names `<cluster>-kubeconfig` contents."""

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    user_name, context = f"{cluster}-admin", f"{cluster}-admin@{cluster}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster,
                "cluster": {"server": server, "certificate-authority-data": b64(ca_pem)},
            }
        ],
        "users": [
            {
                "name": user_name,
                "user": {
                    "client-certificate-data": b64(user.cert),
                    "client-key-data": b64(user.key),
                },
            }
        ],
        "contexts": [{"name": context, "context": {"cluster": cluster, "user": user_name}}],
        "current-context": context,
    }
    return yaml.safe_dump(config)


# No kubelet runs here, so only controllers that act on API objects alone are useful: namespace
# deletion and owner-reference garbage collection, which every real management cluster has.
CONTROLLERS = "namespace,garbagecollector"


def start_controller_manager(
    tools: Tools, state: Path, trust: Trust, kubeconfig: Path, *, tie_to_parent: bool
) -> ProcessRecord:
    port = free_port()
    cert_dir = trust.serving_cert("kube-controller-manager")
    return spawn(
        "kube-controller-manager",
        [
            tools.path("kube-controller-manager"),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            f"--bind-address={LOOPBACK}",
            f"--secure-port={port}",
            f"--tls-cert-file={cert_dir / 'tls.crt'}",
            f"--tls-private-key-file={cert_dir / 'tls.key'}",
            f"--controllers={CONTROLLERS}",
            "--leader-elect=false",
            "--v=1",
        ],
        state / "logs" / "kube-controller-manager.log",
        address=f"https://{LOOPBACK}:{port}",
        health=Health(f"https://{LOOPBACK}:{port}/healthz", ca=str(trust.serving_ca_file)),
        tie_to_parent=tie_to_parent,
    )
