"""AWS behind a small protocol; the only module of capy that imports boto3.

Every call goes through one pooled boto3 session per credentials and endpoint, and through a
token bucket shared by all callers of the same account and region, so a burst of reconciles
never turns into throttling. Results are our own dataclasses; botocore errors become capy errors.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from capy.errors import CloudQuota, DeletionBlocked, InvalidSpec, Retryable
from providers.aws.types import Image, Instance, InstanceRequest

_THROTTLED = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests"}
_QUOTA = {"InstanceLimitExceeded", "VcpuLimitExceeded", "AddressLimitExceeded",
          "VpcLimitExceeded", "InsufficientInstanceCapacity", "TooManyLoadBalancers"}  # fmt: skip
_INVALID_PREFIXES = ("InvalidAMIID", "InvalidParameter", "InvalidKeyPair", "InvalidSubnetID",
                     "InvalidGroup", "Unsupported", "InvalidInstanceType")  # fmt: skip


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
    secret_access_key: str | None = None
    session_token: str | None = None

    @classmethod
    def from_secret(cls, region: str, data: Mapping[str, bytes] | None,
                    endpoint_url: str | None = None) -> Target:  # fmt: skip
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
            region, endpoint_url, data["AccessKeyID"].decode(), data["SecretAccessKey"].decode(),
            token.decode() if token else None,
        )  # fmt: skip

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
            out = self._call("describe_instances", f"describing {instance_id}",
                             InstanceIds=[instance_id])  # fmt: skip
        except NotFound:
            return None
        found = [_instance(i) for r in out["Reservations"] for i in r["Instances"]]
        return found[0] if found else None

    def terminate_instance(self, instance_id: str) -> None:
        try:
            self._call("terminate_instances", f"terminating {instance_id}",
                       InstanceIds=[instance_id])  # fmt: skip
        except NotFound:
            return

    def find_images(self, name_pattern: str, owner: str) -> list[Image]:
        out = self._call(
            "describe_images", f"looking up images {name_pattern!r} of {owner}",
            Owners=[owner], Filters=[{"Name": "name", "Values": [name_pattern]},
                                     {"Name": "state", "Values": ["available"]}],
        )  # fmt: skip
        images = [
            Image(i["ImageId"], i.get("Name", ""), i.get("CreationDate", ""),
                  i.get("RootDeviceName") or "/dev/sda1")
            for i in out["Images"]
        ]  # fmt: skip
        return sorted(images, key=lambda i: i.created, reverse=True)

    def availability_zones(self) -> list[str]:
        out = self._call(
            "describe_availability_zones", "listing availability zones",
            Filters=[{"Name": "state", "Values": ["available"]}],
        )  # fmt: skip
        return sorted(z["ZoneName"] for z in out["AvailabilityZones"])
