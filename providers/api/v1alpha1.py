"""CapyCluster, CapyMachine and their templates: infrastructure.cluster.x-k8s.io/v1alpha1.

The fields every backend shares live here; each backend adds exactly one block (`aws`, ...).
Adding a backend means adding its block to both specs and its name to BACKENDS.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field
from pydantic.config import JsonDict

from capy.crd import Kind, PrinterColumn, Version
from capy.meta import (
    MAX_CONDITIONS,
    APIEndpoint,
    Condition,
    FailureDomain,
    MachineAddress,
    SecretRef,
    list_map,
)
from capy.model import KubeModel
from providers.api.aws import AWSClusterSpec, AWSMachineSpec

GROUP = "infrastructure.cluster.x-k8s.io"
VERSION = "v1alpha1"
BACKENDS = ("aws",)

# Core reads the contract version from this label; clusterctl move finds our types by the other.
CRD_LABELS = {"cluster.x-k8s.io/v1beta2": VERSION, "clusterctl.cluster.x-k8s.io": ""}


def _exactly_one_backend() -> JsonDict:
    present = ", ".join(f"has(self.{b})" for b in BACKENDS)
    return {
        "rule": f"[{present}].filter(x, x).size() == 1",
        "message": f"set exactly one backend block ({', '.join(BACKENDS)})",
    }


def _backend_unchanged() -> JsonDict:
    same = " && ".join(f"has(self.{b}) == has(oldSelf.{b})" for b in BACKENDS)
    return {
        "rule": same,
        "message": "the backend cannot change: create a new object for another cloud",
    }


class IdentityRef(SecretRef):
    """Credentials for the cloud: a Secret in the cluster's namespace, or in the controller's
    namespace when its `capy.io/allowed-namespaces` annotation admits the cluster's namespace."""


class CapyClusterSpec(KubeModel):
    """Desired state of a CapyCluster."""

    model_config = ConfigDict(
        json_schema_extra={"x-kubernetes-validations": [_exactly_one_backend()]}
    )

    control_plane_endpoint: APIEndpoint | None = Field(
        default=None,
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "self == oldSelf",
                    "message": "controlPlaneEndpoint is immutable once set",
                }
            ]
        },
    )
    """API server endpoint. Set it to use your own load balancer or VIP; otherwise the backend
    creates one (aws) and writes it here."""
    identity_ref: IdentityRef | None = None
    """Secret with the cloud credentials; default: the controller's own credentials."""
    additional_tags: dict[str, str] | None = Field(default=None, max_length=50)
    """Tags added to every cloud resource capy creates for this cluster."""
    aws: AWSClusterSpec | None = None
    """Run the cluster on AWS."""


class Initialization(KubeModel):
    """Cluster API v1beta2 initialization status."""

    provisioned: bool | None = None
    """True once the infrastructure is ready for Cluster API to continue."""


class AWSClusterStatus(KubeModel):
    """What capy created or adopted on AWS for the cluster."""

    vpc_id: str | None = None
    """The VPC."""
    load_balancer_dns: str | None = None
    """DNS name of the API server load balancer."""


class CapyClusterStatus(KubeModel):
    """Observed state of a CapyCluster, rebuilt from the cloud on every resync."""

    initialization: Initialization | None = None
    """Cluster API v1beta2 initialization status."""
    failure_domains: list[FailureDomain] | None = Field(
        default=None, max_length=100, json_schema_extra=list_map("name")
    )
    """Failure domains machines can be spread over (availability zones on aws)."""
    conditions: list[Condition] | None = Field(
        default=None, max_length=MAX_CONDITIONS, json_schema_extra=list_map("type")
    )
    """Conditions of the cluster's infrastructure; Ready summarises them."""
    backend: Literal["aws"] | None = None
    """The backend serving this cluster."""
    aws: AWSClusterStatus | None = None
    """AWS resource identifiers."""
    observed_generation: int | None = None
    """The metadata.generation this status was computed from."""


class CapyMachineSpec(KubeModel):
    """Desired state of a CapyMachine."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [_exactly_one_backend(), _backend_unchanged()]
        }
    )

    provider_id: str | None = Field(
        default=None,
        max_length=512,
        json_schema_extra={
            "x-kubernetes-validations": [
                {"rule": "self == oldSelf", "message": "providerID is immutable once set"}
            ]
        },
    )
    """Cloud identifier of the machine, set by capy (aws:///<zone>/<instance-id>)."""
    additional_tags: dict[str, str] | None = Field(default=None, max_length=50)
    """Tags added to this machine's cloud resources."""
    aws: AWSMachineSpec | None = None
    """Run the machine on AWS."""


class AWSMachineStatus(KubeModel):
    """The machine's AWS instance."""

    instance_id: str | None = None
    """EC2 instance ID."""
    instance_state: str | None = None
    """Last observed EC2 instance state."""


class CapyMachineStatus(KubeModel):
    """Observed state of a CapyMachine, rebuilt from the cloud on every resync."""

    initialization: Initialization | None = None
    """Cluster API v1beta2 initialization status."""
    addresses: list[MachineAddress] | None = Field(default=None, max_length=32)
    """Addresses of the machine."""
    failure_domain: str | None = Field(default=None, max_length=256)
    """Failure domain the machine runs in."""
    conditions: list[Condition] | None = Field(
        default=None, max_length=MAX_CONDITIONS, json_schema_extra=list_map("type")
    )
    """Conditions of the machine's infrastructure; Ready summarises them."""
    backend: Literal["aws"] | None = None
    """The backend serving this machine."""
    aws: AWSMachineStatus | None = None
    """AWS instance details."""
    observed_generation: int | None = None
    """The metadata.generation this status was computed from."""


class TemplateMeta(KubeModel):
    """Labels and annotations copied to objects created from the template."""

    labels: dict[str, str] | None = None
    """Labels for the created objects."""
    annotations: dict[str, str] | None = None
    """Annotations for the created objects."""


class CapyClusterTemplateResource(KubeModel):
    """The CapyCluster a ClusterClass creates."""

    metadata: TemplateMeta | None = None
    """Metadata of the created CapyCluster."""
    spec: CapyClusterSpec
    """Spec of the created CapyCluster."""


class CapyClusterTemplateSpec(KubeModel):
    """Desired state of a CapyClusterTemplate."""

    template: CapyClusterTemplateResource
    """The CapyCluster to create."""


class CapyMachineTemplateResource(KubeModel):
    """The CapyMachine a MachineSet or control plane creates."""

    metadata: TemplateMeta | None = None
    """Metadata of the created CapyMachines."""
    spec: CapyMachineSpec
    """Spec of the created CapyMachines."""


class CapyMachineTemplateSpec(KubeModel):
    """Desired state of a CapyMachineTemplate. Templates are immutable, as Cluster API expects:
    roll out a change by pointing the owner at a new template."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "self == oldSelf",
                    "message": "CapyMachineTemplate spec is immutable: create a new template "
                    "and point the MachineDeployment or KubeadmControlPlane at it",
                }
            ]
        }
    )

    template: CapyMachineTemplateResource
    """The CapyMachines to create."""


_AGE = PrinterColumn("Age", ".metadata.creationTimestamp", "date")
_CLUSTER = PrinterColumn(
    "Cluster", ".metadata.labels['cluster\\.x-k8s\\.io/cluster-name']", description="Owner Cluster"
)
_BACKEND = PrinterColumn("Backend", ".status.backend")
_PROVISIONED = PrinterColumn("Provisioned", ".status.initialization.provisioned", "boolean")

KINDS = (
    Kind(
        GROUP,
        "CapyCluster",
        "capyclusters",
        [
            Version(
                VERSION,
                CapyClusterSpec,
                CapyClusterStatus,
                columns=(
                    _CLUSTER,
                    _BACKEND,
                    _PROVISIONED,
                    PrinterColumn("Endpoint", ".spec.controlPlaneEndpoint.host"),
                    _AGE,
                ),
                description="CapyCluster is the infrastructure of one Cluster API cluster.",
            )
        ],
        labels=CRD_LABELS,
        categories=("cluster-api", "capy"),
    ),
    Kind(
        GROUP,
        "CapyMachine",
        "capymachines",
        [
            Version(
                VERSION,
                CapyMachineSpec,
                CapyMachineStatus,
                columns=(
                    _CLUSTER,
                    _BACKEND,
                    _PROVISIONED,
                    PrinterColumn("ProviderID", ".spec.providerID"),
                    _AGE,
                ),
                description="CapyMachine is the cloud machine of one Cluster API Machine.",
            )
        ],
        labels=CRD_LABELS,
        categories=("cluster-api", "capy"),
    ),
    Kind(
        GROUP,
        "CapyClusterTemplate",
        "capyclustertemplates",
        [
            Version(
                VERSION,
                CapyClusterTemplateSpec,
                columns=(_AGE,),
                description="CapyClusterTemplate is what a ClusterClass creates CapyClusters from.",
            )
        ],
        labels=CRD_LABELS,
        categories=("cluster-api", "capy"),
    ),
    Kind(
        GROUP,
        "CapyMachineTemplate",
        "capymachinetemplates",
        [
            Version(
                VERSION,
                CapyMachineTemplateSpec,
                columns=(_AGE,),
                description="CapyMachineTemplate is what MachineSets and control planes create "
                "CapyMachines from.",
            )
        ],
        labels=CRD_LABELS,
        categories=("cluster-api", "capy"),
    ),
)
