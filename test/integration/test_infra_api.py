"""The API server itself rejects bad CapyCluster/CapyMachine input, naming the field and fix."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

pytestmark = pytest.mark.integration

GROUP, VERSION = "infrastructure.cluster.x-k8s.io", "v1alpha1"


def obj(kind: str, spec: dict[str, Any], name: str = "x") -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": kind, "metadata": {"name": name},
            "spec": spec}  # fmt: skip


CLUSTER = {"aws": {"region": "eu-west-1"}}
MACHINE = {"aws": {"ami": {"id": "ami-0123abcd"}, "instanceType": "m6i.large"}}


def with_(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `base` with the dotted `path` set to `value` (None deletes it)."""
    out = copy.deepcopy(base)
    node = out
    *parents, leaf = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    if value is None:
        node.pop(leaf, None)
    else:
        node[leaf] = value
    return out


INVALID_CREATES = [
    ("capyclusters", "CapyCluster", {}, "set exactly one backend block (aws)"),
    ("capyclusters", "CapyCluster", with_(CLUSTER, "aws.region", "EU_WEST"), "spec.aws.region"),
    ("capyclusters", "CapyCluster", with_(CLUSTER, "aws.network.vpc.id", "vpc_1"),
     "spec.aws.network.vpc.id"),
    ("capyclusters", "CapyCluster", with_(CLUSTER, "aws.network.vpc.cidrBlock", "10.0.0.0/8"),
     "spec.aws.network.vpc.cidrBlock"),
    ("capyclusters", "CapyCluster", with_(CLUSTER, "aws.network.natGateways", "Two"),
     'spec.aws.network.natGateways: Unsupported value: "Two"'),
    ("capyclusters", "CapyCluster",
     {**CLUSTER, "controlPlaneEndpoint": {"host": "api.example.com", "port": 70000}},
     "spec.controlPlaneEndpoint.port"),
    ("capyclusters", "CapyCluster", {**CLUSTER, "region": "eu-west-1"},
     'unknown field "spec.region"'),
    ("capymachines", "CapyMachine", with_(MACHINE, "aws.ami", {}),
     "aws.ami needs exactly one of id or lookup"),
    ("capymachines", "CapyMachine",
     with_(MACHINE, "aws.ami.lookup", {"namePattern": "capi-*", "owner": "self"}),
     "aws.ami needs exactly one of id or lookup"),
    ("capymachines", "CapyMachine", with_(MACHINE, "aws.rootVolume", {"size": 4}),
     "spec.aws.rootVolume.size"),
    ("capymachines", "CapyMachine", with_(MACHINE, "aws.instanceType", None),
     'spec.aws.instanceType: Required value'),
    ("capymachines", "CapyMachine", {}, "set exactly one backend block (aws)"),
    ("capymachinetemplates", "CapyMachineTemplate", {"template": {"spec": {}}},
     "set exactly one backend block (aws)"),
]  # fmt: skip


@pytest.mark.parametrize(("plural", "kind", "spec", "message"), INVALID_CREATES)
def test_invalid_create_is_rejected(
    api: client.ApiClient,
    capy_crds: Path,
    namespace: str,
    plural: str,
    kind: str,
    spec: dict[str, Any],
    message: str,
) -> None:
    objs = client.CustomObjectsApi(api)
    with pytest.raises(ApiException) as err:
        objs.create_namespaced_custom_object(
            GROUP, VERSION, namespace, plural, obj(kind, spec), field_validation="Strict"
        )
    # 422 for schema and CEL violations, 400 for fields the schema does not know.
    assert err.value.status in (400, 422), err.value.body
    assert message in json.loads(err.value.body)["message"]


INVALID_UPDATES = [
    ("capyclusters", "CapyCluster", CLUSTER, "aws.region", "us-east-1",
     "aws.region is immutable"),
    ("capyclusters", "CapyCluster", CLUSTER, "aws.network.vpc.cidrBlock", "10.1.0.0/16",
     "aws.network.vpc is immutable"),
    ("capyclusters", "CapyCluster",
     {**CLUSTER, "controlPlaneEndpoint": {"host": "a.example.com", "port": 6443}},
     "controlPlaneEndpoint.host", "b.example.com", "controlPlaneEndpoint is immutable once set"),
    ("capymachines", "CapyMachine", {**MACHINE, "providerID": "aws:///eu-west-1a/i-1"},
     "providerID", "aws:///eu-west-1a/i-2", "providerID is immutable once set"),
    ("capymachines", "CapyMachine", MACHINE, "aws.instanceType", "m6i.xlarge",
     "aws machine settings are immutable"),
    ("capymachinetemplates", "CapyMachineTemplate", {"template": {"spec": MACHINE}},
     "template.spec.aws.instanceType", "m6i.xlarge", "CapyMachineTemplate spec is immutable"),
]  # fmt: skip


@pytest.mark.parametrize(("plural", "kind", "spec", "path", "value", "message"), INVALID_UPDATES)
def test_immutable_field_cannot_change(
    api: client.ApiClient,
    capy_crds: Path,
    namespace: str,
    plural: str,
    kind: str,
    spec: dict[str, Any],
    path: str,
    value: Any,
    message: str,
) -> None:
    objs = client.CustomObjectsApi(api)
    created = objs.create_namespaced_custom_object(
        GROUP, VERSION, namespace, plural, obj(kind, spec), field_validation="Strict"
    )
    created["spec"] = with_(created["spec"], path, value)
    with pytest.raises(ApiException) as err:
        objs.replace_namespaced_custom_object(GROUP, VERSION, namespace, plural, "x", created)
    assert err.value.status == 422, err.value.body
    assert message in json.loads(err.value.body)["message"]


def test_valid_objects_are_accepted_and_defaulted(
    api: client.ApiClient, capy_crds: Path, namespace: str
) -> None:
    objs = client.CustomObjectsApi(api)
    c = objs.create_namespaced_custom_object(
        GROUP, VERSION, namespace, "capyclusters", obj("CapyCluster", CLUSTER)
    )
    assert c["spec"]["aws"]["network"] == {"vpc": {"cidrBlock": "10.0.0.0/16"},
                                           "natGateways": "PerAZ"}  # fmt: skip
    m = objs.create_namespaced_custom_object(
        GROUP, VERSION, namespace, "capymachines",
        obj("CapyMachine", with_(MACHINE, "aws.rootVolume", {"size": 40})),
    )  # fmt: skip
    assert m["spec"]["aws"]["rootVolume"] == {"size": 40, "type": "gp3"}
