"""Kubernetes and Cluster API types that both providers' APIs embed."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field
from pydantic.config import JsonDict

from capy.model import KubeModel


class Condition(KubeModel):
    """One aspect of the object's current state (metav1.Condition)."""

    type: str = Field(min_length=1, max_length=316)
    """Type of the condition in CamelCase, e.g. Ready."""
    status: Literal["True", "False", "Unknown"]
    """Whether the condition holds: True, False or Unknown."""
    reason: str = Field(min_length=1, max_length=1024)
    """A CamelCase word that says why the condition has its status."""
    message: str = Field(default="", max_length=32768)
    """Human-readable details about the last transition."""
    last_transition_time: dt.datetime
    """When the status last changed."""
    observed_generation: int | None = Field(default=None, ge=0)
    """The metadata.generation the condition was computed from."""


def list_map(*keys: str) -> JsonDict:
    """Schema markers of a list that server-side apply merges by `keys`, like conditions by type."""
    return {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": list(keys)}


# A list that server-side apply replaces as a whole.
ATOMIC_LIST: JsonDict = {"x-kubernetes-list-type": "atomic"}

MAX_CONDITIONS = 32


class APIEndpoint(KubeModel):
    """Where the workload cluster's API server listens."""

    host: str = Field(min_length=1, max_length=512)
    """DNS name or IP address of the API server endpoint."""
    port: int = Field(ge=1, le=65535)
    """TCP port of the API server endpoint."""


class FailureDomain(KubeModel):
    """A failure domain Machines may be placed in (Cluster API v1beta2 shape)."""

    name: str = Field(min_length=1, max_length=256)
    """Name of the failure domain, e.g. an availability zone."""
    control_plane: bool | None = None
    """Whether control-plane machines may be placed here."""
    attributes: dict[str, str] | None = None
    """Free-form attributes of the failure domain."""


class MachineAddress(KubeModel):
    """An address of a machine, as Cluster API reports it on the Machine."""

    type: Literal["Hostname", "ExternalIP", "InternalIP", "ExternalDNS", "InternalDNS"]
    """Kind of address."""
    address: str = Field(min_length=1, max_length=256)
    """The address itself."""


class SecretRef(KubeModel):
    """A Secret in the same namespace as the referring object."""

    name: str = Field(min_length=1, max_length=253)
    """Name of the Secret."""
