"""capy's KubeadmConfig CRD: upstream-shaped objects pass, bad ones are refused naming the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

pytestmark = pytest.mark.integration

G, V = "bootstrap.cluster.x-k8s.io", "v1beta2"


def config(spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": f"{G}/{V}", "kind": "KubeadmConfig", "metadata": {"name": "x"},
            "spec": spec}  # fmt: skip


SECRET_FILE = {"path": "/etc/a", "contentFrom": {"secret": {"name": "s", "key": "k"}}}

INVALID = [
    ({"files": [{**SECRET_FILE, "content": "inline"}]}, "files: set content or contentFrom"),
    ({"format": "yaml"}, 'spec.format: Unsupported value: "yaml"'),
    ({"users": [{"name": "ops", "passwd": "h",
                 "passwdFrom": {"secret": {"name": "s", "key": "k"}}}]},
     "users: set passwd or passwdFrom"),
    ({"ignition": {"containerLinuxConfig": {"strict": True}}}, "ignition is only used with format"),
    ({"files": [{"path": "/etc/a", "content": "x", "encoding": "zip"}]}, "spec.files[0].encoding"),
    ({"joinConfiguration": {"nodeRegistration": {"kubeletExtraArgs": [
        {"name": "v", "value": "1"}, {"name": "v", "value": "2"}]}}},
     "spec.joinConfiguration.nodeRegistration.kubeletExtraArgs"),
    ({"diskSetup": {"partitions": [{"device": "/dev/sdb"}]}},
     "set exactly one of layout or diskLayout"),
    ({"clusterConfiguration": {"certificateValidityPeriodDays": 5000}},
     "spec.clusterConfiguration.certificateValidityPeriodDays"),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "message"), INVALID)
def test_invalid_kubeadm_config_is_rejected(
    api: client.ApiClient, capy_crds: Path, namespace: str, spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(ApiException) as err:
        client.CustomObjectsApi(api).create_namespaced_custom_object(
            G, V, namespace, "kubeadmconfigs", config(spec), field_validation="Strict"
        )
    assert err.value.status in (400, 422), err.value.body
    assert message in json.loads(err.value.body)["message"]


def test_upstream_shaped_config_is_accepted(
    api: client.ApiClient, capy_crds: Path, namespace: str
) -> None:
    spec = {
        "clusterConfiguration": {"apiServer": {"certSANs": ["api.example.com"],
                                               "extraArgs": [{"name": "v", "value": "2"}]},
                                 "etcd": {"local": {"dataDir": "/var/lib/etcd"}}},
        "initConfiguration": {"nodeRegistration": {
            "name": "{{ ds.meta_data.local_hostname }}",
            "kubeletExtraArgs": [{"name": "cloud-provider", "value": "external"}]}},
        "joinConfiguration": {"discovery": {"bootstrapToken": {
            "token": "abcdef.0123456789abcdef", "unsafeSkipCAVerification": True}}},
        "files": [{"path": "/etc/motd", "content": "hi", "permissions": "0644"}, SECRET_FILE],
        "users": [{"name": "ops", "sudo": "ALL=(ALL) NOPASSWD:ALL",
                   "sshAuthorizedKeys": ["ssh-ed25519 AAAA"]}],
        "ntp": {"servers": ["time.example.com"], "enabled": True},
        "preKubeadmCommands": ["echo pre"], "postKubeadmCommands": ["echo post"],
        "format": "cloud-config",
    }  # fmt: skip
    created = client.CustomObjectsApi(api).create_namespaced_custom_object(
        G, V, namespace, "kubeadmconfigs", config(spec), field_validation="Strict"
    )
    assert created["spec"] == spec
