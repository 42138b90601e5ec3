"""The API server endpoint on AWS: a network load balancer, TCP 6443, one target group."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from providers.aws.client import LoadBalancing
from providers.aws.network import API_PORT


def names(cluster_uid: str) -> tuple[str, str]:
    """Load balancer and target group names: stable per cluster, within ELB's 32 characters."""
    digest = hashlib.sha256(cluster_uid.encode()).hexdigest()[:20]
    return f"capy-{digest}", f"capy-{digest}-api"


@dataclass
class Endpoint:
    dns_name: str
    ready: bool
    target_group_arn: str
    created: list[str] = field(default_factory=list)


def reconcile_load_balancer(
    lbs: LoadBalancing, cluster_uid: str, vpc_id: str, subnet_ids: Sequence[str],
    internal: bool, tags: Mapping[str, str],
) -> Endpoint:  # fmt: skip
    lb_name, tg_name = names(cluster_uid)
    created = []
    lb = lbs.find_load_balancer(lb_name)
    if lb is None:
        lb = lbs.create_load_balancer(lb_name, subnet_ids, internal, tags)
        created.append(f"load balancer {lb_name}")
    tg = lbs.find_target_group(tg_name)
    if tg is None:
        tg = lbs.create_target_group(tg_name, vpc_id, API_PORT, tags)
        created.append(f"target group {tg_name}")
    lbs.ensure_listener(lb.arn, tg, API_PORT)
    return Endpoint(lb.dns_name, lb.state == "active", tg, created)


def delete_load_balancer(lbs: LoadBalancing, cluster_uid: str) -> list[str]:
    lb_name, tg_name = names(cluster_uid)
    deleted = []
    lb = lbs.find_load_balancer(lb_name)
    if lb is not None:
        lbs.delete_load_balancer(lb.arn)
        deleted.append(f"load balancer {lb_name}")
    tg = lbs.find_target_group(tg_name)
    if tg is not None:
        lbs.delete_target_group(tg)
        deleted.append(f"target group {tg_name}")
    return deleted
