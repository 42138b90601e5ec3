"""Instances over the real EC2 wire protocol (moto server): one per machine, user data intact."""

from __future__ import annotations

import base64
import gzip
import random
from typing import Any

import pytest

from capy.errors import InvalidSpec
from providers.aws import compute
from providers.aws.client import EC2Compute, Sessions, Target
from providers.aws.types import InstanceRequest

pytestmark = pytest.mark.integration


def default_subnet(ec2: Any) -> str:
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])
    subnet_id: str = sorted(subnets["Subnets"], key=lambda s: s["AvailabilityZone"])[0]["SubnetId"]
    return subnet_id


def any_image(ec2: Any) -> str:
    image_id: str = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    return image_id


def request(ec2: Any, data: bytes = b"#cloud-config\n") -> InstanceRequest:
    return InstanceRequest(
        image_id=any_image(ec2), instance_type="t3.medium", subnet_id=default_subnet(ec2),
        user_data=compute.pack_user_data(data), client_token="unused",
        tags={"sigs.k8s.io/cluster-api-provider-capy/cluster/c1": "owned"},
    )  # fmt: skip


def test_instance_is_launched_once_per_machine(aws: Target, sessions: Sessions, ec2: Any) -> None:
    api = EC2Compute(sessions, aws)
    first, created = compute.ensure_instance(api, request(ec2), "uid-1")
    assert created
    # A controller that lost the first result (crash before the status write) asks again.
    again, created = compute.ensure_instance(api, request(ec2), "uid-1")
    assert not created and again.id == first.id
    other, created = compute.ensure_instance(api, request(ec2), "uid-2")
    assert created and other.id != first.id

    live = ec2.describe_instances(
        Filters=[{"Name": "tag:capy.io/machine-uid", "Values": ["uid-1"]}]
    )
    assert sum(len(r["Instances"]) for r in live["Reservations"]) == 1
    assert compute.provider_id(first) == f"aws:///{first.availability_zone}/{first.id}"
    assert first.tags["sigs.k8s.io/cluster-api-provider-capy/cluster/c1"] == "owned"


def test_user_data_arrives_gzipped_and_intact(aws: Target, sessions: Sessions, ec2: Any) -> None:
    data = b"#cloud-config\nruncmd:\n  - kubeadm init\n" * 50
    inst, _ = compute.ensure_instance(EC2Compute(sessions, aws), request(ec2, data), "uid-ud")
    attr = ec2.describe_instance_attribute(InstanceId=inst.id, Attribute="userData")
    assert gzip.decompress(base64.b64decode(attr["UserData"]["Value"])) == data


def test_oversized_user_data_is_refused_before_any_call() -> None:
    noise = random.Random(0).randbytes(20_000)  # random bytes do not compress below 16 KiB
    with pytest.raises(InvalidSpec, match="16384-byte user data limit"):
        compute.pack_user_data(noise)


def test_terminated_instance_is_seen_and_a_new_machine_uid_gets_a_new_one(
    aws: Target, sessions: Sessions, ec2: Any
) -> None:
    api = EC2Compute(sessions, aws)
    inst, _ = compute.ensure_instance(api, request(ec2), "uid-t")
    api.terminate_instance(inst.id)
    seen = api.describe_instance(inst.id)
    assert seen is not None and seen.state in ("shutting-down", "terminated")
    assert api.find_instances({compute.MACHINE_UID_TAG: "uid-t"}) == []


def test_image_lookup_takes_the_newest_match(aws: Target, sessions: Sessions, ec2: Any) -> None:
    base = any_image(ec2)
    src = ec2.run_instances(ImageId=base, InstanceType="t3.micro", MinCount=1, MaxCount=1)
    iid = src["Instances"][0]["InstanceId"]
    for n in ("capi-ubuntu-2404-kube-v1.36.5-001", "capi-ubuntu-2404-kube-v1.36.5-002"):
        ec2.create_image(InstanceId=iid, Name=n)
    api = EC2Compute(sessions, aws)
    image = compute.resolve_image(api, None, "capi-ubuntu-2404-kube-v{{.K8sVersion}}-*", "self",
                                  "v1.36.5")  # fmt: skip
    assert not isinstance(image, str)
    assert image.name.startswith("capi-ubuntu-2404-kube-v1.36.5-")
    with pytest.raises(InvalidSpec, match="no available image"):
        compute.resolve_image(api, None, "nothing-*", "self", "v1.36.5")
