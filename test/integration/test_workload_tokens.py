"""Bootstrap tokens in a real workload API server that serves with the cluster's own CA."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bootstrap import certs, tokens
from capy import pki
from capy.kube import api_server_from_kubeconfig
from capy_harness.tools import Tools
from capy_harness.workload import Workload, start_workload

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cluster_ca() -> pki.KeyPair:
    return certs.generate("ca")


@pytest.fixture(scope="module")
def workload(
    toolset: Tools, tmp_path_factory: pytest.TempPathFactory, cluster_ca: pki.KeyPair
) -> Iterator[Workload]:
    w = start_workload(toolset, tmp_path_factory.mktemp("workload"), "w1", cluster_ca)
    try:
        yield w
    finally:
        w.stop()


def whoami_status(workload: Workload, ca: pki.KeyPair, token: str) -> int:
    """HTTP status of an API call made with `token`, trusting only the cluster CA."""
    ctx = ssl.create_default_context(cadata=ca.cert.decode())
    req = urllib.request.Request(  # noqa: S310 (an https URL of our own apiserver)
        f"{workload.url}/apis", headers={"Authorization": f"Bearer {token}"}
    )
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx)
    )
    try:
        with opener.open(req, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as e:
        return e.code


def test_api_server_serves_with_the_cluster_ca(workload: Workload, cluster_ca: pki.KeyPair) -> None:
    # No token at all: the TLS handshake with the cluster CA works, authentication does not.
    assert whoami_status(workload, cluster_ca, "not-a-token") == 401


def test_created_token_authenticates_and_an_expired_one_does_not(
    workload: Workload, cluster_ca: pki.KeyPair, tmp_path: Path
) -> None:
    kube = api_server_from_kubeconfig(workload.kubeconfig)
    token = tokens.new_token()
    assert asyncio.run(tokens.ensure(kube, token)) == "created"
    assert whoami_status(workload, cluster_ca, token) == 200

    stale = tokens.new_token()
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    asyncio.run(tokens.ensure(kube, stale, now=long_ago))
    assert whoami_status(workload, cluster_ca, stale) == 401
    # The controller's next pass revives it: a slow machine can still join.
    assert asyncio.run(tokens.ensure(kube, stale)) == "refreshed"
    assert whoami_status(workload, cluster_ca, stale) == 200


def test_kubeconfig_secret_has_the_cluster_api_shape(workload: Workload) -> None:
    secret = workload.kubeconfig_secret()
    assert secret["metadata"]["name"] == "w1-kubeconfig"
    assert secret["metadata"]["labels"] == {"cluster.x-k8s.io/cluster-name": "w1"}
    assert "current-context: w1-admin@w1" in workload.kubeconfig
