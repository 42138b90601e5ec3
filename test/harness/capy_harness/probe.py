"""Readiness probes over HTTP(S) and TCP, on loopback only."""

from __future__ import annotations

import random
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from capy_harness.process import Health, ProcessRecord, wait_ready

T = TypeVar("T")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_handed_out: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    Chosen below the kernel's ephemeral range: a port handed out by the kernel could be taken
    by any outgoing connection of a busy machine before our server binds it (the CAPI managers'
    webhook servers bind every interface, so any such connection would collide).
    """
    high = _ephemeral_low() - 1
    for _ in range(200):
        port = random.randint(20000, high)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("0.0.0.0", port))  # noqa: S104 (a probe, closed at once)
            except OSError:
                continue
        # Not yet bound by whoever asked: never hand the same port out twice in one process.
        _handed_out.add(port)
        return port
    raise RuntimeError("no free TCP port found below the ephemeral range")


def _context(health: Health) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=health.ca)
    if health.cert and health.key:
        ctx.load_cert_chain(health.cert, health.key)
    return ctx


def http_ok(health: Health, timeout: float = 2.0) -> bool:
    """True when the URL answers 200. Proxy settings are ignored: every target is loopback."""
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
    if health.url.startswith("https"):
        handlers.append(urllib.request.HTTPSHandler(context=_context(health)))
    try:
        with urllib.request.build_opener(*handlers).open(health.url, timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (OSError, urllib.error.URLError, ssl.SSLError):
        return False


def tls_ok(host: str, port: int, ca: str, timeout: float = 2.0) -> bool:
    """True when a TLS server on host:port completes a handshake with a cert signed by `ca`."""
    ctx = ssl.create_default_context(cafile=ca)
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as sock,
            ctx.wrap_socket(sock, server_hostname=host),
        ):
            return True
    except (OSError, ssl.SSLError):
        return False


def wait_healthy(record: ProcessRecord, timeout: float) -> None:
    """Wait until the component's health endpoint answers 200."""
    health = record.health
    if health is None:
        raise ValueError(f"{record.name} has no health endpoint")
    wait_ready(record, lambda: http_ok(health), timeout)


def eventually(check: Callable[[], T], timeout: float = 30.0, interval: float = 0.3) -> T:
    """Poll `check` until it returns something truthy and return it; fail with the last value."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value:
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout:.0f}s; last value: {value!r}")
        time.sleep(interval)
        value = check()
    return value
