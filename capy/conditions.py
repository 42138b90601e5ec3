"""metav1.Conditions as Cluster API v1beta2 expects them on provider objects.

A condition keeps its lastTransitionTime while its status stays the same, so repeated
level-triggered reconciles do not churn it. `Ready` summarises the others: False when any of
them is False, Unknown when any is Unknown, True otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Literal

from capy.meta import Condition

Status = Literal["True", "False", "Unknown"]
READY = "Ready"
PAUSED = "Paused"


def now() -> dt.datetime:
    # API servers store second precision; keeping it avoids spurious diffs on re-read.
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def set_condition(
    conditions: Sequence[Condition],
    type_: str,
    status: Status,
    reason: str,
    message: str = "",
    *,
    generation: int | None = None,
    at: dt.datetime | None = None,
) -> list[Condition]:
    """A copy of `conditions` with `type_` set; the transition time moves only on a change."""
    old = get(conditions, type_)
    transition = old.last_transition_time if old and old.status == status else (at or now())
    new = Condition(
        type=type_,
        status=status,
        reason=reason,
        message=message,
        last_transition_time=transition,
        observed_generation=generation,
    )
    return sorted([*(c for c in conditions if c.type != type_), new], key=lambda c: c.type)


def get(conditions: Iterable[Condition], type_: str) -> Condition | None:
    return next((c for c in conditions if c.type == type_), None)


def is_true(conditions: Iterable[Condition], type_: str) -> bool:
    c = get(conditions, type_)
    return c is not None and c.status == "True"


def summarise_ready(
    conditions: Sequence[Condition],
    types: Sequence[str],
    *,
    generation: int | None = None,
    at: dt.datetime | None = None,
) -> list[Condition]:
    """Set Ready from `types` (absent ones count as Unknown); the first bad one gives the reason."""
    worst: tuple[int, Condition | None, str] = (0, None, "")
    rank = {"True": 0, "Unknown": 1, "False": 2}
    for type_ in types:
        c = get(conditions, type_)
        score = rank[c.status] if c else 1
        if score > worst[0]:
            worst = (score, c, type_)
    score, culprit, culprit_type = worst
    if score == 0:
        return set_condition(conditions, READY, "True", "Ready", generation=generation, at=at)
    status: Status = "False" if score == 2 else "Unknown"
    if culprit is None:
        return set_condition(
            conditions,
            READY,
            status,
            f"{culprit_type}NotReported",
            f"{culprit_type} has not been reported yet",
            generation=generation,
            at=at,
        )
    message = f"{culprit.type}: {culprit.message}" if culprit.message else culprit.type
    return set_condition(
        conditions, READY, status, culprit.reason, message, generation=generation, at=at
    )
