"""A moto server per test session, and boto3 clients on it for inspecting what capy did."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from capy_harness.moto import reset, start_moto
from capy_harness.process import stop
from providers.aws.client import Sessions, Target

REGION = "eu-west-1"


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    record = start_moto(tmp_path_factory.mktemp("moto"))
    try:
        yield record.address
    finally:
        stop(record)


@pytest.fixture
def aws(moto_endpoint: str) -> Iterator[Target]:
    """A clean simulated account for each test."""
    reset(moto_endpoint)
    yield Target(REGION, moto_endpoint, "testing", "testing")


@pytest.fixture
def sessions() -> Sessions:
    return Sessions()


@pytest.fixture
def ec2(aws: Target) -> Any:
    return boto3.client(
        "ec2", region_name=aws.region, endpoint_url=aws.endpoint_url,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
