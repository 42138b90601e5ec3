"""A cluster's network on AWS: create or adopt, idempotently, and delete in dependency order.

Every resource carries the cluster's tags plus a `capy.io/role` tag naming its place in the
layout (e.g. `private-eu-west-1a`, `sg-node`), written with the create call. Each step looks up
its role first, so repeating a reconcile, or resuming after a crash, creates nothing twice.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from capy.errors import DeletionBlocked, InvalidSpec
from providers.aws.client import Network
from providers.aws.types import Rule, Subnet, Tagged

ROLE_TAG = "capy.io/role"
NatMode = Literal["PerAZ", "Single", "None"]
API_PORT = 6443

# Security groups by role, and what each admits. source_role names another of our groups.
SECURITY_GROUPS: Mapping[str, Sequence[Rule]] = {
    "lb": (Rule(API_PORT, API_PORT, cidr="0.0.0.0/0"),),
    "controlplane": (
        Rule(API_PORT, API_PORT, source_role="lb"),
        Rule(API_PORT, API_PORT, source_role="node"),
        Rule(API_PORT, API_PORT, source_role="controlplane"),
        Rule(2379, 2380, source_role="controlplane"),
        Rule(10250, 10250, source_role="controlplane"),
    ),
    "node": (
        Rule(10250, 10250, source_role="controlplane"),
        Rule(30000, 32767, source_role="node"),
        Rule(0, 65535, source_role="node"),
    ),
}


@dataclass(frozen=True)
class NetworkRequest:
    cluster: str
    tags: Mapping[str, str]
    vpc_id: str | None
    cidr: str
    zones: Sequence[str]
    nat: NatMode


@dataclass
class NetworkStatus:
    vpc_id: str
    owned_vpc: bool
    public: dict[str, str] = field(default_factory=dict)
    """Public subnet id by zone."""
    private: dict[str, str] = field(default_factory=dict)
    """Private subnet id by zone."""
    groups: dict[str, str] = field(default_factory=dict)
    """Security group id by role."""
    created: list[str] = field(default_factory=list)


def plan_subnets(cidr: str, zones: Sequence[str]) -> dict[tuple[str, str], str]:
    """Public and private CIDRs per zone: the VPC split in 16, publics first, then privates."""
    vpc = ipaddress.ip_network(cidr)
    if len(zones) > 8:
        raise InvalidSpec("aws.network.availabilityZones: at most 8 zones fit the subnet layout")
    blocks = list(vpc.subnets(prefixlen_diff=4))
    plan = {}
    for i, zone in enumerate(zones):
        plan[("public", zone)] = str(blocks[i])
        plan[("private", zone)] = str(blocks[8 + i])
    return plan


def _role(tags: Mapping[str, str], role: str) -> dict[str, str]:
    return {**tags, ROLE_TAG: role, "Name": f"{role}"}


def owned_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The tags that identify the cluster (ownership), without user tags, for lookups."""
    return {
        k: v for k, v in tags.items() if k.startswith("sigs.k8s.io/") or k.startswith("capy.io/")
    }


def _one(found: Sequence[Tagged]) -> Tagged | None:
    return sorted(found, key=lambda t: t.id)[0] if found else None


def reconcile_network(net: Network, req: NetworkRequest) -> NetworkStatus:
    owned = owned_tags(req.tags)
    if req.vpc_id:
        vpc = net.describe_vpc(req.vpc_id)
        if vpc is None:
            raise InvalidSpec(f"aws.network.vpc.id {req.vpc_id} does not exist in this region")
        status = NetworkStatus(vpc.id, owned_vpc=False)
    else:
        found = net.find_vpcs({**owned, ROLE_TAG: "vpc"})
        if found:
            vpc = sorted(found, key=lambda v: v.id)[0]
            status = NetworkStatus(vpc.id, owned_vpc=True)
        else:
            vpc = net.create_vpc(req.cidr, _role(req.tags, "vpc"))
            status = NetworkStatus(vpc.id, owned_vpc=True, created=[f"VPC {vpc.id}"])

    existing: dict[str, Subnet] = {}
    for s in net.find_subnets(vpc.id):
        role = s.tags.get(ROLE_TAG)
        if role:
            existing[role] = s
    for (kind, zone), cidr in plan_subnets(vpc.cidr, req.zones).items():
        role = f"{kind}-{zone}"
        subnet = existing.get(role)
        if subnet is None:
            subnet = net.create_subnet(vpc.id, cidr, zone, kind == "public", _role(req.tags, role))
            status.created.append(f"subnet {subnet.id} ({role})")
        (status.public if kind == "public" else status.private)[zone] = subnet.id

    igw = _one(net.find_tagged("internet-gateway", {**owned, ROLE_TAG: "igw"}))
    if igw is None:
        igw = net.create_internet_gateway(vpc.id, _role(req.tags, "igw"))
        status.created.append(f"internet gateway {igw.id}")
    public_rt = _route_table(net, vpc.id, req.tags, owned, "rt-public", status)
    net.ensure_default_route(public_rt.id, igw.id, nat=False)
    for subnet_id in status.public.values():
        net.associate_route_table(public_rt.id, subnet_id)

    nat_by_zone = _nat_gateways(net, req, owned, status)
    for zone, subnet_id in status.private.items():
        rt = _route_table(net, vpc.id, req.tags, owned, f"rt-private-{zone}", status)
        nat = nat_by_zone.get(zone) or nat_by_zone.get("*")
        if nat:
            net.ensure_default_route(rt.id, nat, nat=True)
        net.associate_route_table(rt.id, subnet_id)

    for role in SECURITY_GROUPS:
        group = _one(net.find_tagged("security-group", {**owned, ROLE_TAG: f"sg-{role}"}))
        if group is None:
            name = f"{req.cluster}-{role}-{hashlib.sha256(vpc.id.encode()).hexdigest()[:6]}"
            group = net.create_security_group(vpc.id, name, _role(req.tags, f"sg-{role}"))
            status.created.append(f"security group {group.id} ({role})")
        status.groups[role] = group.id
    for role, rules in SECURITY_GROUPS.items():
        pairs = [(r, status.groups[r.source_role] if r.source_role else None) for r in rules]
        net.authorize(status.groups[role], pairs)
    return status


def lookup_network(net: Network, tags: Mapping[str, str], vpc_id: str) -> NetworkStatus:
    """What reconcile_network made, found by tags, without creating anything."""
    owned = owned_tags(tags)
    status = NetworkStatus(vpc_id, owned_vpc=False)
    for subnet in net.find_subnets(vpc_id):
        kind, _, zone = subnet.tags.get(ROLE_TAG, "").partition("-")
        if kind in ("public", "private") and all(subnet.tags.get(k) == v for k, v in owned.items()):
            (status.public if kind == "public" else status.private)[zone] = subnet.id
    for role in SECURITY_GROUPS:
        group = _one(net.find_tagged("security-group", {**owned, ROLE_TAG: f"sg-{role}"}))
        if group is not None:
            status.groups[role] = group.id
    return status


def _route_table(net: Network, vpc_id: str, tags: Mapping[str, str], owned: Mapping[str, str],
                 role: str, status: NetworkStatus) -> Tagged:  # fmt: skip
    table = _one(net.find_tagged("route-table", {**owned, ROLE_TAG: role}))
    if table is None:
        table = net.create_route_table(vpc_id, _role(tags, role))
        status.created.append(f"route table {table.id} ({role})")
    return table


def _nat_gateways(net: Network, req: NetworkRequest, owned: Mapping[str, str],
                  status: NetworkStatus) -> dict[str, str]:  # fmt: skip
    """NAT gateway id by zone ('*' when one serves all)."""
    if req.nat == "None":
        return {}
    zones = list(status.public) if req.nat == "PerAZ" else sorted(status.public)[:1]
    live = {n.tags.get(ROLE_TAG): n for n in net.find_nat_gateways(status.vpc_id)}
    out = {}
    for zone in zones:
        role = f"nat-{zone}"
        nat = live.get(role)
        if nat is None:
            eip = _one(net.find_tagged("address", {**owned, ROLE_TAG: f"eip-{zone}"}))
            if eip is None:
                eip = net.allocate_address(_role(req.tags, f"eip-{zone}"))
                status.created.append(f"elastic IP {eip.id}")
            token = hashlib.sha256(f"{status.vpc_id}/{role}".encode()).hexdigest()[:32]
            nat = net.create_nat_gateway(status.public[zone], eip.id, token, _role(req.tags, role))
            status.created.append(f"NAT gateway {nat.id} ({zone})")
        out[zone if req.nat == "PerAZ" else "*"] = nat.id
    return out


def delete_network(
    net: Network, tags: Mapping[str, str], adopted_vpc: str | None = None, ours: Sequence[str] = ()
) -> tuple[list[str], str]:
    """Delete everything tagged as this cluster's, in dependency order.

    Returns what went and, when not finished, what deletion still waits for (NAT gateways take
    minutes on real AWS). `ours` are instance ids still allowed in our subnets (none, normally);
    anything else attached there blocks the deletion, and the error names it.
    """
    owned = owned_tags(tags)
    deleted: list[str] = []
    vpcs = net.find_vpcs({**owned, ROLE_TAG: "vpc"})
    subnets = net.find_tagged("subnet", owned)
    vpc_ids = sorted({v.id for v in vpcs} | ({adopted_vpc} if adopted_vpc else set()))
    pending, nat_interfaces = [], []
    for vpc_id in vpc_ids:
        for nat in net.find_nat_gateways(vpc_id, deleting=True):
            if not nat.tags.get(ROLE_TAG, "").startswith("nat-"):
                continue
            if nat.interface_id:
                nat_interfaces.append(nat.interface_id)
            if nat.state != "deleting":
                net.delete_nat_gateway(nat.id)
                deleted.append(f"NAT gateway {nat.id}")
            pending.append(nat.id)
    if pending:
        live = [n.id for v in vpc_ids for n in net.find_nat_gateways(v, deleting=True)
                if n.id in pending]  # fmt: skip
        if live:
            return deleted, f"NAT gateways {', '.join(live)} are being deleted"
    # AWS removes a NAT gateway's interface with it; where one is left behind, it is still ours.
    for interface in nat_interfaces:
        net.delete_interface(interface)
    for eip in net.find_tagged("address", owned):
        net.release_address(eip.id)
        deleted.append(f"elastic IP {eip.id}")
    foreign = net.foreign_interfaces([s.id for s in subnets], ours)
    if foreign:
        raise DeletionBlocked(
            f"subnets of the cluster still hold network interfaces capy did not create: "
            f"{', '.join(foreign)}; delete them (or what owns them) to let deletion finish"
        )
    for vpc_id in vpc_ids:
        for igw in net.find_tagged("internet-gateway", owned):
            net.delete_internet_gateway(igw.id, vpc_id)
            deleted.append(f"internet gateway {igw.id}")
    for subnet in subnets:
        net.delete_subnet(subnet.id)
        deleted.append(f"subnet {subnet.id}")
    for table in net.find_tagged("route-table", owned):
        net.delete_route_table(table.id)
        deleted.append(f"route table {table.id}")
    groups = net.find_tagged("security-group", owned)
    for group in groups:
        # Groups whose rules name each other cannot be deleted while those rules exist.
        net.revoke_all(group.id)
    for group in groups:
        net.delete_security_group(group.id)
        deleted.append(f"security group {group.id}")
    for vpc in vpcs:
        net.delete_vpc(vpc.id)
        deleted.append(f"VPC {vpc.id}")
    return deleted, ""
