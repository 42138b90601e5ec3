"""What the AWS protocol returns and takes: our own dataclasses, never boto3 dicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Instance:
    id: str
    state: str
    availability_zone: str
    subnet_id: str | None = None
    private_ip: str | None = None
    public_ip: str | None = None
    private_dns: str | None = None
    public_dns: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Image:
    id: str
    name: str
    created: str
    root_device_name: str


@dataclass(frozen=True)
class InstanceRequest:
    image_id: str
    instance_type: str
    subnet_id: str
    user_data: bytes
    client_token: str
    tags: Mapping[str, str]
    security_group_ids: Sequence[str] = ()
    key_name: str | None = None
    iam_instance_profile: str | None = None
    public_ip: bool | None = None
    root_volume_size: int | None = None
    root_volume_type: str | None = None
    root_device_name: str = "/dev/sda1"


@dataclass(frozen=True)
class Vpc:
    id: str
    cidr: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Subnet:
    id: str
    availability_zone: str
    cidr: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NatGateway:
    id: str
    subnet_id: str
    state: str
    allocation_id: str | None
    tags: Mapping[str, str] = field(default_factory=dict)
    interface_id: str | None = None


@dataclass(frozen=True)
class Tagged:
    """Any EC2 resource found by its tags: internet gateways, route tables, groups, addresses."""

    id: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """An ingress rule: TCP ports from a CIDR or from another security group (by role)."""

    from_port: int
    to_port: int
    cidr: str | None = None
    source_role: str | None = None
    protocol: str = "tcp"


@dataclass(frozen=True)
class LoadBalancer:
    arn: str
    dns_name: str
    state: str
    target_group_arn: str | None = None
