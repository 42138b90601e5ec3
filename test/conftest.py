"""pytest fixtures over the harness: one management plane per session, a namespace per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from capy_harness.plane import ManagementPlane, PlaneState
from capy_harness.tools import Tools, tools


@pytest.fixture(scope="session")
def toolset() -> Tools:
    return tools()


@pytest.fixture(scope="session")
def plane(tmp_path_factory: pytest.TempPathFactory, toolset: Tools) -> Iterator[PlaneState]:
    """A Kubernetes control plane with the CAPI CRDs and the core and KCP managers."""
    mp = ManagementPlane(tmp_path_factory.mktemp("plane"), toolset=toolset)
    state = mp.start()
    try:
        yield state
    finally:
        mp.stop(remove=False)


@pytest.fixture(scope="session")
def kubeconfig(plane: PlaneState) -> Path:
    assert plane.kubeconfig is not None
    return plane.kubeconfig


@pytest.fixture(scope="session")
def api(kubeconfig: Path) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(kubeconfig))


@pytest.fixture
def namespace(api: client.ApiClient) -> Iterator[str]:
    """A fresh namespace, deleted (with everything in it) after the test."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


@pytest.fixture(scope="session")
def capy_crds(plane: PlaneState) -> Path:
    """capy's generated CRDs; the plane installs them from config/crd at start."""
    from capy.crd import CRD_DIR

    return CRD_DIR
