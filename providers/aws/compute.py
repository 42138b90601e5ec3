"""Machines on EC2: image lookup, user data packing, and create-at-most-once instances.

An instance is found by the machine-uid tag it was created with before anything is launched, so a
controller that crashed between RunInstances and writing the providerID finds its instance
instead of launching a second one. The client token gives real EC2 the same guarantee for
retries of one call (moto ignores it).
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Mapping

from capy.errors import InvalidSpec
from capy.faults import crash_point
from providers.aws.client import Compute
from providers.aws.types import Image, Instance, InstanceRequest

MACHINE_UID_TAG = "capy.io/machine-uid"
# EC2 refuses user data over 16 KiB (before its own base64 encoding).
MAX_USER_DATA = 16 * 1024


def pack_user_data(data: bytes) -> bytes:
    """gzip with a fixed timestamp (same input, same bytes); refuse what EC2 would refuse."""
    packed = gzip.compress(data, compresslevel=9, mtime=0)
    if len(packed) > MAX_USER_DATA:
        raise InvalidSpec(
            f"bootstrap data is {len(data)} bytes, {len(packed)} gzipped: over EC2's "
            f"{MAX_USER_DATA}-byte user data limit; move large files out of the KubeadmConfig "
            "(e.g. fetch them in preKubeadmCommands)",
            reason="UserDataTooLarge",
        )
    return packed


def client_token(machine_uid: str) -> str:
    # RunInstances accepts at most 64 ASCII characters.
    return "capy-" + hashlib.sha256(machine_uid.encode()).hexdigest()[:40]


def provider_id(instance: Instance) -> str:
    return f"aws:///{instance.availability_zone}/{instance.id}"


def instance_id(provider: str) -> str:
    if not provider.startswith("aws:///") or provider.count("/") != 4:
        raise InvalidSpec(f"providerID {provider!r} is not aws:///<zone>/<instance-id>")
    return provider.rsplit("/", 1)[1]


def resolve_image(
    compute: Compute, image_id: str | None, name_pattern: str | None, owner: str | None,
    kubernetes_version: str | None,
) -> Image | str:  # fmt: skip
    """The AMI to boot: an id as given, or the newest image matching the lookup."""
    if image_id:
        return image_id
    if not (name_pattern and owner):
        raise InvalidSpec("aws.ami needs exactly one of id or lookup")
    version = (kubernetes_version or "").removeprefix("v")
    pattern = name_pattern.replace("{{.K8sVersion}}", version)
    images = compute.find_images(pattern, owner)
    if not images:
        raise InvalidSpec(
            f"no available image named {pattern!r} owned by {owner}: publish one or set aws.ami.id",
            reason="ImageNotFound",
        )
    return images[0]


def ensure_instance(
    compute: Compute, req: InstanceRequest, machine_uid: str
) -> tuple[Instance, bool]:
    """The machine's instance, launched only if none exists; returns it and whether it is new."""
    found = compute.find_instances({MACHINE_UID_TAG: machine_uid})
    if found:
        return sorted(found, key=lambda i: i.id)[0], False
    tags: Mapping[str, str] = {**req.tags, MACHINE_UID_TAG: machine_uid}
    launched = compute.run_instance(
        InstanceRequest(**{**req.__dict__, "tags": tags, "client_token": client_token(machine_uid)})
    )
    crash_point("aws.after-run-instances")
    return launched, True
