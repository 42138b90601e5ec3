from __future__ import annotations

import datetime as dt

from capy import conditions as cond

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(minutes=5)


def test_transition_time_moves_only_when_status_changes() -> None:
    cs = cond.set_condition([], "VPCReady", "False", "Creating", at=T0)
    cs = cond.set_condition(cs, "VPCReady", "False", "StillCreating", "subnets", at=T1)
    c = cond.get(cs, "VPCReady")
    assert c is not None
    assert (c.last_transition_time, c.reason, c.message) == (T0, "StillCreating", "subnets")

    cs = cond.set_condition(cs, "VPCReady", "True", "Created", at=T1)
    c = cond.get(cs, "VPCReady")
    assert c is not None and c.last_transition_time == T1 and len(cs) == 1


def test_ready_is_true_only_when_every_part_is_true() -> None:
    cs = cond.set_condition([], "A", "True", "Done", at=T0)
    cs = cond.set_condition(cs, "B", "True", "Done", at=T0)
    cs = cond.summarise_ready(cs, ["A", "B"], generation=3, at=T0)
    ready = cond.get(cs, "Ready")
    assert ready is not None
    assert (ready.status, ready.reason, ready.observed_generation) == ("True", "Ready", 3)


def test_ready_takes_the_reason_of_the_worst_part() -> None:
    cs = cond.set_condition([], "A", "Unknown", "Waiting", at=T0)
    cs = cond.set_condition(cs, "B", "False", "QuotaExceeded", "vCPU limit 32 reached", at=T0)
    ready = cond.get(cond.summarise_ready(cs, ["A", "B"], at=T0), "Ready")
    assert ready is not None
    assert (ready.status, ready.reason) == ("False", "QuotaExceeded")
    assert ready.message == "B: vCPU limit 32 reached"


def test_a_part_never_reported_makes_ready_unknown() -> None:
    cs = cond.set_condition([], "A", "True", "Done", at=T0)
    ready = cond.get(cond.summarise_ready(cs, ["A", "InstanceReady"], at=T0), "Ready")
    assert ready is not None
    assert (ready.status, ready.reason) == ("Unknown", "InstanceReadyNotReported")


def test_conditions_serialise_as_metav1_conditions() -> None:
    cs = cond.set_condition([], "Ready", "True", "Ready", generation=2, at=T0)
    assert cs[0].to_kube() == {
        "type": "Ready",
        "status": "True",
        "reason": "Ready",
        "message": "",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
        "observedGeneration": 2,
    }
