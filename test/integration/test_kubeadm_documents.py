"""Rendered kubeadm documents pass the real kubeadm's `config validate`."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bootstrap import kubeadm
from bootstrap.api.v1beta2 import KubeadmConfigSpec
from capy_harness.tools import Tools

pytestmark = pytest.mark.integration

NETWORK = {
    "pods": {"cidrBlocks": ["192.168.0.0/16"]},
    "services": {"cidrBlocks": ["10.128.0.0/12"]},
    "serviceDomain": "cluster.local",
}
SPECS: dict[str, dict[str, Any]] = {
    "minimal": {},
    "full": {
        "clusterConfiguration": {
            "apiServer": {
                "certSANs": ["api.example.com"],
                "extraArgs": [{"name": "v", "value": "2"}],
                "extraVolumes": [
                    {
                        "name": "audit",
                        "hostPath": "/var/log/audit",
                        "mountPath": "/var/log/audit",
                        "pathType": "DirectoryOrCreate",
                    }
                ],
            },
            "controllerManager": {"extraArgs": [{"name": "bind-address", "value": "127.0.0.1"}]},
            "etcd": {"local": {"dataDir": "/var/lib/etcd", "serverCertSANs": ["etcd.example.com"]}},
            "dns": {"imageTag": "v1.12.0"},
            "imageRepository": "registry.k8s.io",
            "certificateValidityPeriodDays": 365,
            "caCertificateValidityPeriodDays": 3650,
            "encryptionAlgorithm": "ECDSA-P256",
        },
        "initConfiguration": {
            "nodeRegistration": {
                "name": "cp-0",
                "criSocket": "unix:///run/containerd/containerd.sock",
                "taints": [],
                "kubeletExtraArgs": [{"name": "cloud-provider", "value": "external"}],
                "ignorePreflightErrors": ["NumCPU"],
                "imagePullPolicy": "IfNotPresent",
            },
            "localAPIEndpoint": {"advertiseAddress": "10.0.0.5", "bindPort": 6443},
            "timeouts": {"controlPlaneComponentHealthCheckSeconds": 240, "discoverySeconds": 300},
            "skipPhases": ["addon/kube-proxy"],
        },
        "joinConfiguration": {
            "nodeRegistration": {"name": "w-0"},
            "controlPlane": {
                "localAPIEndpoint": {"advertiseAddress": "10.0.0.6", "bindPort": 6443}
            },
            "timeouts": {"tlsBootstrapSeconds": 120},
        },
    },
    "external-etcd": {
        "clusterConfiguration": {
            "etcd": {
                "external": {
                    "endpoints": ["https://10.0.0.9:2379"],
                    "caFile": "/etc/etcd/ca.crt",
                    "certFile": "/etc/etcd/client.crt",
                    "keyFile": "/etc/etcd/client.key",
                }
            }
        }
    },
    "file-discovery": {
        "joinConfiguration": {
            "discovery": {
                "file": {
                    "kubeConfigPath": "TMP/discovery.conf",
                    "kubeConfig": {"user": {"exec": {"command": "/usr/bin/get-token"}}},
                }
            }
        }
    },
}


def validate(toolset: Tools, text: str, tmp_path: Path) -> None:
    path = tmp_path / "kubeadm.yaml"
    path.write_text(text)
    result = subprocess.run(
        [toolset.path("kubeadm"), "config", "validate", "--config", str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr + text


@pytest.mark.parametrize("name", SPECS)
def test_init_and_join_documents_validate(name: str, toolset: Tools, tmp_path: Path) -> None:
    # kubeadm checks that a discovery file exists, as it would on the machine.
    (tmp_path / "discovery.conf").write_text("apiVersion: v1\nkind: Config\n")
    raw = yaml.safe_load(yaml.safe_dump(SPECS[name]).replace("TMP", str(tmp_path)))
    spec = KubeadmConfigSpec.model_validate(raw)
    init = kubeadm.dump(
        kubeadm.cluster_configuration(
            spec.cluster_configuration,
            cluster_name="c1",
            kubernetes_version="v1.36.5",
            control_plane_endpoint="api.example.com:6443",
            cluster_network=NETWORK,
        ),
        kubeadm.init_configuration(spec.init_configuration),
    )
    validate(toolset, init, tmp_path)
    join = kubeadm.dump(
        kubeadm.join_configuration(
            spec.join_configuration,
            api_server_endpoint="api.example.com:6443",
            token="abcdef.0123456789abcdef",
            ca_cert_hashes=["sha256:" + "0" * 64],
        )
    )
    validate(toolset, join, tmp_path)


def test_durations_and_cluster_values_are_converted() -> None:
    spec = KubeadmConfigSpec.model_validate(SPECS["full"])
    cc = kubeadm.cluster_configuration(
        spec.cluster_configuration,
        cluster_name="c1",
        kubernetes_version="v1.36.5",
        control_plane_endpoint="api.example.com:6443",
        cluster_network=NETWORK,
    )
    assert cc["certificateValidityPeriod"] == "8760h0m0s"
    assert cc["networking"] == {
        "podSubnet": "192.168.0.0/16",
        "serviceSubnet": "10.128.0.0/12",
        "dnsDomain": "cluster.local",
    }
    init = kubeadm.init_configuration(spec.init_configuration)
    assert init["timeouts"] == {"controlPlaneComponentHealthCheck": "240s", "discovery": "300s"}
    join = kubeadm.join_configuration(
        None, api_server_endpoint="e:6443", token=None, ca_cert_hashes=[]
    )
    assert join["discovery"]["bootstrapToken"]["unsafeSkipCAVerification"] is True
    assert yaml.safe_load(kubeadm.dump(join))["kind"] == "JoinConfiguration"
