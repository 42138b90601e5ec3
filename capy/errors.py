"""Why a reconcile stopped short, in both providers; each operator maps these to kopf once.

Each error carries a condition reason (CamelCase) and a message safe to show in conditions and
Events: never credentials, tokens or bootstrap data.
"""

from __future__ import annotations


class ReconcileError(Exception):
    """Base: the reconcile could not finish; `reason` becomes the condition reason."""

    reason = "ReconcileFailed"
    delay: float = 30.0

    def __init__(self, message: str, *, reason: str | None = None, delay: float | None = None):
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        if delay is not None:
            self.delay = delay


class Retryable(ReconcileError):
    """A transient failure (throttling, a cloud hiccup): try again after `delay` seconds."""

    reason = "CloudError"


class WaitingFor(ReconcileError):
    """Something outside our control is not ready yet (owner, cluster, bootstrap data)."""

    reason = "Waiting"
    delay = 10.0


class InvalidSpec(ReconcileError):
    """The user must change the spec; retrying the same spec cannot succeed."""

    reason = "InvalidSpec"
    delay = 300.0


class CloudQuota(ReconcileError):
    """The account's quota or capacity refuses the request."""

    reason = "QuotaExceeded"
    delay = 120.0


class DeletionBlocked(ReconcileError):
    """A resource we did not create keeps one of ours from being deleted; the message names it."""

    reason = "DeletionBlocked"
    delay = 60.0
