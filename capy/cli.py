"""The `capy` command."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from capy.crd import CRD_DIR

if TYPE_CHECKING:
    from capy.crd import Kind
    from capy_harness.plane import PlaneState


def default_dev_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return Path(os.environ.get("CAPY_DEV_DIR") or cache / "capy" / "dev")


def _dev_up(args: argparse.Namespace) -> int:
    from capy_harness.plane import ManagementPlane, PlaneState

    directory: Path = args.dir
    existing = PlaneState.load(directory)
    if existing and existing.components and all(map(existing.healthy, existing.components)):
        print(f"capy dev environment already up in {directory}")
    else:
        if existing:
            from capy_harness.plane import stop_directory

            stop_directory(directory)
        print(f"starting the capy dev environment in {directory} ...", flush=True)
        # The components outlive this command; `capy dev down` stops them.
        ManagementPlane(directory, tie_to_parent=False, capy_providers=True).start()
    state = PlaneState.load(directory)
    assert state is not None and state.kubeconfig is not None
    _print_status(state)
    moto = next((c for c in state.components if c.name == "moto"), None)
    if moto is not None:
        print(f"AWS simulator (moto): {moto.address} (any credentials)")
    print(f"export KUBECONFIG={state.kubeconfig}")
    return 0


def _print_status(state: PlaneState) -> bool:
    ok = True
    width = max([len("COMPONENT"), *(len(c.name) for c in state.components)]) + 2
    print(f"{'COMPONENT':<{width}}{'PID':<9}{'HEALTH':<11}ADDRESS")
    for c in state.components:
        health = "ok" if state.healthy(c) else ("unhealthy" if c.alive() else "down")
        ok = ok and health == "ok"
        print(f"{c.name:<{width}}{c.pid:<9}{health:<11}{c.address}")
    return ok


def _dev_status(args: argparse.Namespace) -> int:
    from capy_harness.plane import PlaneState

    state = PlaneState.load(args.dir)
    if state is None:
        print(f"no capy dev environment in {args.dir}")
        return 1
    ok = _print_status(state)
    if state.kubeconfig:
        print(f"export KUBECONFIG={state.kubeconfig}")
    return 0 if ok else 1


def _dev_down(args: argparse.Namespace) -> int:
    from capy_harness.plane import stop_directory

    stopped = stop_directory(args.dir)
    print(f"stopped {', '.join(stopped)}" if stopped else f"nothing running in {args.dir}")
    return 0


def all_kinds() -> list[Kind]:
    """Every kind capy serves, for CRD generation."""
    from bootstrap.api.v1beta2 import KINDS as BOOTSTRAP
    from providers.api.v1alpha1 import KINDS as INFRA

    return [*INFRA, *BOOTSTRAP]


def _crds(args: argparse.Namespace) -> int:
    from capy import crd

    kinds = all_kinds()
    if args.check:
        stale = crd.stale(kinds, args.out)
        for name in stale:
            print(f"stale: {name}", file=sys.stderr)
        if stale:
            print("regenerate with `capy crds` (or `make crds`) and commit", file=sys.stderr)
        return 1 if stale else 0
    for path in crd.write(kinds, args.out):
        print(path)
    return 0


def _infra_run(args: argparse.Namespace) -> int:
    from providers import operator

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    operator.run(
        args.backend,
        namespaces=args.namespace,
        controller_namespace=args.controller_namespace,
        resync=args.resync,
        kubeconfig=args.kubeconfig,
        liveness=args.liveness,
    )
    return 0


def _bootstrap_run(args: argparse.Namespace) -> int:
    import datetime as dt

    from bootstrap import operator

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    operator.run(
        namespaces=args.namespace,
        token_ttl=dt.timedelta(seconds=args.bootstrap_token_ttl),
        kubeconfig=args.kubeconfig,
        liveness=args.liveness,
    )
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="capy", description="Cluster API providers in Python.")
    sub = p.add_subparsers(dest="command", required=True)

    crds = sub.add_parser("crds", help="generate the CRDs from the pydantic models")
    crds.add_argument("--out", type=Path, default=CRD_DIR, help="directory (default: config/crd)")
    crds.add_argument("--check", action="store_true", help="fail when the files are stale")
    crds.set_defaults(func=_crds)

    infra = sub.add_parser("infra", help="the infrastructure provider")
    infra_sub = infra.add_subparsers(dest="action", required=True)
    infra_run = infra_sub.add_parser("run", help="run the controller until interrupted")
    infra_run.add_argument(
        "--backend", action="append", default=[], help="enable a backend (repeatable): aws"
    )
    infra_run.add_argument(
        "--namespace", action="append", default=[], help="watch only these namespaces"
    )
    infra_run.add_argument(
        "--controller-namespace",
        default=os.environ.get("POD_NAMESPACE", "capy-system"),
        help="namespace of shared identity Secrets (default: $POD_NAMESPACE or capy-system)",
    )
    infra_run.add_argument("--resync", type=float, default=300.0, help="seconds between resyncs")
    infra_run.add_argument("--kubeconfig", help="default: in-cluster, then $KUBECONFIG")
    infra_run.add_argument("--liveness", help="e.g. http://0.0.0.0:8080/healthz")
    infra_run.set_defaults(func=_infra_run)

    boot = sub.add_parser("bootstrap", help="the kubeadm bootstrap provider")
    boot_sub = boot.add_subparsers(dest="action", required=True)
    boot_run = boot_sub.add_parser("run", help="run the controller until interrupted")
    boot_run.add_argument(
        "--namespace", action="append", default=[], help="watch only these namespaces"
    )
    boot_run.add_argument(
        "--bootstrap-token-ttl",
        type=float,
        default=900.0,
        help="seconds a join token lives; refreshed until the machine joins (default 900)",
    )
    boot_run.add_argument("--kubeconfig", help="default: in-cluster, then $KUBECONFIG")
    boot_run.add_argument("--liveness", help="e.g. http://0.0.0.0:8081/healthz")
    boot_run.set_defaults(func=_bootstrap_run)

    dev = sub.add_parser("dev", help="a local management plane for development and demos")
    dev_sub = dev.add_subparsers(dest="action", required=True)
    for name, func, text in (
        ("up", _dev_up, "start it in the background and wait until every component is ready"),
        ("status", _dev_status, "list each component with pid, address and health"),
        ("down", _dev_down, "stop everything `up` started"),
    ):
        action = dev_sub.add_parser(name, help=text)
        action.add_argument(
            "--dir",
            type=Path,
            default=default_dev_dir(),
            help="state directory (default: $CAPY_DEV_DIR or ~/.cache/capy/dev)",
        )
        action.set_defaults(func=func)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
