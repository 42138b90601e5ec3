"""The local management plane: Kubernetes control plane, CAPI CRDs and the upstream managers.

Every started component is recorded in `state.json` at once, so a plane that failed half way,
or whose starter was killed, can still be stopped completely from its directory.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from capy.crd import CRD_DIR
from capy_harness import capi, controlplane
from capy_harness.probe import free_port, http_ok, wait_healthy
from capy_harness.process import ProcessRecord, stop
from capy_harness.tools import Tools, tools

STATE_FILE = "state.json"
DEFAULT_MANAGERS = ("core", "kcp")
# KubeadmConfig's CRD is capy's own (config/crd); upstream's comes only with upstream's manager.
CRD_SOURCES = ("core", "kcp")


@dataclass
class PlaneState:
    directory: Path
    kubeconfig: Path | None = None
    components: list[ProcessRecord] = field(default_factory=list)

    def save(self) -> None:
        data = {
            "kubeconfig": str(self.kubeconfig) if self.kubeconfig else None,
            "components": [c.to_json() for c in self.components],
        }
        tmp = self.directory / f"{STATE_FILE}.tmp"
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(self.directory / STATE_FILE)

    @classmethod
    def load(cls, directory: Path) -> PlaneState | None:
        try:
            data = json.loads((directory / STATE_FILE).read_text())
        except FileNotFoundError:
            return None
        kubeconfig = data.get("kubeconfig")
        return cls(
            directory,
            Path(kubeconfig) if kubeconfig else None,
            [ProcessRecord.from_json(c) for c in data["components"]],
        )

    def component(self, name: str) -> ProcessRecord:
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(f"no component {name!r} in {self.directory}")

    def healthy(self, record: ProcessRecord) -> bool:
        return record.alive() and (record.health is None or http_ok(record.health))


class ManagementPlane:
    """Start and stop one management plane under `directory`."""

    def __init__(
        self,
        directory: Path,
        managers: Sequence[str] = DEFAULT_MANAGERS,
        *,
        tie_to_parent: bool = True,
        toolset: Tools | None = None,
        capy_providers: bool = False,
    ) -> None:
        self.directory = directory
        self.managers = [capi.MANAGERS[m] for m in managers]
        self.capy_providers = capy_providers
        self.tie = tie_to_parent
        self.tools = toolset or tools()
        self.state = PlaneState(directory)

    def _record(self, record: ProcessRecord) -> ProcessRecord:
        self.state.components.append(record)
        self.state.save()
        return record

    def start(self, timeout: float = 120.0) -> PlaneState:
        if self.directory.exists():
            shutil.rmtree(self.directory)
        (self.directory / "logs").mkdir(parents=True)
        self.state.save()
        try:
            self._start(timeout)
        except BaseException:
            self.stop(remove=False)
            raise
        return self.state

    def _start(self, timeout: float) -> None:
        state_dir, t = self.directory, self.tools
        trust = controlplane.Trust.create(state_dir / "pki")
        ca = trust.serving.pair.cert

        etcd = self._record(controlplane.start_etcd(t, state_dir, tie_to_parent=self.tie))
        wait_healthy(etcd, timeout)
        kas, kubeconfig = controlplane.start_apiserver(
            t, state_dir, trust, etcd.address, tie_to_parent=self.tie
        )
        self._record(kas)
        self.state.kubeconfig = kubeconfig
        self.state.save()
        wait_healthy(kas, timeout)
        kcm = controlplane.start_controller_manager(
            t, state_dir, trust, kubeconfig, tie_to_parent=self.tie
        )
        self._record(kcm)

        ports = {m.name: free_port() for m in self.managers}
        crds = []
        sources = [*CRD_SOURCES, *(["cabpk"] if capi.MANAGERS["cabpk"] in self.managers else [])]
        for key in sources:
            manager = capi.MANAGERS[key]
            crds += capi.crds_for(manager, t.capi_source, ports.get(manager.name), ca)
        # capy's own generated CRDs, so `kubectl explain capycluster` works at once.
        for path in sorted(CRD_DIR.glob("*.yaml")):
            if "cabpk" in sources and path.name.startswith("bootstrap."):
                continue
            crds += capi.load_all(path)
        capi.kubectl_apply(t, kubeconfig, crds)
        capi.wait_established(t, kubeconfig)

        started = [
            self._record(
                capi.start_manager(
                    m, t, state_dir, kubeconfig, trust, ports[m.name], tie_to_parent=self.tie
                )
            )
            for m in self.managers
        ]
        for record in [kcm, *started]:
            wait_healthy(record, timeout)
        # Registered only once the servers answer: with failurePolicy Fail an earlier
        # registration would refuse every write of those kinds.
        hooks = []
        for m in self.managers:
            hooks += capi.webhooks_for(m, t.capi_source, ports[m.name], ca)
        capi.kubectl_apply(t, kubeconfig, hooks)
        if self.capy_providers:
            self._start_capy(kubeconfig)

    def _start_capy(self, kubeconfig: Path) -> None:
        """The AWS simulator, capy's infrastructure provider pointed at it, and capy's kubeadm
        bootstrap provider (which this plane's KubeadmControlPlane talks to)."""
        from capy_harness.infra import moto_env, start_bootstrap_provider, start_infra_provider
        from capy_harness.moto import start_moto

        moto = self._record(start_moto(self.directory, tie_to_parent=self.tie))
        self._record(
            start_infra_provider(
                kubeconfig,
                self.directory / "logs" / "capy-infra.log",
                backends=["aws"],
                env=moto_env(moto.address),
                tie_to_parent=self.tie,
            )
        )
        self._record(
            start_bootstrap_provider(
                kubeconfig, self.directory / "logs" / "capy-bootstrap.log", tie_to_parent=self.tie
            )
        )

    def stop(self, *, remove: bool = True) -> None:
        stop_directory(self.directory, remove=remove)


def stop_directory(directory: Path, *, remove: bool = True) -> list[str]:
    """Stop every component recorded under `directory`, newest first; returns their names."""
    state = PlaneState.load(directory)
    if state is None:
        return []
    for record in reversed(state.components):
        stop(record)
    if remove:
        shutil.rmtree(directory, ignore_errors=True)
    return [r.name for r in state.components]
