"""kubeadm's configuration as KubeadmConfig (bootstrap.cluster.x-k8s.io/v1beta2) carries it.

Field names, types and limits are those of upstream Cluster API v1.14, so manifests written for
the upstream kubeadm bootstrap provider validate unchanged. The renderer turns these into
kubeadm.k8s.io/v1beta4 documents.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field
from pydantic.config import JsonDict

from capy.meta import ATOMIC_LIST
from capy.model import KubeModel

Str = Annotated[str, Field(min_length=1, max_length=512)]
Name = Annotated[str, Field(min_length=1, max_length=256)]
SAN = Annotated[str, Field(min_length=1, max_length=253)]
Phase = Annotated[str, Field(min_length=1, max_length=256)]


def _unique_names(field: str) -> JsonDict:
    return {
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
        "x-kubernetes-validations": [
            {
                "rule": "self.all(x, self.exists_one(y, x.name == y.name))",
                "message": f"{field} name must be unique",
            }
        ],
    }


class Arg(KubeModel):
    """A command-line flag of a Kubernetes component: --name=value."""

    name: Name
    """Flag name without the leading dashes."""
    value: str | None = Field(default=None, max_length=1024)
    """Flag value."""


class EnvVar(KubeModel):
    """An environment variable of a static Pod container (core/v1 EnvVar)."""

    name: Annotated[str, Field(min_length=1)]
    """Variable name."""
    value: str | None = None
    """Literal value."""
    value_from: dict[str, Any] | None = None
    """Where the value comes from (a core/v1 EnvVarSource)."""


class HostPathMount(KubeModel):
    """A host directory or file mounted into a control-plane static Pod."""

    name: Str
    """Volume name in the Pod."""
    host_path: Str
    """Path on the host."""
    mount_path: Str
    """Path inside the container."""
    read_only: bool | None = None
    """Mount read-only."""
    path_type: (
        Literal[
            "", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
            "CharDevice", "BlockDevice",
        ]
        | None
    ) = None  # fmt: skip
    """Kind of host path expected (core/v1 HostPathType)."""


Args = Annotated[list[Arg], Field(min_length=1, max_length=100)]
Volumes = Annotated[list[HostPathMount], Field(min_length=1, max_length=100)]
Envs = Annotated[list[EnvVar], Field(min_length=1, max_length=100)]


class _Component(KubeModel):
    extra_args: Args | None = Field(default=None, json_schema_extra=_unique_names("extraArgs"))
    """Extra flags for the component; they override kubeadm's own."""
    extra_volumes: Volumes | None = Field(default=None, json_schema_extra=ATOMIC_LIST)
    """Extra host paths mounted into the component's Pod."""
    extra_envs: Envs | None = Field(default=None, json_schema_extra=ATOMIC_LIST)
    """Extra environment variables of the component's container."""


class APIServer(_Component):
    """Settings of the kube-apiserver static Pod."""

    cert_sans: Annotated[list[SAN], Field(min_length=1, max_length=100)] | None = Field(
        default=None, json_schema_extra=ATOMIC_LIST
    )
    """Extra subject alternative names for the API server's serving certificate."""


class ControllerManager(_Component):
    """Settings of the kube-controller-manager static Pod."""


class Scheduler(_Component):
    """Settings of the kube-scheduler static Pod."""


class DNS(KubeModel):
    """The cluster DNS add-on's image."""

    image_repository: Str | None = None
    """Registry and path of the DNS image."""
    image_tag: Name | None = None
    """Tag of the DNS image."""


class LocalEtcd(KubeModel):
    """An etcd member kubeadm runs as a static Pod on each control-plane machine."""

    image_repository: Str | None = None
    """Registry and path of the etcd image."""
    image_tag: Name | None = None
    """Tag of the etcd image."""
    data_dir: Str | None = None
    """Where etcd keeps its data (default /var/lib/etcd)."""
    extra_args: Args | None = Field(default=None, json_schema_extra=_unique_names("extraArgs"))
    """Extra etcd flags."""
    extra_envs: Envs | None = Field(default=None, json_schema_extra=ATOMIC_LIST)
    """Extra environment variables of the etcd container."""
    server_cert_sans: Annotated[list[SAN], Field(min_length=1, max_length=100)] | None = Field(
        default=None, json_schema_extra=ATOMIC_LIST
    )
    """Extra subject alternative names for etcd's serving certificate."""
    peer_cert_sans: Annotated[list[SAN], Field(min_length=1, max_length=100)] | None = Field(
        default=None, json_schema_extra=ATOMIC_LIST
    )
    """Extra subject alternative names for etcd's peer certificate."""


class ExternalEtcd(KubeModel):
    """An etcd cluster run outside the control-plane machines."""

    endpoints: Annotated[list[Str], Field(min_length=1, max_length=50)] = Field(
        json_schema_extra=ATOMIC_LIST
    )
    """Client URLs of the etcd members."""
    ca_file: Str
    """CA certificate file for talking to etcd."""
    cert_file: Str
    """Client certificate file."""
    key_file: Str
    """Client key file."""


class Etcd(KubeModel):
    """Where the cluster's etcd runs: local (stacked) or external."""

    model_config = ConfigDict(
        json_schema_extra={
            "minProperties": 1,
            "x-kubernetes-validations": [
                {
                    "rule": "!(has(self.local) && has(self.external))",
                    "message": "etcd: set local or external, not both",
                }
            ],
        }
    )

    local: LocalEtcd | None = None
    """Stacked etcd, one member per control-plane machine."""
    external: ExternalEtcd | None = None
    """An existing etcd cluster."""


class ClusterConfiguration(KubeModel):
    """Cluster-wide kubeadm settings (kubeadm's ClusterConfiguration)."""

    etcd: Etcd | None = None
    """etcd settings."""
    control_plane_endpoint: Str | None = None
    """Shared endpoint of the API servers; filled from the Cluster when empty."""
    api_server: APIServer | None = None
    """kube-apiserver settings."""
    controller_manager: ControllerManager | None = None
    """kube-controller-manager settings."""
    scheduler: Scheduler | None = None
    """kube-scheduler settings."""
    dns: DNS | None = None
    """Cluster DNS settings."""
    certificates_dir: Str | None = None
    """Where certificates are stored on the machine (default /etc/kubernetes/pki)."""
    image_repository: Str | None = None
    """Registry the control-plane images come from."""
    feature_gates: dict[str, bool] | None = None
    """kubeadm feature gates."""
    certificate_validity_period_days: int | None = Field(default=None, ge=1, le=1095)
    """Validity of the certificates kubeadm signs, in days."""
    ca_certificate_validity_period_days: int | None = Field(default=None, ge=1, le=36500)
    """Validity of the CA certificates, in days."""
    encryption_algorithm: (
        Literal["ECDSA-P256", "ECDSA-P384", "RSA-2048", "RSA-3072", "RSA-4096"] | None
    ) = None
    """Key algorithm of certificates and keys (default RSA-2048)."""


class Taint(KubeModel):
    """A Node taint (core/v1 Taint)."""

    key: Annotated[str, Field(min_length=1)]
    """Taint key."""
    value: str | None = None
    """Taint value."""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
    """What the taint does to Pods that do not tolerate it."""
    time_added: dt.datetime | None = None
    """When a NoExecute taint was added."""


class NodeRegistration(KubeModel):
    """How the machine registers as a Node."""

    name: SAN | None = None
    """Node name (default: the hostname)."""
    cri_socket: Str | None = None
    """Socket of the container runtime."""
    taints: Annotated[list[Taint], Field(max_length=100)] | None = None
    """Taints of the Node; an empty list means none at all."""
    kubelet_extra_args: Args | None = Field(
        default=None, json_schema_extra=_unique_names("kubeletExtraArgs")
    )
    """Extra kubelet flags."""
    ignore_preflight_errors: Annotated[list[Str], Field(min_length=1, max_length=50)] | None = (
        Field(default=None, json_schema_extra=ATOMIC_LIST)
    )
    """Preflight checks whose errors are only warnings."""
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None
    """When kubeadm pulls images."""
    image_pull_serial: bool | None = None
    """Pull images one at a time."""


class BootstrapToken(KubeModel):
    """A bootstrap token kubeadm init creates in the new cluster."""

    token: Annotated[str, Field(min_length=1, max_length=23)]
    """The token, [a-z0-9]{6}.[a-z0-9]{16}."""
    description: Str | None = None
    """What the token is for."""
    ttl_seconds: int | None = Field(default=None, ge=0)
    """Lifetime in seconds."""
    expires: dt.datetime | None = None
    """Absolute expiry; wins over ttlSeconds."""
    usages: Annotated[list[Phase], Field(min_length=1, max_length=100)] | None = Field(
        default=None, json_schema_extra=ATOMIC_LIST
    )
    """What the token may be used for."""
    groups: Annotated[list[Phase], Field(min_length=1, max_length=100)] | None = Field(
        default=None, json_schema_extra=ATOMIC_LIST
    )
    """Extra groups the token authenticates as."""


class APIEndpoint(KubeModel):
    """Where this machine's API server listens."""

    advertise_address: Annotated[str, Field(min_length=1, max_length=39)] | None = None
    """IP address the API server advertises."""
    bind_port: int | None = Field(default=None, ge=1)
    """Port the API server binds."""


class Patches(KubeModel):
    """kubeadm patches for control-plane static Pods."""

    directory: Str | None = None
    """Directory with patch files on the machine."""


class Timeouts(KubeModel):
    """kubeadm timeouts, in seconds."""

    control_plane_component_health_check_seconds: int | None = Field(default=None, ge=0)
    """Wait for control-plane components to become healthy."""
    kubelet_health_check_seconds: int | None = Field(default=None, ge=0)
    """Wait for the kubelet to become healthy."""
    kubernetes_api_call_seconds: int | None = Field(default=None, ge=0)
    """Any one call to the Kubernetes API."""
    etcd_api_call_seconds: int | None = Field(default=None, ge=0)
    """Any one call to etcd."""
    tls_bootstrap_seconds: int | None = Field(default=None, ge=0)
    """The kubelet's TLS bootstrap during join."""
    discovery_seconds: int | None = Field(default=None, ge=0)
    """Discovery of the cluster during join."""


SkipPhases = Annotated[list[Phase], Field(min_length=1, max_length=50)]


class InitConfiguration(KubeModel):
    """Settings of `kubeadm init` on the first control-plane machine."""

    bootstrap_tokens: (
        Annotated[list[BootstrapToken], Field(min_length=1, max_length=100)] | None
    ) = Field(default=None, json_schema_extra=ATOMIC_LIST)
    """Bootstrap tokens to create in the new cluster."""
    node_registration: NodeRegistration | None = None
    """How this machine registers as a Node."""
    local_api_endpoint: APIEndpoint | None = None
    """This machine's API server endpoint."""
    skip_phases: SkipPhases | None = Field(default=None, json_schema_extra=ATOMIC_LIST)
    """kubeadm init phases to skip."""
    patches: Patches | None = None
    """Patches for the control-plane static Pods."""
    timeouts: Timeouts | None = None
    """kubeadm timeouts."""


class BootstrapTokenDiscovery(KubeModel):
    """Find the cluster with a bootstrap token."""

    token: Str | None = None
    """The token; capy creates one when empty."""
    api_server_endpoint: Str | None = None
    """API server to contact; default: the Cluster's control plane endpoint."""
    ca_cert_hashes: Annotated[list[Str], Field(min_length=1, max_length=100)] | None = Field(
        default=None, json_schema_extra=ATOMIC_LIST
    )
    """Hashes (sha256:<hex>) of the cluster CA's public key; default: the cluster CA's."""
    unsafe_skip_ca_verification: bool | None = Field(default=None, alias="unsafeSkipCAVerification")
    """Join without checking the CA hash."""


class KubeConfigCluster(KubeModel):
    """The cluster entry of a discovery kubeconfig."""

    server: Str | None = None
    """API server URL; default: the Cluster's control plane endpoint."""
    tls_server_name: Str | None = None
    """Server name for TLS verification."""
    insecure_skip_tls_verify: bool | None = None
    """Skip TLS verification."""
    certificate_authority_data: Annotated[str, Field(min_length=1, max_length=51200)] | None = (
        Field(default=None, json_schema_extra={"format": "byte"})
    )
    """PEM CA certificates, base64-encoded; default: the cluster CA."""
    proxy_url: Str | None = Field(default=None, alias="proxyURL")
    """Proxy for talking to the API server."""


class KubeConfigAuthProvider(KubeModel):
    """An authentication provider plugin."""

    name: Name
    """Plugin name."""
    config: dict[str, str] | None = None
    """Plugin settings."""


class KubeConfigAuthExecEnv(KubeModel):
    """An environment variable of an exec credential plugin."""

    name: Str
    """Variable name."""
    value: Str
    """Variable value."""


class KubeConfigAuthExec(KubeModel):
    """An exec credential plugin."""

    command: Annotated[str, Field(min_length=1, max_length=1024)]
    """Command to run."""
    args: Annotated[list[Str], Field(min_length=1, max_length=100)] | None = Field(
        default=None, json_schema_extra=ATOMIC_LIST
    )
    """Arguments of the command."""
    env: Annotated[list[KubeConfigAuthExecEnv], Field(min_length=1, max_length=100)] | None = Field(
        default=None, json_schema_extra=ATOMIC_LIST
    )
    """Environment of the command."""
    api_version: Str | None = None
    """client.authentication.k8s.io version the plugin speaks."""
    provide_cluster_info: bool | None = None
    """Pass cluster information to the plugin."""


class KubeConfigUser(KubeModel):
    """The user entry of a discovery kubeconfig."""

    auth_provider: KubeConfigAuthProvider | None = None
    """Authentication provider plugin."""
    exec: KubeConfigAuthExec | None = None
    """Exec credential plugin."""


class FileDiscoveryKubeConfig(KubeModel):
    """A discovery kubeconfig capy generates and writes to kubeConfigPath."""

    cluster: KubeConfigCluster | None = None
    """Cluster entry."""
    user: KubeConfigUser
    """User entry."""


class FileDiscovery(KubeModel):
    """Find the cluster with a kubeconfig file on the machine."""

    kube_config_path: Str
    """Path of the kubeconfig file."""
    kube_config: FileDiscoveryKubeConfig | None = None
    """Contents to generate at kubeConfigPath."""


class Discovery(KubeModel):
    """How a joining machine finds and trusts the cluster."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "!(has(self.bootstrapToken) && has(self.file))",
                    "message": "joinConfiguration.discovery: set bootstrapToken or file, not both",
                }
            ]
        }
    )

    bootstrap_token: BootstrapTokenDiscovery | None = None
    """Token-based discovery (the default)."""
    file: FileDiscovery | None = None
    """File-based discovery."""
    tls_bootstrap_token: Str | None = None
    """Token for the kubelet's TLS bootstrap; default: the discovery token."""


class JoinControlPlane(KubeModel):
    """This machine joins as another control-plane member."""

    local_api_endpoint: APIEndpoint | None = None
    """This machine's API server endpoint."""


class JoinConfiguration(KubeModel):
    """Settings of `kubeadm join`."""

    node_registration: NodeRegistration | None = None
    """How this machine registers as a Node."""
    ca_cert_path: Str | None = None
    """Where the cluster CA certificate is written."""
    discovery: Discovery | None = None
    """How the cluster is found."""
    control_plane: JoinControlPlane | None = None
    """Join as a control-plane member; set by KubeadmControlPlane for its machines."""
    skip_phases: SkipPhases | None = Field(default=None, json_schema_extra=ATOMIC_LIST)
    """kubeadm join phases to skip."""
    patches: Patches | None = None
    """Patches for the control-plane static Pods."""
    timeouts: Timeouts | None = None
    """kubeadm timeouts."""
