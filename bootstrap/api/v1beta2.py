"""KubeadmConfig and KubeadmConfigTemplate: bootstrap.cluster.x-k8s.io/v1beta2.

Same group, kinds, version and field names as upstream's kubeadm bootstrap provider, so
KubeadmControlPlane and MachineDeployments use capy's in its place. Rules upstream enforces in
its webhooks are CEL rules here (the API server answers them) and pydantic validators with the
same message (for code that builds specs in Python).
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from bootstrap.api.kubeadm import (
    ClusterConfiguration,
    InitConfiguration,
    JoinConfiguration,
)
from capy.crd import Kind, PrinterColumn, Version
from capy.meta import ATOMIC_LIST, MAX_CONDITIONS, Condition, list_map
from capy.model import KubeModel

GROUP = "bootstrap.cluster.x-k8s.io"
VERSION = "v1beta2"
CRD_LABELS = {"cluster.x-k8s.io/v1beta2": VERSION, "clusterctl.cluster.x-k8s.io": ""}

Command = Annotated[str, Field(min_length=1, max_length=10240)]
Commands = Annotated[list[Command], Field(min_length=1, max_length=1000)]
Short = Annotated[str, Field(min_length=1, max_length=256)]

FILE_CONTENT_ONCE = "files: set content or contentFrom, not both"
PASSWD_ONCE = "users: set passwd or passwdFrom, not both"  # noqa: S105 (a message)
IGNITION_ONLY = "ignition is only used with format: ignition; set format: ignition or remove it"


class SecretKey(KubeModel):
    """A key of a Secret in the KubeadmConfig's namespace."""

    name: Annotated[str, Field(min_length=1, max_length=253)]
    """Name of the Secret."""
    key: Short
    """Key in the Secret's data."""


class FileSource(KubeModel):
    """Where a file's content comes from."""

    secret: SecretKey
    """A Secret key."""


class File(KubeModel):
    """A file written to the machine before kubeadm runs."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {"rule": "!(has(self.content) && has(self.contentFrom))",
                 "message": FILE_CONTENT_ONCE}
            ]
        }
    )  # fmt: skip

    path: Annotated[str, Field(min_length=1, max_length=512)]
    """Absolute path on the machine."""
    owner: Short | None = None
    """Owner as user:group, e.g. root:root."""
    permissions: Annotated[str, Field(min_length=1, max_length=16)] | None = None
    """Octal permissions, e.g. '0640'."""
    encoding: Literal["base64", "gzip", "gzip+base64"] | None = None
    """How content is encoded."""
    append: bool | None = None
    """Append to an existing file instead of replacing it."""
    content: Annotated[str, Field(min_length=1, max_length=10240)] | None = None
    """The content itself."""
    content_from: FileSource | None = None
    """Take the content from a Secret."""
    content_format: Literal["Raw", "Template"] | None = None
    """Template renders the content as a Go-style template with the machine's data."""

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.content is not None and self.content_from is not None:
            raise ValueError(FILE_CONTENT_ONCE)
        return self


class PasswdSource(KubeModel):
    """Where a user's password hash comes from."""

    secret: SecretKey
    """A Secret key."""


class User(KubeModel):
    """A user account created on the machine."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {"rule": "!(has(self.passwd) && has(self.passwdFrom))", "message": PASSWD_ONCE}
            ]
        }
    )

    name: Short
    """User name."""
    gecos: Short | None = None
    """Full name or comment."""
    groups: Short | None = None
    """Extra groups, comma separated."""
    home_dir: Short | None = None
    """Home directory."""
    inactive: bool | None = None
    """Create the account disabled."""
    shell: Short | None = None
    """Login shell."""
    passwd: Short | None = None
    """Password hash."""
    passwd_from: PasswdSource | None = None
    """Take the password hash from a Secret."""
    primary_group: Short | None = None
    """Primary group."""
    lock_password: bool | None = None
    """Disable password login."""
    sudo: Short | None = None
    """sudoers rule, e.g. ALL=(ALL) NOPASSWD:ALL."""
    ssh_authorized_keys: (
        Annotated[list[Annotated[str, Field(min_length=1, max_length=2048)]], Field(max_length=100)]
        | None
    ) = Field(default=None, json_schema_extra=ATOMIC_LIST)
    """Public keys allowed to log in as this user."""

    @model_validator(mode="after")
    def _one_password(self) -> Self:
        if self.passwd is not None and self.passwd_from is not None:
            raise ValueError(PASSWD_ONCE)
        return self


class NTP(KubeModel):
    """Time synchronisation."""

    servers: (
        Annotated[list[Annotated[str, Field(min_length=1, max_length=512)]], Field(max_length=100)]
        | None
    ) = Field(default=None, json_schema_extra=ATOMIC_LIST)
    """NTP servers."""
    enabled: bool | None = None
    """Turn NTP on."""


class PartitionSpec(KubeModel):
    """One partition of a disk layout."""

    percentage: int = Field(ge=1, le=100)
    """Share of the disk, in percent."""
    partition_type: Annotated[str, Field(min_length=1, max_length=36)] | None = Field(
        default=None,
        json_schema_extra={"x-kubernetes-validations": [{
            "rule": "self.matches('^(Linux|LinuxSwap|LinuxRAID|LVM|Fat32|NTFS|LinuxExtended|"
                    "[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12})$')",
            "message": "partitionType must be Linux, LinuxSwap, LinuxRAID, LVM, Fat32, NTFS, "
                       "LinuxExtended or a GPT partition GUID"}]},
    )  # fmt: skip
    """Partition type."""


class Partition(KubeModel):
    """How one disk is partitioned."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {"rule": "has(self.layout) != has(self.diskLayout)",
                 "message": "diskSetup.partitions: set exactly one of layout or diskLayout"}
            ]
        }
    )  # fmt: skip

    device: Short
    """Device to partition, e.g. /dev/sdb."""
    layout: bool | None = None
    """True: one partition over the whole disk."""
    overwrite: bool | None = None
    """Partition even when the disk already has a partition table."""
    table_type: Literal["mbr", "gpt"] | None = None
    """Partition table type."""
    disk_layout: Annotated[list[PartitionSpec], Field(min_length=1, max_length=100)] | None = Field(
        default=None, json_schema_extra=ATOMIC_LIST
    )
    """Explicit partitions."""


class Filesystem(KubeModel):
    """A filesystem created on a device or partition."""

    device: Short
    """Device or partition."""
    filesystem: Annotated[str, Field(min_length=1, max_length=128)]
    """Filesystem type, e.g. ext4 or xfs."""
    label: Annotated[str, Field(min_length=1, max_length=512)] | None = None
    """Filesystem label."""
    partition: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    """Partition on the device: auto, any, none or a number."""
    overwrite: bool | None = None
    """Create it even if a filesystem is there already."""
    replace_fs: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    """Replace only a filesystem of this type."""
    extra_opts: Annotated[list[Short], Field(max_length=100)] | None = Field(
        default=None, json_schema_extra=ATOMIC_LIST
    )
    """Extra options for mkfs."""


class DiskSetup(KubeModel):
    """Partitions and filesystems to create."""

    partitions: Annotated[list[Partition], Field(max_length=100)] | None = Field(
        default=None, json_schema_extra=ATOMIC_LIST
    )
    """Disk partitioning."""
    filesystems: Annotated[list[Filesystem], Field(max_length=100)] | None = Field(
        default=None, json_schema_extra=ATOMIC_LIST
    )
    """Filesystems."""


MountPoint = Annotated[list[Annotated[str, Field(min_length=1, max_length=512)]],
                       Field(min_length=1, max_length=100)]  # fmt: skip


class ContainerLinuxConfig(KubeModel):
    """Extra Butane/Container Linux Config merged into the generated Ignition."""

    additional_config: Annotated[str, Field(min_length=1, max_length=32768)] | None = None
    """Config in YAML, merged into what capy generates."""
    strict: bool | None = None
    """Fail on warnings while translating additionalConfig."""


class IgnitionSpec(KubeModel):
    """Ignition-only settings."""

    container_linux_config: ContainerLinuxConfig | None = None
    """Extra Container Linux Config."""


class KubeadmConfigSpec(KubeModel):
    """Desired bootstrap configuration of a machine."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {"rule": "!has(self.ignition) || (has(self.format) && self.format == 'ignition')",
                 "message": IGNITION_ONLY}
            ]
        }
    )  # fmt: skip

    cluster_configuration: ClusterConfiguration | None = None
    """kubeadm ClusterConfiguration (used by kubeadm init)."""
    init_configuration: InitConfiguration | None = None
    """kubeadm InitConfiguration (used by kubeadm init)."""
    join_configuration: JoinConfiguration | None = None
    """kubeadm JoinConfiguration (used by kubeadm join)."""
    files: Annotated[list[File], Field(min_length=1, max_length=200)] | None = Field(
        default=None, json_schema_extra=ATOMIC_LIST
    )
    """Files written before kubeadm runs."""
    disk_setup: DiskSetup | None = None
    """Partitions and filesystems."""
    mounts: Annotated[list[MountPoint], Field(min_length=1, max_length=100)] | None = Field(
        default=None, json_schema_extra=ATOMIC_LIST
    )
    """Mount points, each as the fields of an fstab line."""
    boot_commands: Commands | None = Field(default=None, json_schema_extra=ATOMIC_LIST)
    """Commands run very early in boot (cloud-init bootcmd)."""
    pre_kubeadm_commands: Commands | None = Field(default=None, json_schema_extra=ATOMIC_LIST)
    """Commands run before kubeadm."""
    post_kubeadm_commands: Commands | None = Field(default=None, json_schema_extra=ATOMIC_LIST)
    """Commands run after kubeadm."""
    users: Annotated[list[User], Field(min_length=1, max_length=100)] | None = Field(
        default=None, json_schema_extra=ATOMIC_LIST
    )
    """User accounts."""
    ntp: NTP | None = None
    """Time synchronisation."""
    format: Literal["cloud-config", "ignition"] | None = None
    """Bootstrap data format (default cloud-config)."""
    verbosity: int | None = Field(default=None, ge=0)
    """kubeadm's log verbosity (--v)."""
    ignition: IgnitionSpec | None = None
    """Ignition-only settings."""

    @model_validator(mode="after")
    def _ignition_needs_format(self) -> Self:
        if self.ignition is not None and self.format != "ignition":
            raise ValueError(IGNITION_ONLY)
        return self


class Initialization(KubeModel):
    """Cluster API v1beta2 initialization status."""

    data_secret_created: bool | None = None
    """True once the bootstrap data Secret exists."""


class KubeadmConfigStatus(KubeModel):
    """Observed state of a KubeadmConfig."""

    conditions: Annotated[list[Condition], Field(max_length=MAX_CONDITIONS)] | None = Field(
        default=None, json_schema_extra=list_map("type")
    )
    """Ready, DataSecretAvailable, CertificatesAvailable and Paused."""
    initialization: Initialization | None = None
    """Cluster API v1beta2 initialization status."""
    data_secret_name: Annotated[str, Field(min_length=1, max_length=253)] | None = None
    """Secret holding the bootstrap data."""
    data_secret_size: int | None = Field(default=None, ge=0)
    """Size in bytes of the bootstrap data (capy: lets infrastructure limits be checked early)."""
    observed_generation: int | None = None
    """The metadata.generation this status describes."""


class TemplateMeta(KubeModel):
    """Labels and annotations of the KubeadmConfigs made from a template."""

    labels: dict[str, str] | None = None
    """Labels."""
    annotations: dict[str, str] | None = None
    """Annotations."""


class KubeadmConfigTemplateResource(KubeModel):
    """The KubeadmConfig to create."""

    metadata: TemplateMeta | None = None
    """Metadata of the created KubeadmConfigs."""
    spec: KubeadmConfigSpec | None = None
    """Spec of the created KubeadmConfigs."""


class KubeadmConfigTemplateSpec(KubeModel):
    """Desired state of a KubeadmConfigTemplate."""

    template: KubeadmConfigTemplateResource
    """The KubeadmConfigs to create."""


_AGE = PrinterColumn("Age", ".metadata.creationTimestamp", "date")
_CLUSTER = PrinterColumn("Cluster", ".metadata.labels['cluster\\.x-k8s\\.io/cluster-name']")

KINDS = (
    Kind(GROUP, "KubeadmConfig", "kubeadmconfigs", [Version(
        VERSION, KubeadmConfigSpec, KubeadmConfigStatus,
        columns=(_CLUSTER, PrinterColumn("Data Secret Created",
                                         ".status.initialization.dataSecretCreated", "boolean"),
                 PrinterColumn("Data Size", ".status.dataSecretSize", "integer", priority=1), _AGE),
        description="KubeadmConfig is the kubeadm bootstrap configuration of one machine.")],
        labels=CRD_LABELS, categories=("cluster-api",)),
    Kind(GROUP, "KubeadmConfigTemplate", "kubeadmconfigtemplates", [Version(
        VERSION, KubeadmConfigTemplateSpec, columns=(_CLUSTER, _AGE),
        description="KubeadmConfigTemplate: what MachineDeployments make KubeadmConfigs from.")],
        labels=CRD_LABELS, categories=("cluster-api",)),
)  # fmt: skip
