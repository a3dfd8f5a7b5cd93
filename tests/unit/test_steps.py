"""The lifecycle function's steps on the in-memory adapters and a virtual clock, driven the way
``state_machines/lifecycle.asl.json`` drives them: what each step writes and what it answers."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError

from chalicelib import actions, steps
from chalicelib.adapters.memory import MemoryNotifier, MemoryTicketStore
from chalicelib.models import ContactIn, RatingIn, ResolveIn, Status
from chalicelib.notifications import Notification
from tests.unit.conftest import AGENT, CUSTOMER, POLICY, WITHOUT_AT_RISK, Fakes


class FlakyNotifier(MemoryNotifier):
    """Fails every send of the templates in ``failing`` (each attempt counted), and crashes the
    process (a Lambda that dies mid-step) at the send numbered ``crash_at``."""

    def __init__(self, failing: frozenset[str] = frozenset(), crash_at: int | None = None) -> None:
        super().__init__()
        self.failing, self.crash_at, self.attempts = failing, crash_at, 0

    def send(self, message: Notification) -> dict[str, Any]:
        self.attempts += 1
        if self.attempts == self.crash_at:
            raise LambdaDied
        if message.template in self.failing:
            raise ClientError({"Error": {"Code": "InvalidParameterValue", "Message": "Invalid parameter: To\n"
                                         "Traceback (most recent call last): ..."}}, "Publish")
        return super().send(message)


class LambdaDied(BaseException):
    """The function's process ended mid-step (a timeout, out of memory)."""


def sent(fakes: Fakes) -> list[str]:
    return [s.message.template for s in fakes.notifier.sent]


def test_triage_classifies_starts_the_clocks_and_acknowledges(fakes: Fakes) -> None:
    cid = fakes.file()
    answer = fakes.triage(cid)
    ticket = fakes.store.get_ticket(cid)
    assert ticket is not None and ticket.status is Status.AWAITING_CONTACT
    assert ticket.severity in POLICY and ticket.team == "logistics"
    due = ticket.clocks["first_contact"].due
    assert due == fakes.clock.now + timedelta(seconds=POLICY[ticket.severity]["first_contact_s"])
    # the whole policy is kept on the ticket (running complaints keep theirs)
    assert ticket.policy is not None and ticket.policy.severity(ticket.severity).first_contact_s == \
        POLICY[ticket.severity]["first_contact_s"]
    # the workflow waits until the soonest moment: the first-contact clock's at-risk warning;
    # the step sent the acknowledgement itself
    window = POLICY[ticket.severity]["first_contact_s"]
    assert answer == {"next": "await_agent", "wait_s": round(POLICY["escalation"]["at_risk_fraction"] * window),
                      "version": ticket.version}
    (message,) = fakes.notifier.sent
    assert (message.route, message.address, message.message.template) == ("sms", "+8613800000000", "acknowledged")
    assert ticket.outbox == []  # sent, then taken off
    assert fakes.timeline(cid) == ["triaged", "acknowledged"]


def test_a_retried_triage_changes_nothing_and_sends_nothing_twice(fakes: Fakes) -> None:
    cid = fakes.file()
    first = fakes.triage(cid)
    again = fakes.triage(cid)
    assert again == first
    assert sent(fakes) == ["acknowledged"]
    assert fakes.timeline(cid) == ["triaged", "acknowledged"]


def test_the_profile_sets_tier_and_locale(fakes: Fakes) -> None:
    fakes.store.put_profile("C-2", {"tier": "vip", "locale": "en"})
    cid = fakes.file(customer_id="C-2", contact=None)
    fakes.triage(cid)
    ticket = fakes.store.get_ticket(cid)
    assert ticket is not None and (ticket.tier, ticket.locale) == ("vip", "en")
    (message,) = fakes.notifier.sent
    assert message.route == "in_app" and message.message.locale == "en"


def test_await_registers_the_token_or_resumes_at_once_with_a_fresh_plan_if_the_ticket_moved(fakes: Fakes) -> None:
    cid = fakes.file()
    answer = fakes.triage(cid)
    token = fakes.workflow.wait(cid)
    assert fakes.step("await", cid, version=answer["version"], token=token) == {"outcome": "waiting", "sent": 0,
                                                                                "failed": 0}
    ticket = fakes.store.get_ticket(cid)
    assert ticket is not None and ticket.wait_token == token
    # an action lands between the plan's version and the next wait
    actions.contact(fakes.services, cid, AGENT, ContactIn())
    late = fakes.workflow.wait(cid)
    assert fakes.step("await", cid, version=answer["version"], token=late)["outcome"] == "resumed"
    ticket = fakes.store.get_ticket(cid)
    assert ticket is not None and ticket.wait_token is None
    at_risk = ticket.clocks["resolution"].at_risk_at  # the soonest moment left: the resolution clock's warning
    assert at_risk is not None
    assert fakes.workflow.resumes[-1] == (late, {"next": "await_agent", "version": ticket.version,
                                                 "wait_s": int((at_risk - fakes.clock.now).total_seconds())})


def test_an_action_resumes_the_wait_with_the_next_plan_and_the_next_wait_sends_what_it_queued(fakes: Fakes) -> None:
    cid = fakes.file()
    token = fakes.wait(cid, fakes.triage(cid))
    fakes.clock.advance(minutes=10)
    actions.resolve(fakes.services, cid, AGENT, ResolveIn(resolution="refund"))
    ((resumed, plan),) = fakes.workflow.resumes
    assert resumed == token
    assert plan["next"] == "survey_delay" and plan["wait_s"] == POLICY["follow_up"]["survey_delay_s"]
    assert sent(fakes) == ["acknowledged"]  # the action queued its message ...
    nxt = fakes.workflow.wait(cid)
    assert fakes.step("await", cid, version=plan["version"], token=nxt) == {"outcome": "waiting", "sent": 1, "failed": 0}
    assert sent(fakes) == ["acknowledged", "resolved"]  # ... the next wait sent it
    ticket = fakes.store.get_ticket(cid)
    assert ticket is not None and ticket.outbox == [] and ticket.wait_token == nxt


def test_a_closed_complaint_ends_its_wait_with_complaint_closed_after_sending_what_is_left(fakes: Fakes) -> None:
    cid = fakes.file()
    fakes.wait(cid, fakes.triage(cid))
    actions.resolve(fakes.services, cid, AGENT, ResolveIn(resolution="refund"))
    fakes.clock.advance(seconds=POLICY["follow_up"]["survey_delay_s"])
    fakes.step("timeout", cid)  # the survey
    token = fakes.workflow.wait(cid)
    fakes.step("await", cid, version=fakes.store.get_ticket(cid).version, token=token)  # type: ignore[union-attr]
    actions.rate(fakes.services, cid, CUSTOMER, RatingIn(score=5))
    plan = fakes.workflow.resumes[-1][1]
    assert plan["next"] == "closed"
    last = fakes.workflow.wait(cid)
    assert fakes.step("await", cid, version=plan["version"], token=last) == {"outcome": "closed", "sent": 1, "failed": 0}
    assert fakes.workflow.failures == [(last, "ComplaintClosed")]  # a task failure the ASL catches, no Lambda error
    assert sent(fakes)[-1] == "closed"


def test_a_clock_that_ran_out_escalates_apologises_and_issues_a_voucher(fakes: Fakes) -> None:
    cid = fakes.file()
    answer = fakes.triage(cid)
    fakes.wait(cid, answer)
    fakes.clock.advance(seconds=answer["wait_s"])
    warned = fakes.step("timeout", cid)  # first the at-risk warning to the owning team
    assert [(s.message.to, getattr(s.message, "topic", None), s.message.template) for s in fakes.notifier.sent[1:]] == [
        ("staff", "team:logistics", "at_risk")]
    fakes.clock.advance(seconds=warned["wait_s"])
    expired = fakes.step("timeout", cid)
    sent_now = [(s.message.to, getattr(s.message, "topic", None), s.message.template) for s in fakes.notifier.sent[2:]]
    assert sent_now == [("staff", "team:logistics", "breach"), ("customer", None, "apology"),
                        ("customer", None, "voucher")]
    ticket = fakes.store.get_ticket(cid)
    assert ticket is not None and ticket.escalation_level == 1 and len(ticket.vouchers) == 1 and ticket.outbox == []
    assert ticket.wait_token is None  # the wait that ended is no longer on the ticket
    assert expired["next"] == "await_agent" and expired["wait_s"] > 0 and expired["version"] == ticket.version


def test_a_timer_that_lost_the_race_to_an_action_finds_the_action_on_the_ticket(fakes: Fakes) -> None:
    cid = fakes.file()
    answer = fakes.triage(cid)
    token = fakes.wait(cid, answer)
    fakes.clock.advance(seconds=answer["wait_s"])
    fakes.workflow.time_out(token)  # the timer fired just before the agent's click
    actions.contact(fakes.services, cid, AGENT, ContactIn())
    plan = fakes.step("timeout", cid)
    ticket = fakes.store.get_ticket(cid)
    assert ticket is not None and ticket.status is Status.IN_PROGRESS and ticket.escalation_level == 0
    assert plan["next"] == "await_agent" and plan["version"] == ticket.version
    assert fakes.timeline(cid) == ["triaged", "acknowledged", "contacted"]


def test_a_whole_life_on_a_virtual_clock(fakes: Fakes) -> None:
    """File, triage, contact, resolve, survey, rate 5: closed, with every message sent."""
    cid = fakes.file()
    answer = fakes.triage(cid)
    fakes.wait(cid, answer)
    fakes.clock.advance(minutes=10)
    actions.contact(fakes.services, cid, AGENT, ContactIn(note="called"))
    answer = fakes.workflow.resumes[-1][1]
    assert answer["next"] == "await_agent"
    fakes.wait(cid, answer)
    fakes.clock.advance(hours=2)
    actions.resolve(fakes.services, cid, AGENT, ResolveIn(resolution="refund"))
    answer = fakes.workflow.resumes[-1][1]
    assert (answer["next"], answer["wait_s"]) == ("survey_delay", POLICY["follow_up"]["survey_delay_s"])
    fakes.wait(cid, answer)
    fakes.clock.advance(seconds=answer["wait_s"])
    answer = fakes.step("timeout", cid)
    assert answer["next"] == "await_survey"
    fakes.wait(cid, answer)
    actions.rate(fakes.services, cid, CUSTOMER, RatingIn(score=5))
    answer = fakes.workflow.resumes[-1][1]
    assert answer["next"] == "closed"
    assert fakes.step("await", cid, version=answer["version"], token=fakes.workflow.wait(cid))["outcome"] == "closed"
    ticket = fakes.store.get_ticket(cid)
    assert ticket is not None and ticket.status is Status.CLOSED and ticket.vouchers == [] and ticket.outbox == []
    assert fakes.timeline(cid) == ["triaged", "acknowledged", "contacted", "resolved", "survey_sent", "rated", "closed"]
    routed = [(s.route, s.address, s.message.template) for s in fakes.notifier.sent]
    assert routed == [("sms", "+8613800000000", "acknowledged"), ("sms", "+8613800000000", "resolved"),
                      ("sms", "+8613800000000", "survey"), ("sms", "+8613800000000", "closed")]
    assert cid in fakes.notifier.sent[0].body


def test_a_message_that_keeps_failing_is_recorded_and_the_step_goes_on(fakes: Fakes) -> None:
    flaky = FlakyNotifier(failing=frozenset({"apology"}))
    services = dataclasses.replace(fakes.services, notifier=flaky)
    cid = fakes.file()
    answer = steps.run(services, {"action": "triage", "complaint_id": cid, "policy": WITHOUT_AT_RISK})
    fakes.clock.advance(seconds=answer["wait_s"])  # to the breach
    plan = steps.run(services, {"action": "timeout", "complaint_id": cid})
    assert plan["next"] == "await_agent"  # the workflow goes on
    # the apology was tried three times with a short back-off; the messages after it went out
    assert [s.message.template for s in flaky.sent] == ["acknowledged", "breach", "voucher"]
    assert flaky.attempts == 6 and fakes.slept == [0.2, 0.4]
    found = fakes.store.get_with_timeline(cid)
    assert found is not None
    ticket, timeline = found
    assert ticket.outbox == []
    (failed,) = [e for e in timeline if e.type == "notification_failed"]
    assert failed.detail == {"template": "apology", "to": "customer", "error": "ClientError",
                             "cause": "An error occurred (InvalidParameterValue) when calling the Publish operation: "
                                      "Invalid parameter: To"}  # the first line only: never a traceback


def test_a_step_that_crashed_half_way_through_its_outbox_sends_only_what_is_left_when_retried(fakes: Fakes) -> None:
    cid = fakes.file()
    answer = fakes.step("triage", cid, policy=WITHOUT_AT_RISK)
    fakes.clock.advance(seconds=answer["wait_s"])  # to the breach
    dying = FlakyNotifier(crash_at=2)  # breach sent, the process dies sending the apology
    with pytest.raises(LambdaDied):
        steps.run(dataclasses.replace(fakes.services, notifier=dying), {"action": "timeout", "complaint_id": cid})
    assert [s.message.template for s in dying.sent] == ["breach"]
    ticket = fakes.store.get_ticket(cid)
    assert ticket is not None and [m.template for m in ticket.outbox] == ["apology", "voucher"]
    # the state machine's Retry runs the step again: the ladder does not climb twice
    fakes.step("timeout", cid)
    assert sent(fakes) == ["acknowledged", "apology", "voucher"]
    assert fakes.timeline(cid) == ["triaged", "acknowledged", "escalated", "voucher_issued"]


def test_a_failed_workflow_is_recorded_on_the_ticket(fakes: Fakes) -> None:
    cid = fakes.file()
    fakes.triage(cid)
    assert fakes.step("workflow_failed", cid, error={"Error": "States.Runtime", "Cause": "boom"}) == {"recorded": True}
    found = fakes.store.get_with_timeline(cid)
    assert found is not None
    ticket, timeline = found
    assert ticket.failure == "States.Runtime: boom" and ticket.status is Status.AWAITING_CONTACT
    assert timeline[-1].type == "workflow_failed"


LAMBDA_CAUSE = json.dumps({
    "errorMessage": "An error occurred (ValidationException) when calling the TransactWriteItems operation: "
                    "item too large",
    "errorType": "ClientError", "requestId": "5f0c",
    "stackTrace": ['  File "/var/task/app.py", line 158, in lifecycle_step\n    return steps.run(services(), event)\n',
                   '  File "/var/task/chalicelib/adapters/store.py", line 131, in save\n'],
})


@pytest.mark.parametrize(("error", "failure"), [
    ({"Error": "ClientError", "Cause": LAMBDA_CAUSE},
     "ClientError: An error occurred (ValidationException) when calling the TransactWriteItems operation: item too large"),
    ({"Error": "Lambda.Unknown", "Cause": "Traceback (most recent call last):\n  File \"/var/task/x.py\", line 1\n"
                                          "KeyError: 'complaint_id'"}, "Lambda.Unknown: KeyError: 'complaint_id'"),
    ({"Error": "PolicyError", "Cause": "invalid policy (1 problem):\n  levels[1]: got 1.5"},
     "PolicyError: invalid policy (1 problem): levels[1]: got 1.5"),
    ({"Error": "States.Timeout", "Cause": ""}, "States.Timeout"),
    ({"Error": "States.Runtime", "Cause": "x" * 5000}, "States.Runtime: " + "x" * 199 + "…"),
])
def test_a_failure_keeps_the_error_class_and_a_short_message_never_a_stack_trace(
        fakes: Fakes, error: dict[str, str], failure: str) -> None:
    cid = fakes.file()
    fakes.triage(cid)
    fakes.step("workflow_failed", cid, error=error)
    found = fakes.store.get_with_timeline(cid)
    assert found is not None
    ticket, timeline = found
    assert ticket.failure == failure
    recorded = json.dumps([e.model_dump(mode="json") for e in timeline])
    assert "stackTrace" not in recorded and "/var/task" not in recorded and "line 158" not in recorded


def test_unknown_steps_complaints_and_malformed_events_fail_loudly(fakes: Fakes) -> None:
    with pytest.raises(ValueError, match="unknown lifecycle step 'teleport'"):
        fakes.step("teleport", "CMP-1")
    with pytest.raises(steps.UnknownComplaint):
        fakes.step("timeout", "CMP-NOPE")
    with pytest.raises(steps.UnknownComplaint):
        fakes.step("await", "CMP-NOPE", version=1, token="t")
    with pytest.raises(ValidationError):
        fakes.step("await", "CMP-1", version="not a number", token="t")
    with pytest.raises(ValidationError):
        fakes.step("timeout", "CMP-1", surprise=True)  # a field the contract does not know


class ThrottledStore(MemoryTicketStore):
    def get_ticket(self, complaint_id: str) -> Any:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetItem")


def test_a_retryable_aws_error_becomes_transient_for_the_asl_retry(fakes: Fakes) -> None:
    throttled = dataclasses.replace(fakes.services, store=ThrottledStore())
    with pytest.raises(steps.TransientError, match="ThrottlingException"):
        steps.run(throttled, {"action": "timeout", "complaint_id": "CMP-1"})
