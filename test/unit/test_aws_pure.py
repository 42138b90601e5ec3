"""AWS backend logic that needs no cloud: limits, names, layouts, identity parsing."""

from __future__ import annotations

import pytest

from capy.errors import InvalidSpec
from providers.aws import compute, loadbalancer, network
from providers.aws.client import RateLimiter, Target


def test_rate_limiter_lets_a_burst_through_then_paces() -> None:
    limiter = RateLimiter(rate=50.0, burst=3)
    assert [limiter.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    # The fourth call in the same instant waits about one token's worth (1/50 s).
    assert 0.0 < limiter.acquire() <= 0.021


def test_subnet_layout_splits_the_vpc_publics_first() -> None:
    plan = network.plan_subnets("10.0.0.0/16", ["a", "b"])
    assert plan == {("public", "a"): "10.0.0.0/20", ("private", "a"): "10.0.128.0/20",
                    ("public", "b"): "10.0.16.0/20", ("private", "b"): "10.0.144.0/20"}  # fmt: skip
    with pytest.raises(InvalidSpec, match="at most 8 zones"):
        network.plan_subnets("10.0.0.0/16", [str(i) for i in range(9)])


def test_provider_id_round_trip_and_client_token_limits() -> None:
    assert compute.instance_id("aws:///eu-west-1a/i-0abc") == "i-0abc"
    with pytest.raises(InvalidSpec, match="aws:///<zone>/<instance-id>"):
        compute.instance_id("openstack://r/uuid")
    token = compute.client_token("a" * 200)
    assert len(token) <= 64 and token == compute.client_token("a" * 200)


def test_load_balancer_names_fit_elb_limits() -> None:
    lb, tg = loadbalancer.names("0f1e2d3c-uid")
    assert len(lb) <= 32 and len(tg) <= 32 and lb != tg


def test_identity_secret_needs_both_keys() -> None:
    with pytest.raises(InvalidSpec, match="lacks SecretAccessKey"):
        Target.from_secret("eu-west-1", {"AccessKeyID": b"AKIA"})
    t = Target.from_secret(
        "eu-west-1",
        {"AccessKeyID": b"AKIA", "SecretAccessKey": b"s3cr3t", "SessionToken": b"tok3n"},
    )
    assert (t.access_key_id, t.secret_access_key, t.session_token) == ("AKIA", "s3cr3t", "tok3n")
    assert "s3cr3t" not in repr(t) and "tok3n" not in repr(t)


def test_user_data_is_deterministic() -> None:
    assert compute.pack_user_data(b"x" * 1000) == compute.pack_user_data(b"x" * 1000)
