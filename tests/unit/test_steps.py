"""The lifecycle function's steps on the in-memory adapters and a virtual clock, driven the way
``state_machines/lifecycle.asl.json`` drives them: what each step writes and what it answers."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError

from chalicelib import actions, notify, steps
from chalicelib.adapters.memory import MemoryTicketStore
from chalicelib.adapters.ports import NotificationError
from chalicelib.models import ContactIn, RatingIn, ResolveIn, Status
from tests.unit.conftest import AGENT, CUSTOMER, POLICY, Fakes


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
    # the workflow waits until the soonest moment: the first-contact clock's at-risk warning
    window = POLICY[ticket.severity]["first_contact_s"]
    assert answer["next"] == "await_agent"
    assert answer["wait_s"] == round(POLICY["escalation"]["at_risk_fraction"] * window)
    assert answer["version"] == ticket.version
    (message,) = answer["notifications"]
    assert message["to"] == "customer" and message["template"] == "acknowledged"
    assert message["channel"] == "app" and message["contact"] == {"locale": "zh-CN", "phone": "+8613800000000"}
    assert ticket.outbox == []  # handed over, not kept
    assert fakes.timeline(cid) == ["triaged", "acknowledged"]


def test_a_retried_triage_changes_nothing(fakes: Fakes) -> None:
    cid = fakes.file()
    first = fakes.triage(cid)
    again = fakes.triage(cid)
    assert again["version"] == first["version"] and again["notifications"] == []
    assert fakes.timeline(cid) == ["triaged", "acknowledged"]


def test_the_profile_sets_tier_and_locale(fakes: Fakes) -> None:
    fakes.store.put_profile("C-2", {"tier": "vip", "locale": "en"})
    cid = fakes.file(customer_id="C-2", contact=None)
    answer = fakes.triage(cid)
    ticket = fakes.store.get_ticket(cid)
    assert ticket is not None and (ticket.tier, ticket.locale) == ("vip", "en")
    assert answer["notifications"][0]["contact"] == {"locale": "en"}


def test_await_registers_the_token_or_resumes_at_once_if_the_ticket_moved(fakes: Fakes) -> None:
    cid = fakes.file()
    answer = fakes.triage(cid)
    token = fakes.workflow.wait(cid)
    assert fakes.step("await", cid, version=answer["version"], token=token) == {"registered": True}
    ticket = fakes.store.get_ticket(cid)
    assert ticket is not None and ticket.wait_token == token
    # an action lands between the wait's version and the next wait
    actions.contact(fakes.services, cid, AGENT, ContactIn())
    late = fakes.workflow.wait(cid)
    assert fakes.step("await", cid, version=answer["version"], token=late) == {"registered": False}
    assert fakes.workflow.resumes[-1] == (late, {"resumed": "changed_before_wait"})


def test_a_clock_that_ran_out_escalates_apologises_and_issues_a_voucher(fakes: Fakes) -> None:
    cid = fakes.file()
    answer = fakes.triage(cid)
    fakes.clock.advance(seconds=answer["wait_s"])
    warned = fakes.step("clock_expired", cid)  # first the at-risk warning to the owning team
    assert [(m["to"], m.get("topic"), m["template"]) for m in warned["notifications"]] == [
        ("staff", "team:logistics", "at_risk")]
    fakes.clock.advance(seconds=warned["wait_s"])
    expired = fakes.step("clock_expired", cid)
    templates = [(m["to"], m.get("topic"), m["template"]) for m in expired["notifications"]]
    assert templates == [("staff", "team:logistics", "breach"), ("customer", None, "apology"),
                         ("customer", None, "voucher")]
    ticket = fakes.store.get_ticket(cid)
    assert ticket is not None and ticket.escalation_level == 1 and len(ticket.vouchers) == 1
    assert expired["next"] == "await_agent" and expired["wait_s"] > 0


def test_a_whole_life_on_a_virtual_clock(fakes: Fakes) -> None:
    """File, triage, contact, resolve, survey, rate 5: closed, with every message sent."""
    cid = fakes.file()
    answer = fakes.triage(cid)
    for message in answer["notifications"]:
        notify.send(fakes.services, {"complaint_id": cid, "message": message})
    fakes.wait(cid, answer)
    fakes.clock.advance(minutes=10)
    actions.contact(fakes.services, cid, AGENT, ContactIn(note="called"))
    answer = fakes.step("resumed", cid)
    assert answer["next"] == "await_agent"
    fakes.wait(cid, answer)
    fakes.clock.advance(hours=2)
    actions.resolve(fakes.services, cid, AGENT, ResolveIn(resolution="refund"))
    answer = fakes.step("resumed", cid)
    assert (answer["next"], answer["wait_s"]) == ("survey_delay", POLICY["follow_up"]["survey_delay_s"])
    for message in answer["notifications"]:
        notify.send(fakes.services, {"complaint_id": cid, "message": message})
    fakes.clock.advance(seconds=answer["wait_s"])
    answer = fakes.step("send_survey", cid)
    assert answer["next"] == "await_survey"
    for message in answer["notifications"]:
        notify.send(fakes.services, {"complaint_id": cid, "message": message})
    fakes.wait(cid, answer)
    actions.rate(fakes.services, cid, CUSTOMER, RatingIn(score=5))
    answer = fakes.step("resumed", cid)
    assert answer["next"] == "closed"
    ticket = fakes.store.get_ticket(cid)
    assert ticket is not None and ticket.status is Status.CLOSED and ticket.vouchers == []
    assert fakes.timeline(cid) == ["triaged", "acknowledged", "contacted", "resolved", "survey_sent", "rated", "closed"]
    sent = [(s.route, s.address, s.message.template) for s in fakes.notifier.sent]
    assert sent == [("sms", "+8613800000000", "acknowledged"), ("sms", "+8613800000000", "resolved"),
                    ("sms", "+8613800000000", "survey")]
    assert cid in fakes.notifier.sent[0].body


def test_failures_are_recorded_on_the_ticket(fakes: Fakes) -> None:
    cid = fakes.file()
    fakes.triage(cid)
    error = {"Error": "NotificationError", "Cause": "no staff topic configured for 'team:nobody'"}
    assert fakes.step("notification_failed", cid, message={"to": "staff", "topic": "team:nobody", "template": "breach"},
                      error=error) == {"recorded": True}
    assert fakes.step("workflow_failed", cid, error={"Error": "States.Runtime", "Cause": "boom"}) == {"recorded": True}
    found = fakes.store.get_with_timeline(cid)
    assert found is not None
    ticket, timeline = found
    assert ticket.failure == "States.Runtime: boom" and ticket.status is Status.AWAITING_CONTACT
    failed = next(e for e in timeline if e.type == "notification_failed")
    assert failed.detail == {"template": "breach", "to": "staff", "topic": "team:nobody", "error": "NotificationError",
                             "cause": "no staff topic configured for 'team:nobody'"}


def test_unknown_steps_complaints_and_malformed_events_fail_loudly(fakes: Fakes) -> None:
    with pytest.raises(ValueError, match="unknown lifecycle step 'teleport'"):
        fakes.step("teleport", "CMP-1")
    with pytest.raises(steps.UnknownComplaint):
        fakes.step("clock_expired", "CMP-NOPE")
    with pytest.raises(ValidationError):
        fakes.step("await", "CMP-1", version="not a number", token="t")
    with pytest.raises(ValidationError):
        fakes.step("resumed", "CMP-1", surprise=True)  # a field the contract does not know


class ThrottledStore(MemoryTicketStore):
    def get_ticket(self, complaint_id: str) -> Any:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetItem")


def test_a_retryable_aws_error_becomes_transient_for_the_asl_retry(fakes: Fakes) -> None:
    throttled = dataclasses.replace(fakes.services, store=ThrottledStore())
    with pytest.raises(steps.TransientError, match="ThrottlingException"):
        steps.run(throttled, {"action": "clock_expired", "complaint_id": "CMP-1"})


def test_a_staff_alert_to_an_unconfigured_topic_fails_the_send(fakes: Fakes) -> None:
    with pytest.raises(NotificationError):
        notify.send(fakes.services, {"complaint_id": "CMP-1",
                                     "message": {"to": "staff", "topic": "team:nobody", "template": "breach", "params": {}}})
    assert fakes.notifier.sent == []
