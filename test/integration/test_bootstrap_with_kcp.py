"""Upstream KubeadmControlPlane drives capy's bootstrap provider unchanged."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config

from bootstrap import certs, tokens
from capy import pki
from capy_harness.infra import start_bootstrap_provider
from capy_harness.probe import eventually, free_port
from capy_harness.process import ProcessRecord, stop
from capy_harness.tools import Tools
from capy_harness.workload import start_workload

pytestmark = pytest.mark.integration

CAPI = ("cluster.x-k8s.io", "v1beta2")
INFRA = ("infrastructure.cluster.x-k8s.io", "v1alpha1")
BOOT = ("bootstrap.cluster.x-k8s.io", "v1beta2")


@pytest.fixture(scope="module")
def bootstrap_provider(
    kubeconfig: Path, capy_crds: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProcessRecord]:
    record = start_bootstrap_provider(kubeconfig, tmp_path_factory.mktemp("boot") / "boot.log")
    try:
        yield record
    finally:
        stop(record)


def test_kcp_gets_init_data_from_capy(
    bootstrap_provider: ProcessRecord, api: client.ApiClient, namespace: str
) -> None:
    objs, core = client.CustomObjectsApi(api), client.CoreV1Api(api)
    objs.create_namespaced_custom_object(
        *INFRA,
        namespace,
        "capymachinetemplates",
        {
            "apiVersion": "infrastructure.cluster.x-k8s.io/v1alpha1",
            "kind": "CapyMachineTemplate",
            "metadata": {"name": "cp"},
            "spec": {
                "template": {
                    "spec": {"aws": {"ami": {"id": "ami-0123abcd"}, "instanceType": "m6i.large"}}
                }
            },
        },
    )
    objs.create_namespaced_custom_object(
        *CAPI,
        namespace,
        "clusters",
        {
            "apiVersion": "cluster.x-k8s.io/v1beta2",
            "kind": "Cluster",
            "metadata": {"name": "k1"},
            "spec": {
                "controlPlaneEndpoint": {"host": "10.0.0.10", "port": 6443},
                "clusterNetwork": {"pods": {"cidrBlocks": ["192.168.0.0/16"]}},
                "controlPlaneRef": {
                    "apiGroup": "controlplane.cluster.x-k8s.io",
                    "kind": "KubeadmControlPlane",
                    "name": "k1",
                },
            },
        },
    )
    objs.create_namespaced_custom_object(
        "controlplane.cluster.x-k8s.io",
        "v1beta2",
        namespace,
        "kubeadmcontrolplanes",
        {
            "apiVersion": "controlplane.cluster.x-k8s.io/v1beta2",
            "kind": "KubeadmControlPlane",
            "metadata": {"name": "k1"},
            "spec": {
                "replicas": 1,
                "version": "v1.36.5",
                "machineTemplate": {
                    "spec": {
                        "infrastructureRef": {
                            "apiGroup": "infrastructure.cluster.x-k8s.io",
                            "kind": "CapyMachineTemplate",
                            "name": "cp",
                        }
                    }
                },
                "kubeadmConfigSpec": {
                    "initConfiguration": {
                        "nodeRegistration": {
                            "kubeletExtraArgs": [{"name": "cloud-provider", "value": "external"}]
                        }
                    },
                    "postKubeadmCommands": ["echo done"],
                },
            },
        },
    )

    def config_with_data() -> dict[str, Any] | None:
        items = objs.list_namespaced_custom_object(*BOOT, namespace, "kubeadmconfigs")["items"]
        done = [
            c
            for c in items
            if (c.get("status") or {}).get("initialization", {}).get("dataSecretCreated")
        ]
        return done[0] if done else None

    cfg = eventually(config_with_data, timeout=90)
    status = cfg["status"]
    secret = core.read_namespaced_secret(status["dataSecretName"], namespace)
    assert secret.type == "cluster.x-k8s.io/secret"
    assert secret.metadata.labels["cluster.x-k8s.io/cluster-name"] == "k1"
    assert base64.b64decode(secret.data["format"]) == b"cloud-config"
    value = base64.b64decode(secret.data["value"]).decode()
    assert status["dataSecretSize"] == len(value.encode())
    written = {f["path"]: f for f in yaml.safe_load(value)["write_files"]}
    init = list(yaml.safe_load_all(written["/run/kubeadm/kubeadm.yaml"]["content"]))
    assert [d["kind"] for d in init] == ["ClusterConfiguration", "InitConfiguration"]
    assert init[0]["controlPlaneEndpoint"] == "10.0.0.10:6443"
    assert init[0]["kubernetesVersion"] == "v1.36.5"
    # KubeadmControlPlane generated the cluster CA; capy wrote that very CA to the machine.
    ca = core.read_namespaced_secret("k1-ca", namespace)
    assert (
        written["/etc/kubernetes/pki/ca.crt"]["content"]
        == base64.b64decode(ca.data["tls.crt"]).decode()
    )
    assert "echo done" in written["/run/cluster-api/capy-bootstrap.sh"]["content"]

    # Cluster API core copied the data Secret name to the Machine.
    def machine_data_secret() -> str | None:
        machines = objs.list_namespaced_custom_object(*CAPI, namespace, "machines")["items"]
        name: str | None = machines[0]["spec"]["bootstrap"].get("dataSecretName")
        return name

    assert eventually(machine_data_secret, timeout=30) == status["dataSecretName"]


def test_worker_join_token_lives_in_the_workload_cluster(
    bootstrap_provider: ProcessRecord,
    api: client.ApiClient,
    namespace: str,
    toolset: Tools,
    tmp_path: Path,
) -> None:
    objs, core = client.CustomObjectsApi(api), client.CoreV1Api(api)
    port = free_port()
    objs.create_namespaced_custom_object(
        *INFRA,
        namespace,
        "capymachinetemplates",
        {
            "apiVersion": "infrastructure.cluster.x-k8s.io/v1alpha1",
            "kind": "CapyMachineTemplate",
            "metadata": {"name": "m"},
            "spec": {
                "template": {
                    "spec": {"aws": {"ami": {"id": "ami-0123abcd"}, "instanceType": "m6i.large"}}
                }
            },
        },
    )
    objs.create_namespaced_custom_object(
        *CAPI,
        namespace,
        "clusters",
        {
            "apiVersion": "cluster.x-k8s.io/v1beta2",
            "kind": "Cluster",
            "metadata": {"name": "k2"},
            "spec": {
                "controlPlaneEndpoint": {"host": "127.0.0.1", "port": port},
                "controlPlaneRef": {
                    "apiGroup": "controlplane.cluster.x-k8s.io",
                    "kind": "KubeadmControlPlane",
                    "name": "k2",
                },
            },
        },
    )
    objs.create_namespaced_custom_object(
        "controlplane.cluster.x-k8s.io",
        "v1beta2",
        namespace,
        "kubeadmcontrolplanes",
        {
            "apiVersion": "controlplane.cluster.x-k8s.io/v1beta2",
            "kind": "KubeadmControlPlane",
            "metadata": {"name": "k2"},
            "spec": {
                "replicas": 1,
                "version": "v1.36.5",
                "machineTemplate": {
                    "spec": {
                        "infrastructureRef": {
                            "apiGroup": "infrastructure.cluster.x-k8s.io",
                            "kind": "CapyMachineTemplate",
                            "name": "m",
                        }
                    }
                },
                "kubeadmConfigSpec": {"postKubeadmCommands": ["echo cp"]},
            },
        },
    )

    # Play the first control-plane machine: an API server with KCP's cluster CA at the endpoint,
    # and the ConfigMap kubeadm init leaves, which is how KCP learns the cluster is initialized.
    def ca_secret() -> Any:
        try:
            return core.read_namespaced_secret("k2-ca", namespace)
        except client.exceptions.ApiException:
            return None

    ca = eventually(ca_secret, timeout=60)
    pair = pki.KeyPair(base64.b64decode(ca.data["tls.crt"]), base64.b64decode(ca.data["tls.key"]))
    workload = start_workload(toolset, tmp_path / "workload", "k2", pair, port=port)
    try:
        wl = config.new_client_from_config_dict(yaml.safe_load(workload.kubeconfig))
        client.CoreV1Api(wl).create_namespaced_config_map(
            "kube-system",
            client.V1ConfigMap(
                metadata=client.V1ObjectMeta(name="kubeadm-config"),
                data={"ClusterConfiguration": "apiVersion: kubeadm.k8s.io/v1beta4\n"},
            ),
        )

        def initialized() -> bool:
            c = objs.get_namespaced_custom_object(*CAPI, namespace, "clusters", "k2")
            return any(
                x["type"] == "ControlPlaneInitialized" and x["status"] == "True"
                for x in (c.get("status") or {}).get("conditions", [])
            )

        eventually(initialized, timeout=120)

        objs.create_namespaced_custom_object(
            *BOOT,
            namespace,
            "kubeadmconfigtemplates",
            {
                "apiVersion": "bootstrap.cluster.x-k8s.io/v1beta2",
                "kind": "KubeadmConfigTemplate",
                "metadata": {"name": "workers"},
                "spec": {
                    "template": {
                        "spec": {
                            "joinConfiguration": {
                                "nodeRegistration": {
                                    "kubeletExtraArgs": [
                                        {"name": "cloud-provider", "value": "external"}
                                    ]
                                }
                            }
                        }
                    }
                },
            },
        )
        objs.create_namespaced_custom_object(
            *CAPI,
            namespace,
            "machinedeployments",
            {
                "apiVersion": "cluster.x-k8s.io/v1beta2",
                "kind": "MachineDeployment",
                "metadata": {"name": "workers"},
                "spec": {
                    "clusterName": "k2",
                    "replicas": 1,
                    "template": {
                        "spec": {
                            "clusterName": "k2",
                            "version": "v1.36.5",
                            "bootstrap": {
                                "configRef": {
                                    "apiGroup": "bootstrap.cluster.x-k8s.io",
                                    "kind": "KubeadmConfigTemplate",
                                    "name": "workers",
                                }
                            },
                            "infrastructureRef": {
                                "apiGroup": "infrastructure.cluster.x-k8s.io",
                                "kind": "CapyMachineTemplate",
                                "name": "m",
                            },
                        }
                    },
                },
            },
        )

        def worker_config() -> dict[str, Any] | None:
            items = objs.list_namespaced_custom_object(*BOOT, namespace, "kubeadmconfigs")["items"]
            for c in items:
                if "cluster.x-k8s.io/control-plane" in (c["metadata"].get("labels") or {}):
                    continue
                if (c.get("status") or {}).get("initialization", {}).get("dataSecretCreated"):
                    return c
            return None

        worker = eventually(worker_config, timeout=120)
        token = worker["spec"]["joinConfiguration"]["discovery"]["bootstrapToken"]["token"]
        secret = client.CoreV1Api(wl).read_namespaced_secret(
            tokens.secret_name(token), "kube-system"
        )
        assert base64.b64decode(secret.data["token-id"]).decode() == token.split(".")[0]

        value = base64.b64decode(
            core.read_namespaced_secret(worker["status"]["dataSecretName"], namespace).data["value"]
        ).decode()
        written = {f["path"]: f for f in yaml.safe_load(value)["write_files"]}
        join = yaml.safe_load(written["/run/kubeadm/kubeadm-join-config.yaml"]["content"])
        discovery = join["discovery"]["bootstrapToken"]
        assert discovery["apiServerEndpoint"] == f"127.0.0.1:{port}"
        assert discovery["caCertHashes"] == [certs.ca_cert_hash(pair.cert)]
        assert not any(p.endswith(".key") for p in written), "workers get no CA keys"

        # No token, key or bootstrap data in the provider's log, Events or the config's status.
        log = Path(bootstrap_provider.log).read_text()
        events = str([e.message for e in core.list_namespaced_event(namespace).items])
        status = str(worker["status"])
        key_line = pair.key.decode().splitlines()[1]
        for secret_text in (token, token.split(".")[1], key_line, value.splitlines()[3]):
            for where, text in (("log", log), ("events", events), ("status", status)):
                assert secret_text not in text, f"a secret leaked into the {where}"
    finally:
        workload.stop()
