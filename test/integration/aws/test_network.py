"""A cluster network on moto: created once, complete, and deleted without leftovers."""

from __future__ import annotations

from typing import Any

import pytest

from capy.errors import DeletionBlocked
from providers.aws import network
from providers.aws.client import EC2Network, Sessions, Target

pytestmark = pytest.mark.integration

TAGS = {"sigs.k8s.io/cluster-api-provider-capy/cluster/c1": "owned", "capy.io/cluster-uid": "u1",
        "team": "a"}  # fmt: skip
ZONES = ["eu-west-1a", "eu-west-1b"]


def request(nat: network.NatMode = "PerAZ", vpc_id: str | None = None) -> network.NetworkRequest:
    return network.NetworkRequest("c1", TAGS, vpc_id, "10.0.0.0/16", ZONES, nat)


def tagged(ec2: Any) -> dict[str, int]:
    """How many resources of each kind carry the cluster's ownership tag."""
    f = [{"Name": "tag:sigs.k8s.io/cluster-api-provider-capy/cluster/c1", "Values": ["owned"]}]
    nats = ec2.describe_nat_gateways(Filter=f)["NatGateways"]
    return {
        "vpc": len(ec2.describe_vpcs(Filters=f)["Vpcs"]),
        "subnet": len(ec2.describe_subnets(Filters=f)["Subnets"]),
        "igw": len(ec2.describe_internet_gateways(Filters=f)["InternetGateways"]),
        "rt": len(ec2.describe_route_tables(Filters=f)["RouteTables"]),
        "sg": len(ec2.describe_security_groups(Filters=f)["SecurityGroups"]),
        "eip": len(ec2.describe_addresses(Filters=f)["Addresses"]),
        "nat": len([n for n in nats if n["State"] not in ("deleted", "deleting")]),
    }


def test_network_is_complete_and_a_second_pass_creates_nothing(
    aws: Target, sessions: Sessions, ec2: Any
) -> None:
    net = EC2Network(sessions, aws)
    first = network.reconcile_network(net, request())
    assert set(first.public) == set(first.private) == set(ZONES)
    assert set(first.groups) == {"lb", "controlplane", "node"}
    assert tagged(ec2) == {"vpc": 1, "subnet": 4, "igw": 1, "rt": 3, "sg": 3, "eip": 2, "nat": 2}

    second = network.reconcile_network(net, request())
    assert second.created == [] and second.public == first.public
    assert tagged(ec2)["subnet"] == 4

    # Private subnets route to the NAT gateway of their own zone.
    private_a = [{"Name": "association.subnet-id", "Values": [first.private["eu-west-1a"]]}]
    rts = ec2.describe_route_tables(Filters=private_a)
    routes = [r for t in rts["RouteTables"] for r in t["Routes"]]
    assert any(
        r.get("NatGatewayId") for r in routes if r.get("DestinationCidrBlock") == "0.0.0.0/0"
    )
    # User tags ride along on everything capy creates.
    vpc = ec2.describe_vpcs(VpcIds=[first.vpc_id])["Vpcs"][0]
    assert {"Key": "team", "Value": "a"} in vpc["Tags"]


@pytest.mark.parametrize(("mode", "nats"), [("Single", 1), ("None", 0)])
def test_nat_modes(aws: Target, sessions: Sessions, ec2: Any, mode: network.NatMode,
                   nats: int) -> None:  # fmt: skip
    network.reconcile_network(EC2Network(sessions, aws), request(nat=mode))
    assert tagged(ec2)["nat"] == nats and tagged(ec2)["eip"] == nats


def test_deletion_leaves_nothing_tagged(aws: Target, sessions: Sessions, ec2: Any) -> None:
    net = EC2Network(sessions, aws)
    network.reconcile_network(net, request())
    deleted, waiting = network.delete_network(net, TAGS)
    assert waiting == "" and deleted
    assert set(tagged(ec2).values()) == {0}
    # Deleting again is a no-op, not an error.
    assert network.delete_network(net, TAGS) == ([], "")


def test_adopted_vpc_is_kept_and_its_foreign_interface_blocks_deletion(
    aws: Target, sessions: Sessions, ec2: Any
) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    net = EC2Network(sessions, aws)
    status = network.reconcile_network(net, request(vpc_id=vpc_id, nat="None"))
    assert not status.owned_vpc and status.vpc_id == vpc_id
    eni = ec2.create_network_interface(SubnetId=status.private["eu-west-1a"])["NetworkInterface"]

    with pytest.raises(DeletionBlocked, match=eni["NetworkInterfaceId"]):
        network.delete_network(net, TAGS, adopted_vpc=vpc_id)
    ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    network.delete_network(net, TAGS, adopted_vpc=vpc_id)
    assert set(tagged(ec2).values()) == {0}
    assert ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"], "an adopted VPC is never deleted"
