"""AWS behind a small protocol; the only module of capy that imports boto3.

Every call goes through one pooled boto3 session per credentials and endpoint, and through a
token bucket shared by all callers of the same account and region, so a burst of reconciles
never turns into throttling. Results are our own dataclasses; botocore errors become capy errors.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from capy.errors import CloudQuota, DeletionBlocked, InvalidSpec, Retryable
from providers.aws.types import (
    Image,
    Instance,
    InstanceRequest,
    LoadBalancer,
    NatGateway,
    Rule,
    Subnet,
    Tagged,
    Vpc,
)

_THROTTLED = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests"}
_QUOTA = {
    "InstanceLimitExceeded",
    "VcpuLimitExceeded",
    "AddressLimitExceeded",
    "VpcLimitExceeded",
    "InsufficientInstanceCapacity",
    "TooManyLoadBalancers",
}
_INVALID_PREFIXES = (
    "InvalidAMIID",
    "InvalidParameter",
    "InvalidKeyPair",
    "InvalidSubnetID",
    "InvalidGroup",
    "Unsupported",
    "InvalidInstanceType",
)


class NotFound(Exception):
    """The resource does not exist (any more)."""


def map_error(err: ClientError, what: str) -> Exception:
    code = str(err.response.get("Error", {}).get("Code", ""))
    message = str(err.response.get("Error", {}).get("Message", ""))
    text = f"{what}: {code}: {message}"
    if code in _THROTTLED:
        return Retryable(text, reason="Throttled", delay=20)
    if code in _QUOTA:
        return CloudQuota(text)
    if code == "DependencyViolation":
        return DeletionBlocked(text)
    if code.endswith(".NotFound") or code.endswith("NotFound"):
        return NotFound(text)
    if code.startswith(_INVALID_PREFIXES):
        return InvalidSpec(text)
    return Retryable(text)


@dataclass(frozen=True)
class Target:
    """Where calls go: a region, optionally an endpoint (a simulator) and explicit credentials."""

    region: str
    endpoint_url: str | None = None
    access_key_id: str | None = None
    # Never in a repr: a Target may end up in a log line or an exception.
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_secret(
        cls, region: str, data: Mapping[str, bytes] | None, endpoint_url: str | None = None
    ) -> Target:
        """Credentials from an identityRef Secret (AccessKeyID, SecretAccessKey, SessionToken)."""
        if data is None:
            return cls(region, endpoint_url)
        missing = [k for k in ("AccessKeyID", "SecretAccessKey") if k not in data]
        if missing:
            raise InvalidSpec(
                f"identityRef Secret lacks {', '.join(missing)}: an AWS identity needs "
                "AccessKeyID and SecretAccessKey (and optionally SessionToken)"
            )
        token = data.get("SessionToken")
        return cls(
            region,
            endpoint_url,
            data["AccessKeyID"].decode(),
            data["SecretAccessKey"].decode(),
            token.decode() if token else None,
        )

    @property
    def account_key(self) -> tuple[str | None, str | None, str]:
        # The access key stands for the account: the bucket is shared per account and region.
        return (self.endpoint_url, self.access_key_id, self.region)


class RateLimiter:
    """A thread-safe token bucket: `rate` calls per second on average, bursts up to `burst`."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._tokens = float(burst)
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping as needed; returns the seconds waited."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait:
            time.sleep(wait)
        return wait


class Sessions:
    """boto3 sessions and clients, one per credentials and endpoint, shared by all reconciles."""

    def __init__(self, rate: float = 20.0, burst: int = 40) -> None:
        self._rate, self._burst = rate, burst
        self._lock = threading.Lock()
        self._sessions: dict[Target, Any] = {}
        self._clients: dict[tuple[Target, str], Any] = {}
        self._limiters: dict[tuple[str | None, str | None, str], RateLimiter] = {}
        self.calls = 0

    def client(self, target: Target, service: str) -> Any:
        with self._lock:
            key = (target, service)
            if key not in self._clients:
                if target not in self._sessions:
                    self._sessions[target] = boto3.session.Session(
                        aws_access_key_id=target.access_key_id,
                        aws_secret_access_key=target.secret_access_key,
                        aws_session_token=target.session_token,
                        region_name=target.region,
                    )
                self._clients[key] = self._sessions[target].client(
                    service,
                    endpoint_url=target.endpoint_url,
                    config=Config(retries={"mode": "standard", "max_attempts": 3}),
                )
            return self._clients[key]

    def limiter(self, target: Target) -> RateLimiter:
        with self._lock:
            return self._limiters.setdefault(
                target.account_key, RateLimiter(self._rate, self._burst)
            )

    def call(self, target: Target, service: str, op: str, what: str, **kwargs: Any) -> Any:
        client = self.client(target, service)
        self.limiter(target).acquire()
        with self._lock:
            self.calls += 1
        try:
            return getattr(client, op)(**kwargs)
        except ClientError as err:
            raise map_error(err, what) from None
        except BotoCoreError as err:
            raise Retryable(f"{what}: {err}") from None


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def tag_filters(tags: Mapping[str, str]) -> list[dict[str, Any]]:
    return [{"Name": f"tag:{k}", "Values": [v]} for k, v in sorted(tags.items())]


def _tags(raw: Sequence[Mapping[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in raw or []}


class Compute(Protocol):
    def find_instances(self, tags: Mapping[str, str]) -> list[Instance]: ...

    def instance_ids(self, tags: Mapping[str, str]) -> list[str]:
        """Every instance with these tags, terminated ones included."""
        ...

    def run_instance(self, req: InstanceRequest) -> Instance: ...

    def describe_instance(self, instance_id: str) -> Instance | None: ...

    def terminate_instance(self, instance_id: str) -> None: ...

    def find_images(self, name_pattern: str, owner: str) -> list[Image]: ...

    def availability_zones(self) -> list[str]: ...


_LIVE = ["pending", "running", "stopping", "stopped"]


def _instance(raw: Mapping[str, Any]) -> Instance:
    return Instance(
        id=raw["InstanceId"],
        state=raw["State"]["Name"],
        availability_zone=raw.get("Placement", {}).get("AvailabilityZone", ""),
        subnet_id=raw.get("SubnetId"),
        private_ip=raw.get("PrivateIpAddress"),
        public_ip=raw.get("PublicIpAddress"),
        private_dns=raw.get("PrivateDnsName") or None,
        public_dns=raw.get("PublicDnsName") or None,
        tags=_tags(raw.get("Tags")),
    )


class EC2Compute:
    """`Compute` over EC2."""

    def __init__(self, sessions: Sessions, target: Target) -> None:
        self.sessions, self.target = sessions, target

    def _call(self, op: str, what: str, **kwargs: Any) -> Any:
        return self.sessions.call(self.target, "ec2", op, what, **kwargs)

    def find_instances(self, tags: Mapping[str, str]) -> list[Instance]:
        filters = [*tag_filters(tags), {"Name": "instance-state-name", "Values": _LIVE}]
        out = self._call("describe_instances", "finding instances", Filters=filters)
        return [_instance(i) for r in out["Reservations"] for i in r["Instances"]]

    def instance_ids(self, tags: Mapping[str, str]) -> list[str]:
        out = self._call("describe_instances", "listing instances", Filters=tag_filters(tags))
        return sorted(i["InstanceId"] for r in out["Reservations"] for i in r["Instances"])

    def run_instance(self, req: InstanceRequest) -> Instance:
        kwargs: dict[str, Any] = {
            "ImageId": req.image_id,
            "InstanceType": req.instance_type,
            "MinCount": 1,
            "MaxCount": 1,
            "ClientToken": req.client_token,
            "UserData": req.user_data,
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": tag_list(req.tags)},
                {"ResourceType": "volume", "Tags": tag_list(req.tags)},
            ],
            "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"},
        }
        nic: dict[str, Any] = {"DeviceIndex": 0, "SubnetId": req.subnet_id}
        if req.security_group_ids:
            nic["Groups"] = list(req.security_group_ids)
        if req.public_ip is not None:
            nic["AssociatePublicIpAddress"] = req.public_ip
        kwargs["NetworkInterfaces"] = [nic]
        if req.key_name:
            kwargs["KeyName"] = req.key_name
        if req.iam_instance_profile:
            kwargs["IamInstanceProfile"] = {"Name": req.iam_instance_profile}
        if req.root_volume_size:
            ebs: dict[str, Any] = {"VolumeSize": req.root_volume_size, "DeleteOnTermination": True}
            if req.root_volume_type:
                ebs["VolumeType"] = req.root_volume_type
            kwargs["BlockDeviceMappings"] = [{"DeviceName": req.root_device_name, "Ebs": ebs}]
        out = self._call("run_instances", f"launching instance from {req.image_id}", **kwargs)
        return _instance(out["Instances"][0])

    def describe_instance(self, instance_id: str) -> Instance | None:
        try:
            out = self._call(
                "describe_instances", f"describing {instance_id}", InstanceIds=[instance_id]
            )
        except NotFound:
            return None
        found = [_instance(i) for r in out["Reservations"] for i in r["Instances"]]
        return found[0] if found else None

    def terminate_instance(self, instance_id: str) -> None:
        try:
            self._call(
                "terminate_instances", f"terminating {instance_id}", InstanceIds=[instance_id]
            )
        except NotFound:
            return

    def find_images(self, name_pattern: str, owner: str) -> list[Image]:
        out = self._call(
            "describe_images",
            f"looking up images {name_pattern!r} of {owner}",
            Owners=[owner],
            Filters=[
                {"Name": "name", "Values": [name_pattern]},
                {"Name": "state", "Values": ["available"]},
            ],
        )
        images = [
            Image(
                i["ImageId"],
                i.get("Name", ""),
                i.get("CreationDate", ""),
                i.get("RootDeviceName") or "/dev/sda1",
            )
            for i in out["Images"]
        ]
        return sorted(images, key=lambda i: i.created, reverse=True)

    def availability_zones(self) -> list[str]:
        out = self._call(
            "describe_availability_zones",
            "listing availability zones",
            Filters=[{"Name": "state", "Values": ["available"]}],
        )
        return sorted(z["ZoneName"] for z in out["AvailabilityZones"])


class Network(Protocol):
    def find_vpcs(self, tags: Mapping[str, str]) -> list[Vpc]: ...
    def describe_vpc(self, vpc_id: str) -> Vpc | None: ...
    def create_vpc(self, cidr: str, tags: Mapping[str, str]) -> Vpc: ...
    def delete_vpc(self, vpc_id: str) -> None: ...
    def find_subnets(self, vpc_id: str) -> list[Subnet]: ...
    def create_subnet(
        self, vpc_id: str, cidr: str, zone: str, public: bool, tags: Mapping[str, str]
    ) -> Subnet: ...
    def delete_subnet(self, subnet_id: str) -> None: ...
    def find_tagged(self, kind: str, tags: Mapping[str, str]) -> list[Tagged]: ...
    def create_internet_gateway(self, vpc_id: str, tags: Mapping[str, str]) -> Tagged: ...
    def delete_internet_gateway(self, igw_id: str, vpc_id: str) -> None: ...
    def allocate_address(self, tags: Mapping[str, str]) -> Tagged: ...
    def release_address(self, allocation_id: str) -> None: ...
    def find_nat_gateways(self, vpc_id: str, *, deleting: bool = False) -> list[NatGateway]: ...
    def create_nat_gateway(
        self, subnet_id: str, allocation_id: str, token: str, tags: Mapping[str, str]
    ) -> NatGateway: ...
    def delete_nat_gateway(self, nat_id: str) -> None: ...
    def create_route_table(self, vpc_id: str, tags: Mapping[str, str]) -> Tagged: ...
    def ensure_default_route(self, table_id: str, gateway_id: str, nat: bool) -> None: ...
    def associate_route_table(self, table_id: str, subnet_id: str) -> None: ...
    def delete_route_table(self, table_id: str) -> None: ...
    def create_security_group(self, vpc_id: str, name: str, tags: Mapping[str, str]) -> Tagged: ...
    def authorize(self, group_id: str, rules: Sequence[tuple[Rule, str | None]]) -> None: ...
    def delete_interface(self, interface_id: str) -> None: ...
    def revoke_all(self, group_id: str) -> None: ...
    def delete_security_group(self, group_id: str) -> None: ...
    def foreign_interfaces(self, subnet_ids: Sequence[str], ours: Sequence[str]) -> list[str]: ...


_TAGGED_CALLS = {
    "subnet": ("describe_subnets", "Subnets", "SubnetId"),
    "internet-gateway": ("describe_internet_gateways", "InternetGateways", "InternetGatewayId"),
    "route-table": ("describe_route_tables", "RouteTables", "RouteTableId"),
    "security-group": ("describe_security_groups", "SecurityGroups", "GroupId"),
    "address": ("describe_addresses", "Addresses", "AllocationId"),
}


class EC2Network:
    """`Network` over EC2."""

    def __init__(self, sessions: Sessions, target: Target) -> None:
        self.sessions, self.target = sessions, target

    def _call(self, op: str, what: str, **kwargs: Any) -> Any:
        return self.sessions.call(self.target, "ec2", op, what, **kwargs)

    def _spec(self, kind: str, tags: Mapping[str, str]) -> list[dict[str, Any]]:
        return [{"ResourceType": kind, "Tags": tag_list(tags)}]

    def find_vpcs(self, tags: Mapping[str, str]) -> list[Vpc]:
        out = self._call("describe_vpcs", "finding VPCs", Filters=tag_filters(tags))
        return [Vpc(v["VpcId"], v["CidrBlock"], _tags(v.get("Tags"))) for v in out["Vpcs"]]

    def describe_vpc(self, vpc_id: str) -> Vpc | None:
        try:
            out = self._call("describe_vpcs", f"describing {vpc_id}", VpcIds=[vpc_id])
        except NotFound:
            return None
        return next(
            (Vpc(v["VpcId"], v["CidrBlock"], _tags(v.get("Tags"))) for v in out["Vpcs"]), None
        )

    def create_vpc(self, cidr: str, tags: Mapping[str, str]) -> Vpc:
        v = self._call(
            "create_vpc",
            f"creating VPC {cidr}",
            CidrBlock=cidr,
            TagSpecifications=self._spec("vpc", tags),
        )["Vpc"]
        for attr in ("EnableDnsSupport", "EnableDnsHostnames"):
            self._call(
                "modify_vpc_attribute",
                f"enabling {attr}",
                VpcId=v["VpcId"],
                **{attr: {"Value": True}},
            )
        return Vpc(v["VpcId"], v["CidrBlock"], dict(tags))

    def delete_vpc(self, vpc_id: str) -> None:
        with suppress(NotFound):
            self._call("delete_vpc", f"deleting VPC {vpc_id}", VpcId=vpc_id)

    def find_subnets(self, vpc_id: str) -> list[Subnet]:
        out = self._call(
            "describe_subnets",
            f"listing subnets of {vpc_id}",
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}],
        )
        return [
            Subnet(s["SubnetId"], s["AvailabilityZone"], s["CidrBlock"], _tags(s.get("Tags")))
            for s in out["Subnets"]
        ]

    def create_subnet(
        self, vpc_id: str, cidr: str, zone: str, public: bool, tags: Mapping[str, str]
    ) -> Subnet:
        s = self._call(
            "create_subnet",
            f"creating subnet {cidr} in {zone}",
            VpcId=vpc_id,
            CidrBlock=cidr,
            AvailabilityZone=zone,
            TagSpecifications=self._spec("subnet", tags),
        )["Subnet"]
        if public:
            self._call(
                "modify_subnet_attribute",
                "mapping public IPs",
                SubnetId=s["SubnetId"],
                MapPublicIpOnLaunch={"Value": True},
            )
        return Subnet(s["SubnetId"], zone, cidr, dict(tags))

    def delete_subnet(self, subnet_id: str) -> None:
        with suppress(NotFound):
            self._call("delete_subnet", f"deleting subnet {subnet_id}", SubnetId=subnet_id)

    def find_tagged(self, kind: str, tags: Mapping[str, str]) -> list[Tagged]:
        op, key, id_key = _TAGGED_CALLS[kind]
        out = self._call(op, f"finding {kind}s", Filters=tag_filters(tags))
        return [Tagged(r[id_key], _tags(r.get("Tags"))) for r in out[key]]

    def create_internet_gateway(self, vpc_id: str, tags: Mapping[str, str]) -> Tagged:
        igw = self._call(
            "create_internet_gateway",
            "creating internet gateway",
            TagSpecifications=self._spec("internet-gateway", tags),
        )
        igw_id = igw["InternetGateway"]["InternetGatewayId"]
        self._call(
            "attach_internet_gateway", f"attaching {igw_id}", InternetGatewayId=igw_id, VpcId=vpc_id
        )
        return Tagged(igw_id, dict(tags))

    def delete_internet_gateway(self, igw_id: str, vpc_id: str) -> None:
        with suppress(NotFound):
            self._call(
                "detach_internet_gateway",
                f"detaching {igw_id}",
                InternetGatewayId=igw_id,
                VpcId=vpc_id,
            )
        with suppress(NotFound):
            self._call("delete_internet_gateway", f"deleting {igw_id}", InternetGatewayId=igw_id)

    def allocate_address(self, tags: Mapping[str, str]) -> Tagged:
        out = self._call(
            "allocate_address",
            "allocating an elastic IP",
            Domain="vpc",
            TagSpecifications=self._spec("elastic-ip", tags),
        )
        return Tagged(out["AllocationId"], dict(tags))

    def release_address(self, allocation_id: str) -> None:
        with suppress(NotFound):
            self._call("release_address", f"releasing {allocation_id}", AllocationId=allocation_id)

    def find_nat_gateways(self, vpc_id: str, *, deleting: bool = False) -> list[NatGateway]:
        """Live NAT gateways of the VPC; with `deleting`, also those still being deleted."""
        gone = ("deleted", "failed") if deleting else ("deleted", "deleting", "failed")
        out = self._call(
            "describe_nat_gateways",
            f"listing NAT gateways of {vpc_id}",
            Filter=[{"Name": "vpc-id", "Values": [vpc_id]}],
        )
        return [
            NatGateway(
                n["NatGatewayId"],
                n["SubnetId"],
                n["State"],
                next((a.get("AllocationId") for a in n.get("NatGatewayAddresses", [])), None),
                _tags(n.get("Tags")),
                next((a.get("NetworkInterfaceId") for a in n.get("NatGatewayAddresses", [])), None),
            )
            for n in out["NatGateways"]
            if n["State"] not in gone
        ]

    def create_nat_gateway(
        self, subnet_id: str, allocation_id: str, token: str, tags: Mapping[str, str]
    ) -> NatGateway:
        n = self._call(
            "create_nat_gateway",
            f"creating NAT gateway in {subnet_id}",
            SubnetId=subnet_id,
            AllocationId=allocation_id,
            ClientToken=token,
            TagSpecifications=self._spec("natgateway", tags),
        )["NatGateway"]
        return NatGateway(n["NatGatewayId"], subnet_id, n["State"], allocation_id, dict(tags))

    def delete_nat_gateway(self, nat_id: str) -> None:
        with suppress(NotFound):
            self._call("delete_nat_gateway", f"deleting {nat_id}", NatGatewayId=nat_id)

    def create_route_table(self, vpc_id: str, tags: Mapping[str, str]) -> Tagged:
        rt = self._call(
            "create_route_table",
            "creating route table",
            VpcId=vpc_id,
            TagSpecifications=self._spec("route-table", tags),
        )["RouteTable"]
        return Tagged(rt["RouteTableId"], dict(tags))

    def ensure_default_route(self, table_id: str, gateway_id: str, nat: bool) -> None:
        target = {"NatGatewayId": gateway_id} if nat else {"GatewayId": gateway_id}
        try:
            self._call(
                "create_route",
                f"routing 0.0.0.0/0 of {table_id}",
                RouteTableId=table_id,
                DestinationCidrBlock="0.0.0.0/0",
                **target,
            )
        except Retryable as err:
            if "RouteAlreadyExists" not in err.message:
                raise

    def associate_route_table(self, table_id: str, subnet_id: str) -> None:
        out = self._call("describe_route_tables", f"checking {table_id}", RouteTableIds=[table_id])
        done = {a.get("SubnetId") for t in out["RouteTables"] for a in t.get("Associations", [])}
        if subnet_id not in done:
            self._call(
                "associate_route_table",
                f"associating {table_id} with {subnet_id}",
                RouteTableId=table_id,
                SubnetId=subnet_id,
            )

    def delete_route_table(self, table_id: str) -> None:
        with suppress(NotFound):
            out = self._call(
                "describe_route_tables", f"reading {table_id}", RouteTableIds=[table_id]
            )
            for t in out["RouteTables"]:
                for a in t.get("Associations", []):
                    if not a.get("Main"):
                        self._call(
                            "disassociate_route_table",
                            "disassociating",
                            AssociationId=a["RouteTableAssociationId"],
                        )
            self._call("delete_route_table", f"deleting {table_id}", RouteTableId=table_id)

    def create_security_group(self, vpc_id: str, name: str, tags: Mapping[str, str]) -> Tagged:
        g = self._call(
            "create_security_group",
            f"creating security group {name}",
            VpcId=vpc_id,
            GroupName=name,
            Description=f"capy: {name}",
            TagSpecifications=self._spec("security-group", tags),
        )
        return Tagged(g["GroupId"], dict(tags))

    def authorize(self, group_id: str, rules: Sequence[tuple[Rule, str | None]]) -> None:
        perms = []
        for rule, source_group in rules:
            perm: dict[str, Any] = {
                "IpProtocol": rule.protocol,
                "FromPort": rule.from_port,
                "ToPort": rule.to_port,
            }
            if source_group:
                perm["UserIdGroupPairs"] = [{"GroupId": source_group}]
            else:
                perm["IpRanges"] = [{"CidrIp": rule.cidr or "0.0.0.0/0"}]
            perms.append(perm)
        try:
            self._call(
                "authorize_security_group_ingress",
                f"authorizing {group_id}",
                GroupId=group_id,
                IpPermissions=perms,
            )
        except Retryable as err:
            if "InvalidPermission.Duplicate" not in err.message:
                raise

    def delete_interface(self, interface_id: str) -> None:
        with suppress(NotFound):
            self._call(
                "delete_network_interface",
                f"deleting {interface_id}",
                NetworkInterfaceId=interface_id,
            )

    def revoke_all(self, group_id: str) -> None:
        """Drop every ingress rule, so groups that reference each other can be deleted."""
        with suppress(NotFound):
            out = self._call("describe_security_groups", f"reading {group_id}", GroupIds=[group_id])
            perms = [p for g in out["SecurityGroups"] for p in g.get("IpPermissions", [])]
            if perms:
                self._call(
                    "revoke_security_group_ingress",
                    f"revoking rules of {group_id}",
                    GroupId=group_id,
                    IpPermissions=perms,
                )

    def delete_security_group(self, group_id: str) -> None:
        with suppress(NotFound):
            self._call("delete_security_group", f"deleting {group_id}", GroupId=group_id)

    def foreign_interfaces(self, subnet_ids: Sequence[str], ours: Sequence[str]) -> list[str]:
        """Interfaces in these subnets not attached to one of `ours` (instance ids)."""
        if not subnet_ids:
            return []
        out = self._call(
            "describe_network_interfaces",
            "listing network interfaces",
            Filters=[{"Name": "subnet-id", "Values": list(subnet_ids)}],
        )
        return sorted(
            n["NetworkInterfaceId"]
            for n in out["NetworkInterfaces"]
            if (n.get("Attachment") or {}).get("InstanceId") not in ours
            and n.get("InterfaceType", "interface") == "interface"
        )


class LoadBalancing(Protocol):
    def find_load_balancer(self, name: str) -> LoadBalancer | None: ...
    def create_load_balancer(self, name: str, subnet_ids: Sequence[str], internal: bool,
                             tags: Mapping[str, str]) -> LoadBalancer: ...  # fmt: skip
    def delete_load_balancer(self, arn: str) -> None: ...
    def find_target_group(self, name: str) -> str | None: ...
    def create_target_group(self, name: str, vpc_id: str, port: int,
                            tags: Mapping[str, str]) -> str: ...  # fmt: skip
    def delete_target_group(self, arn: str) -> None: ...
    def ensure_listener(self, lb_arn: str, target_group_arn: str, port: int) -> None: ...
    def register(self, target_group_arn: str, instance_id: str, port: int) -> None: ...
    def deregister(self, target_group_arn: str, instance_id: str, port: int) -> None: ...


class ELBv2:
    """`LoadBalancing` over Elastic Load Balancing v2 (network load balancers)."""

    def __init__(self, sessions: Sessions, target: Target) -> None:
        self.sessions, self.target = sessions, target

    def _call(self, op: str, what: str, **kwargs: Any) -> Any:
        return self.sessions.call(self.target, "elbv2", op, what, **kwargs)

    def find_load_balancer(self, name: str) -> LoadBalancer | None:
        try:
            out = self._call("describe_load_balancers", f"finding {name}", Names=[name])
        except NotFound:
            return None
        lb = out["LoadBalancers"][0]
        return LoadBalancer(lb["LoadBalancerArn"], lb["DNSName"], lb["State"]["Code"])

    def create_load_balancer(
        self, name: str, subnet_ids: Sequence[str], internal: bool, tags: Mapping[str, str]
    ) -> LoadBalancer:
        lb = self._call(
            "create_load_balancer",
            f"creating load balancer {name}",
            Name=name,
            Type="network",
            Scheme="internal" if internal else "internet-facing",
            Subnets=list(subnet_ids),
            Tags=tag_list(tags),
        )["LoadBalancers"][0]
        return LoadBalancer(lb["LoadBalancerArn"], lb["DNSName"], lb["State"]["Code"])

    def delete_load_balancer(self, arn: str) -> None:
        with suppress(NotFound):
            self._call("delete_load_balancer", "deleting the load balancer", LoadBalancerArn=arn)

    def find_target_group(self, name: str) -> str | None:
        try:
            out = self._call("describe_target_groups", f"finding {name}", Names=[name])
        except NotFound:
            return None
        arn: str = out["TargetGroups"][0]["TargetGroupArn"]
        return arn

    def create_target_group(
        self, name: str, vpc_id: str, port: int, tags: Mapping[str, str]
    ) -> str:
        out = self._call(
            "create_target_group",
            f"creating target group {name}",
            Name=name,
            Protocol="TCP",
            Port=port,
            VpcId=vpc_id,
            TargetType="instance",
            HealthCheckProtocol="TCP",
            Tags=tag_list(tags),
        )
        arn: str = out["TargetGroups"][0]["TargetGroupArn"]
        return arn

    def delete_target_group(self, arn: str) -> None:
        with suppress(NotFound):
            self._call("delete_target_group", "deleting the target group", TargetGroupArn=arn)

    def ensure_listener(self, lb_arn: str, target_group_arn: str, port: int) -> None:
        out = self._call("describe_listeners", "listing listeners", LoadBalancerArn=lb_arn)
        if any(listener["Port"] == port for listener in out["Listeners"]):
            return
        self._call(
            "create_listener",
            f"creating listener :{port}",
            LoadBalancerArn=lb_arn,
            Protocol="TCP",
            Port=port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group_arn}],
        )

    def register(self, target_group_arn: str, instance_id: str, port: int) -> None:
        self._call(
            "register_targets",
            f"registering {instance_id}",
            TargetGroupArn=target_group_arn,
            Targets=[{"Id": instance_id, "Port": port}],
        )

    def deregister(self, target_group_arn: str, instance_id: str, port: int) -> None:
        try:
            self._call(
                "deregister_targets",
                f"deregistering {instance_id}",
                TargetGroupArn=target_group_arn,
                Targets=[{"Id": instance_id, "Port": port}],
            )
        except NotFound:
            return
        except Retryable as err:
            # Never registered (a worker, or a failed launch): nothing to undo.
            if "InvalidTarget" not in err.message:
                raise
