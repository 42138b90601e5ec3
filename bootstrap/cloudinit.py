"""cloud-config bootstrap data, shaped like upstream CABPK's.

The document starts with `## template: jinja` so instance metadata such as
`{{ ds.meta_data.local_hostname }}` in names and commands is filled in on the machine. Files
(certificates, the kubeadm configuration, the user's files and the bootstrap script) go to
`write_files`; the commands run from the bootstrap script (see bootstrap.script) through `runcmd`.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from bootstrap import certs, kubeadm, script
from bootstrap.api.v1beta2 import KubeadmConfigSpec, User
from bootstrap.reconcile import RenderInput, Role
from capy.errors import InvalidSpec

HEADER = "## template: jinja\n#cloud-config\n"
KUBEADM_INIT = "/run/kubeadm/kubeadm.yaml"
KUBEADM_JOIN = "/run/kubeadm/kubeadm-join-config.yaml"
DEFAULT_CERT_DIR = "/etc/kubernetes/pki"
# Where each cluster secret lands, relative to certificatesDir, as kubeadm expects.
CERT_FILES = {
    "ca": ("ca.crt", "ca.key"),
    "etcd": ("etcd/ca.crt", "etcd/ca.key"),
    "proxy": ("front-proxy-ca.crt", "front-proxy-ca.key"),
    "sa": ("sa.pub", "sa.key"),
}


@dataclass(frozen=True)
class FileEntry:
    path: str
    content: str
    permissions: str = "0640"
    owner: str = "root:root"
    encoding: str | None = None
    append: bool = False

    def to_cloud(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "owner": self.owner,
            "permissions": self.permissions,
            "content": self.content,
        }
        if self.encoding:
            out["encoding"] = self.encoding
        if self.append:
            out["append"] = True
        return out


def _text(data: bytes) -> tuple[str, str | None]:
    try:
        return data.decode(), None
    except UnicodeDecodeError:
        return base64.b64encode(data).decode(), "b64"


def cert_files(found: certs.ClusterCerts, cert_dir: str) -> list[FileEntry]:
    out = []
    for purpose, (crt, key) in CERT_FILES.items():
        pair = found.get(purpose)
        out.append(FileEntry(f"{cert_dir}/{crt}", pair.cert.decode(), "0640"))
        out.append(FileEntry(f"{cert_dir}/{key}", pair.key.decode(), "0600"))
    return out


def user_files(spec: KubeadmConfigSpec, resolved: Mapping[str, bytes]) -> list[FileEntry]:
    out = []
    for i, f in enumerate(spec.files or []):
        if f.content_format == "Template":
            raise InvalidSpec(
                f"spec.files[{i}].contentFormat Template is not supported by capy yet"
            )
        if f.content_from is not None:
            content, encoding = _text(resolved[f.path])
            encoding = f.encoding or encoding
        else:
            content, encoding = f.content or "", f.encoding
        out.append(
            FileEntry(
                f.path,
                content,
                f.permissions or "0640",
                f.owner or "root:root",
                encoding,
                bool(f.append),
            )
        )
    return out


def users(spec_users: list[User], passwords: Mapping[str, str]) -> list[dict[str, Any]]:
    out = []
    for u in spec_users:
        entry: dict[str, Any] = {"name": u.name}
        for key, value in (
            ("gecos", u.gecos),
            ("groups", u.groups),
            ("homedir", u.home_dir),
            ("shell", u.shell),
            ("primary_group", u.primary_group),
            ("sudo", u.sudo),
        ):
            if value is not None:
                entry[key] = value
        passwd = passwords.get(u.name, u.passwd)
        if passwd is not None:
            entry["passwd"] = passwd
        if u.inactive is not None:
            entry["inactive"] = "0" if u.inactive else ""
        if u.lock_password is not None:
            entry["lock_passwd"] = u.lock_password
        if u.ssh_authorized_keys:
            entry["ssh_authorized_keys"] = list(u.ssh_authorized_keys)
        out.append({k: v for k, v in entry.items() if v != ""})
    return out


# MBR type codes sfdisk understands, for the partition type names of the API.
PARTITION_TYPES = {
    "Linux": "83",
    "LinuxSwap": "82",
    "LinuxRAID": "fd",
    "LVM": "8e",
    "Fat32": "0c",
    "NTFS": "07",
    "LinuxExtended": "85",
}


def partition_type(name: str) -> int | str:
    """A name becomes its code; GPT GUIDs and raw codes pass through."""
    code = PARTITION_TYPES.get(name, name)
    return int(code) if code.isdigit() and not code.startswith("0") else code


def disk_setup(spec: KubeadmConfigSpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ds = spec.disk_setup
    if ds and ds.partitions:
        out["disk_setup"] = {}
        for p in ds.partitions:
            layout: Any = (
                p.layout
                if p.layout is not None
                else [
                    [d.percentage, partition_type(d.partition_type)]
                    if d.partition_type
                    else d.percentage
                    for d in p.disk_layout or []
                ]
            )
            entry: dict[str, Any] = {"layout": layout}
            if p.table_type:
                entry["table_type"] = p.table_type
            if p.overwrite is not None:
                entry["overwrite"] = p.overwrite
            out["disk_setup"][p.device] = entry
    if ds and ds.filesystems:
        out["fs_setup"] = []
        for f in ds.filesystems:
            fs: dict[str, Any] = {"device": f.device, "filesystem": f.filesystem}
            for key, value in (
                ("label", f.label),
                ("partition", f.partition),
                ("overwrite", f.overwrite),
                ("replace_fs", f.replace_fs),
            ):
                if value is not None:
                    fs[key] = value
            if f.extra_opts:
                fs["extra_opts"] = list(f.extra_opts)
            out["fs_setup"].append(fs)
    if spec.mounts:
        out["mounts"] = [list(m) for m in spec.mounts]
    return out


def kubeadm_documents(inp: RenderInput, spec: KubeadmConfigSpec) -> tuple[str, str]:
    """The kubeadm configuration file's path and text."""
    if inp.role is Role.INIT:
        text = kubeadm.dump(
            kubeadm.cluster_configuration(
                spec.cluster_configuration,
                cluster_name=inp.cluster_name,
                kubernetes_version=inp.kubernetes_version,
                control_plane_endpoint=inp.control_plane_endpoint,
                cluster_network=inp.cluster_network,
            ),
            kubeadm.init_configuration(spec.init_configuration),
        )
        return KUBEADM_INIT, text
    text = kubeadm.dump(
        kubeadm.join_configuration(
            spec.join_configuration,
            api_server_endpoint=inp.control_plane_endpoint,
            token=inp.token,
            ca_cert_hashes=inp.ca_cert_hashes,
        )
    )
    return KUBEADM_JOIN, text


def files_for(inp: RenderInput, spec: KubeadmConfigSpec) -> list[FileEntry]:
    """Every file of the machine in write order: certificates, user files, kubeadm, script."""
    cert_dir = (
        spec.cluster_configuration and spec.cluster_configuration.certificates_dir
    ) or DEFAULT_CERT_DIR
    files = (
        cert_files(inp.certs, cert_dir) if inp.certs and inp.role is not Role.JOIN_WORKER else []
    )
    files += user_files(spec, inp.files)
    path, text = kubeadm_documents(inp, spec)
    files.append(FileEntry(path, text, "0640"))
    init = inp.role is Role.INIT
    files.append(
        FileEntry(
            script.PATH,
            script.render(
                spec.pre_kubeadm_commands or [],
                script.kubeadm_command(init, path, spec.verbosity),
                spec.post_kubeadm_commands or [],
            ),
            "0700",
        )
    )
    return files


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (certificates, scripts, kubeadm YAML) as literal blocks, as a person
    would write them."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def render(inp: RenderInput) -> bytes:
    spec = KubeadmConfigSpec.model_validate(inp.spec)
    doc: dict[str, Any] = {"write_files": [f.to_cloud() for f in files_for(inp, spec)]}
    if spec.boot_commands:
        doc["bootcmd"] = list(spec.boot_commands)
    doc["runcmd"] = [script.PATH]
    if spec.ntp and (spec.ntp.servers or spec.ntp.enabled is not None):
        ntp: dict[str, Any] = {}
        if spec.ntp.enabled is not None:
            ntp["enabled"] = spec.ntp.enabled
        if spec.ntp.servers:
            ntp["servers"] = list(spec.ntp.servers)
        doc["ntp"] = ntp
    if spec.users:
        doc["users"] = users(spec.users, inp.passwords)
    doc.update(disk_setup(spec))
    return (HEADER + yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=10_000)).encode()
