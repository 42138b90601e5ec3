"""The aws backend: the engine's Backend protocol over the EC2 and ELBv2 services.

boto3 blocks, so every operation runs in a bounded thread pool owned by the backend; the event
loop never waits on the network.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from capy.errors import InvalidSpec
from capy.meta import APIEndpoint, FailureDomain, MachineAddress
from providers.api.aws import AWSClusterSpec, AWSMachineSpec
from providers.aws import compute, loadbalancer, network
from providers.aws.client import EC2Compute, EC2Network, ELBv2, Sessions, Target
from providers.aws.types import Instance, InstanceRequest
from providers.core.backend import (
    Check,
    ClusterOutcome,
    ClusterRequest,
    Deletion,
    MachineOutcome,
    MachineRequest,
)

T = TypeVar("T")
DEFAULT_ZONES = 3
_GONE = ("shutting-down", "terminated")


def _aws(spec: object, what: str) -> AWSClusterSpec:
    aws = getattr(spec, "aws", None)
    if not isinstance(aws, AWSClusterSpec):
        raise InvalidSpec(f"{what} has no aws block")
    return aws


def addresses(inst: Instance) -> list[MachineAddress]:
    pairs = [("InternalIP", inst.private_ip), ("InternalDNS", inst.private_dns),
             ("ExternalIP", inst.public_ip), ("ExternalDNS", inst.public_dns)]  # fmt: skip
    return [MachineAddress(type=t, address=a) for t, a in pairs if a]  # type: ignore[arg-type]


class AWSBackend:
    name = "aws"

    def __init__(
        self, sessions: Sessions | None = None, endpoint_url: str | None = None, workers: int = 16
    ) -> None:
        self.sessions = sessions or Sessions()
        # boto3 would read AWS_ENDPOINT_URL itself; reading it here keeps one Target per endpoint.
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="capy-aws")

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args))

    def _target(self, cluster: ClusterRequest) -> Target:
        aws = _aws(cluster.spec, f"CapyCluster {cluster.name}")
        return Target.from_secret(aws.region, cluster.credentials, self.endpoint_url)

    # Clusters

    async def reconcile_cluster(self, req: ClusterRequest) -> ClusterOutcome:
        return await self._run(self._reconcile_cluster, req)

    def _reconcile_cluster(self, req: ClusterRequest) -> ClusterOutcome:
        aws, target = _aws(req.spec, "CapyCluster"), self._target(req)
        zones = list(aws.network.availability_zones or [])
        if not zones:
            zones = EC2Compute(self.sessions, target).availability_zones()[:DEFAULT_ZONES]
        net = network.reconcile_network(
            EC2Network(self.sessions, target),
            network.NetworkRequest(req.name, req.tags, aws.network.vpc.id,
                                   aws.network.vpc.cidr_block, zones, aws.network.nat_gateways),
        )  # fmt: skip
        checks = [Check("NetworkReady", "True", "Provisioned")]
        created = list(net.created)
        status: dict[str, object] = {"vpcID": net.vpc_id}
        endpoint = None
        if req.spec.control_plane_endpoint is None:
            internal = (aws.control_plane_load_balancer is not None
                        and aws.control_plane_load_balancer.scheme == "internal")  # fmt: skip
            subnets = net.private if internal else net.public
            lb = loadbalancer.reconcile_load_balancer(
                ELBv2(self.sessions, target), req.uid, net.vpc_id,
                [subnets[z] for z in sorted(subnets)], internal, req.tags,
            )  # fmt: skip
            created += lb.created
            status["loadBalancerDNS"] = lb.dns_name
            checks.append(Check("LoadBalancerReady", "True" if lb.ready else "False",
                                "Active" if lb.ready else "Provisioning"))  # fmt: skip
            if lb.ready:
                endpoint = APIEndpoint(host=lb.dns_name, port=network.API_PORT)
        return ClusterOutcome(
            ready=all(c.status == "True" for c in checks),
            endpoint=endpoint,
            failure_domains=[
                FailureDomain(name=z, control_plane=True) for z in sorted(net.private)
            ],
            checks=checks,
            status=status,
            created=created,
        )

    async def delete_cluster(self, req: ClusterRequest) -> Deletion:
        return await self._run(self._delete_cluster, req)

    def _delete_cluster(self, req: ClusterRequest) -> Deletion:
        aws, target = _aws(req.spec, "CapyCluster"), self._target(req)
        deleted = loadbalancer.delete_load_balancer(ELBv2(self.sessions, target), req.uid)
        # Interfaces of instances we launched are ours, whatever state those instances are in.
        ours = EC2Compute(self.sessions, target).instance_ids(network.owned_tags(req.tags))
        gone, waiting = network.delete_network(
            EC2Network(self.sessions, target), req.tags, aws.network.vpc.id, ours
        )
        return Deletion(done=not waiting, deleted=[*deleted, *gone], waiting_on=waiting)

    # Machines

    async def reconcile_machine(self, req: MachineRequest) -> MachineOutcome:
        return await self._run(self._reconcile_machine, req)

    def _machine_spec(self, req: MachineRequest) -> AWSMachineSpec:
        if req.spec.aws is None:
            raise InvalidSpec(f"CapyMachine {req.name} has no aws block")
        return req.spec.aws

    def _reconcile_machine(self, req: MachineRequest) -> MachineOutcome:
        target = self._target(req.cluster)
        api = EC2Compute(self.sessions, target)
        created = []
        if req.provider_id:
            # Provisioned once: observe only; a lost instance is reported, never replaced.
            inst = api.describe_instance(compute.instance_id(req.provider_id))
            if inst is None or inst.state in _GONE:
                state = inst.state if inst else "missing"
                return MachineOutcome(
                    provider_id=req.provider_id, ready=False, state=state,
                    checks=[Check("InstanceReady", "False", "InstanceTerminated",
                                  f"instance {compute.instance_id(req.provider_id)} is {state}")],
                    status={"instanceID": compute.instance_id(req.provider_id),
                            "instanceState": state},
                )  # fmt: skip
        else:
            inst, new = compute.ensure_instance(api, self._launch(req, api, target), req.uid)
            if new:
                created.append(f"instance {inst.id}")
        if req.control_plane:
            # Only when capy made the load balancer: a user endpoint has no target group of ours.
            self._register(req, target, inst)
        running = inst.state == "running"
        reason = {"running": "Running", "pending": "Pending", "stopped": "InstanceStopped",
                  "stopping": "InstanceStopped"}.get(inst.state, "InstanceNotRunning")  # fmt: skip
        return MachineOutcome(
            provider_id=compute.provider_id(inst),
            ready=running,
            state=inst.state,
            addresses=addresses(inst),
            failure_domain=inst.availability_zone,
            checks=[Check("InstanceReady", "True" if running else "False", reason,
                          "" if running else f"instance {inst.id} is {inst.state}")],
            status={"instanceID": inst.id, "instanceState": inst.state},
            created=created,
        )  # fmt: skip

    def _launch(self, req: MachineRequest, api: EC2Compute, target: Target) -> InstanceRequest:
        spec, cluster = self._machine_spec(req), _aws(req.cluster.spec, "CapyCluster")
        if req.bootstrap_data is None:
            raise InvalidSpec("no bootstrap data to launch the instance with")
        vpc_id = req.cluster_status.aws.vpc_id if req.cluster_status.aws else None
        if not vpc_id:
            raise InvalidSpec("the CapyCluster reports no VPC yet")
        net = network.lookup_network(EC2Network(self.sessions, target), req.cluster.tags, vpc_id)
        zone = req.failure_domain or (sorted(net.private)[0] if net.private else "")
        subnets = net.public if spec.public_ip else net.private
        subnet = spec.subnet_id or subnets.get(zone)
        if not subnet:
            known = ", ".join(sorted(subnets))
            raise InvalidSpec(
                f"failure domain {zone!r} is not one of the cluster's zones ({known})"
            )
        role = "controlplane" if req.control_plane else "node"
        groups = [g for g in (net.groups.get(role),) if g] + list(
            spec.additional_security_group_ids or []
        )
        image = compute.resolve_image(
            api, spec.ami.id, spec.ami.lookup.name_pattern if spec.ami.lookup else None,
            spec.ami.lookup.owner if spec.ami.lookup else None, req.version,
        )  # fmt: skip
        image_id = image if isinstance(image, str) else image.id
        root_device = "/dev/sda1" if isinstance(image, str) else image.root_device_name
        return InstanceRequest(
            image_id=image_id,
            instance_type=spec.instance_type,
            subnet_id=subnet,
            user_data=compute.pack_user_data(req.bootstrap_data),
            client_token="",
            tags={**req.cluster.tags, **(req.spec.additional_tags or {}), "Name": req.name},
            security_group_ids=groups,
            key_name=spec.ssh_key_name or cluster.ssh_key_name,
            iam_instance_profile=spec.iam_instance_profile,
            public_ip=spec.public_ip,
            root_volume_size=spec.root_volume.size if spec.root_volume else None,
            root_volume_type=spec.root_volume.type if spec.root_volume else None,
            root_device_name=root_device,
        )

    def _register(self, req: MachineRequest, target: Target, inst: Instance) -> None:
        lbs = ELBv2(self.sessions, target)
        tg = lbs.find_target_group(loadbalancer.names(req.cluster.uid)[1])
        if tg is not None and inst.state not in _GONE:
            lbs.register(tg, inst.id, network.API_PORT)

    async def delete_machine(self, req: MachineRequest) -> Deletion:
        return await self._run(self._delete_machine, req)

    def _delete_machine(self, req: MachineRequest) -> Deletion:
        target = self._target(req.cluster)
        api = EC2Compute(self.sessions, target)
        # Also finds an instance whose providerID was never written (crash after launch).
        found = api.find_instances({compute.MACHINE_UID_TAG: req.uid})
        if req.provider_id:
            known = api.describe_instance(compute.instance_id(req.provider_id))
            found += [known] if known and known.state not in _GONE else []
        live = {i.id: i for i in found if i.state not in _GONE}
        deleted = []
        lbs = ELBv2(self.sessions, target)
        tg = (
            lbs.find_target_group(loadbalancer.names(req.cluster.uid)[1])
            if req.control_plane
            else None
        )
        for inst in live.values():
            if tg is not None:
                lbs.deregister(tg, inst.id, network.API_PORT)
            api.terminate_instance(inst.id)
            deleted.append(f"instance {inst.id}")
        left = [
            i for i in (api.describe_instance(i) for i in live) if i and i.state != "terminated"
        ]
        if left:
            return Deletion(False, deleted, f"instance {left[0].id} is {left[0].state}")
        return Deletion(True, deleted)
