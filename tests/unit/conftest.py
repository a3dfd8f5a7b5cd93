"""The service layer on in-memory adapters and a virtual clock: what the unit tests of
intake, changes, actions, steps, outbox, importer and queries share."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import intake, steps
from chalicelib.adapters.memory import MemoryNotifier, MemoryTicketStore, MemoryWorkflow, memory_services
from chalicelib.models import Caller
from chalicelib.services import Services
from infra.resources import load_asl

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
# The policy table as the state machine hands it to the triage step.
POLICY: dict[str, Any] = load_asl("lifecycle")["States"]["ServiceLevelPolicy"]["Result"]
# the same policy with at-risk warnings off: for tests whose premise is the breach itself
WITHOUT_AT_RISK: dict[str, Any] = {**POLICY, "escalation": {**POLICY["escalation"], "at_risk_fraction": None}}
BODY: dict[str, Any] = {
    "customer_id": "C-1001", "order_id": "O-1", "channel": "app", "desired_outcome": "refund",
    "description": "快递到的时候杯子碎了", "contact": {"locale": "zh-CN", "phone": "+8613800000000"},
}
CUSTOMER = Caller(username="C-1001", groups=frozenset({"customers"}))
AGENT = Caller(username="A-7", groups=frozenset({"agents"}))


class VirtualClock:
    """The system's time, moved by the test."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class Fakes:
    """The services and direct handles on their fakes."""

    def __init__(self) -> None:
        self.clock = VirtualClock()
        self.slept: list[float] = []
        ids = itertools.count(1)
        self.services: Services = memory_services(clock=self.clock, sleep=self.slept.append,
                                                  new_id=lambda: f"CMP-{next(ids):04d}")
        assert isinstance(self.services.store, MemoryTicketStore)
        assert isinstance(self.services.workflow, MemoryWorkflow)
        assert isinstance(self.services.notifier, MemoryNotifier)
        self.store: MemoryTicketStore = self.services.store
        self.workflow: MemoryWorkflow = self.services.workflow
        self.notifier: MemoryNotifier = self.services.notifier

    # -- driving a complaint the way the state machine does ----------------------------------
    def file(self, **changes: Any) -> str:
        answer = intake.submit(self.services, {**BODY, **changes}, str(changes.get("customer_id", "C-1001")), None)
        return str(answer["body"]["complaint_id"])

    def step(self, action: str, complaint_id: str, **params: Any) -> dict[str, Any]:
        return steps.run(self.services, {"action": action, "complaint_id": complaint_id, **params})

    def triage(self, complaint_id: str) -> dict[str, Any]:
        return self.step("triage", complaint_id, policy=POLICY)

    def wait(self, complaint_id: str, answer: dict[str, Any]) -> str:
        """Enter ``Await`` with the version the last step answered; the token."""
        token = self.workflow.wait(complaint_id)
        self.step("await", complaint_id, version=answer["version"], token=token)
        return token

    def timeline(self, complaint_id: str) -> list[str]:
        found = self.store.get_with_timeline(complaint_id)
        assert found is not None
        return [e.type for e in found[1]]


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture(autouse=True)
def _fresh_idempotency_wrappers() -> None:
    intake.reset()
