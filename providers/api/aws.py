"""The `aws` backend blocks of CapyCluster and CapyMachine."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from capy.model import KubeModel

_IMMUTABLE = "self == oldSelf"


class VPCSpec(KubeModel):
    """The VPC the cluster lives in: adopted by id, or created with the given CIDR."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": _IMMUTABLE,
                    "message": "aws.network.vpc is immutable: create a new CapyCluster to move "
                    "the cluster to another VPC",
                }
            ]
        }
    )

    id: str | None = Field(default=None, pattern=r"^vpc-[0-9a-f]+$")
    """ID of an existing VPC to adopt; capy then creates no VPC and never deletes it."""
    cidr_block: str = Field(
        default="10.0.0.0/16",
        pattern=r"^([0-9]{1,3}\.){3}[0-9]{1,3}/(1[6-9]|2[0-4])$",
        json_schema_extra={"x-capy-default": "10.0.0.0/16"},
    )
    """IPv4 CIDR of the VPC capy creates (/16 to /24); subnets are carved out of it."""


class NetworkSpec(KubeModel):
    """Networking capy creates or adopts for the cluster."""

    # `{}` defaults make the API server fill the nested defaults of an omitted block.
    vpc: VPCSpec = Field(default_factory=VPCSpec, json_schema_extra={"x-capy-default": {}})
    """The VPC."""
    availability_zones: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=6,
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    """Zones to spread subnets over, e.g. [us-east-1a, us-east-1b]; default: the region's
    first three zones."""
    nat_gateways: Literal["PerAZ", "Single", "None"] = Field(
        default="PerAZ", json_schema_extra={"x-capy-default": "PerAZ"}
    )
    """NAT gateways for private subnets: one per zone, one shared by all zones, or none."""


class ControlPlaneLoadBalancer(KubeModel):
    """The network load balancer capy creates in front of the API servers."""

    scheme: Literal["internet-facing", "internal"] = Field(
        default="internet-facing", json_schema_extra={"x-capy-default": "internet-facing"}
    )
    """Whether the load balancer gets a public address."""


class AWSClusterSpec(KubeModel):
    """AWS settings of a CapyCluster."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "self.region == oldSelf.region",
                    "message": "aws.region is immutable: a cluster cannot move between regions",
                }
            ]
        }
    )

    region: str = Field(min_length=1, max_length=32, pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")
    """AWS region, e.g. eu-west-1."""
    network: NetworkSpec = Field(
        default_factory=NetworkSpec, json_schema_extra={"x-capy-default": {}}
    )
    """VPC, subnets, gateways and security groups."""
    control_plane_load_balancer: ControlPlaneLoadBalancer | None = None
    """The API server load balancer; ignored when spec.controlPlaneEndpoint is set."""
    ssh_key_name: str | None = Field(default=None, max_length=255)
    """EC2 key pair machines use unless they name their own."""


class AMILookup(KubeModel):
    """Find the newest image whose name matches a pattern."""

    name_pattern: str = Field(min_length=1, max_length=256)
    """Image name filter; `{{.K8sVersion}}` is replaced by the Machine's Kubernetes version
    without the leading v, e.g. capi-ubuntu-2404-kube-v{{.K8sVersion}}-*."""
    owner: str = Field(min_length=1, max_length=64)
    """Account ID (or alias such as self) that owns the image."""


class AMISpec(KubeModel):
    """The machine image: an ID, or a lookup."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.id) != has(self.lookup)",
                    "message": "aws.ami needs exactly one of id or lookup",
                }
            ]
        }
    )

    id: str | None = Field(default=None, pattern=r"^ami-[0-9a-f]+$")
    """ID of the image, e.g. ami-0123456789abcdef0."""
    lookup: AMILookup | None = None
    """Find the image by name pattern and owner."""


class RootVolume(KubeModel):
    """The instance's root EBS volume."""

    size: int = Field(ge=8, le=16384)
    """Size in GiB (8 to 16384)."""
    type: Literal["gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"] = Field(
        default="gp3", json_schema_extra={"x-capy-default": "gp3"}
    )
    """EBS volume type."""


class AWSMachineSpec(KubeModel):
    """AWS settings of a CapyMachine. Instances are replaced, never changed: all immutable."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": _IMMUTABLE,
                    "message": "aws machine settings are immutable: change the "
                    "CapyMachineTemplate of the MachineDeployment or KubeadmControlPlane instead",
                }
            ]
        }
    )

    ami: AMISpec
    """Image the instance boots."""
    instance_type: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9-]+\.[a-z0-9]+$")
    """EC2 instance type, e.g. m6i.large."""
    root_volume: RootVolume | None = None
    """Root volume; default: the image's own size and type."""
    iam_instance_profile: str | None = Field(default=None, max_length=128)
    """Name of the IAM instance profile to attach."""
    ssh_key_name: str | None = Field(default=None, max_length=255)
    """EC2 key pair; default: the cluster's."""
    subnet_id: str | None = Field(default=None, pattern=r"^subnet-[0-9a-f]+$")
    """Subnet to use instead of the cluster's private subnet in the Machine's failure domain."""
    additional_security_group_ids: list[str] | None = Field(
        default=None, max_length=16, json_schema_extra={"x-kubernetes-list-type": "set"}
    )
    """Security groups attached in addition to the ones capy manages."""
    public_ip: bool | None = None
    """Place the instance in a public subnet with a public address."""
