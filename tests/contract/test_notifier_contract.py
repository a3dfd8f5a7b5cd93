"""One contract, two notifiers: ``TestMemoryNotifier`` runs against the in-memory notifier and,
subclassed, against SNS and SES on moto (what arrived is read where a person would get it:
an SQS queue subscribed to each topic, the SMS and e-mail outboxes moto keeps)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from chalicelib.adapters.memory import MemoryNotifier
from chalicelib.adapters.notifier import SnsSesNotifier
from chalicelib.adapters.ports import NotificationError, Notifier
from chalicelib.models import Contact
from chalicelib.notifications import CustomerMessage, StaffAlert
from chalicelib.topics import STAFF_TOPICS

SENDER = "no-reply@complaints.example.com"
CID = "CMP-01TEST"


def customer(channel: str, **contact: Any) -> CustomerMessage:
    return CustomerMessage(template="acknowledged", channel=channel,  # type: ignore[arg-type]
                           params={"complaint_id": CID, "team": "logistics", "first_contact_due": "2026-11-22T08:30:00Z"},
                           contact=Contact.model_validate(contact) if contact else None)


ALERT = StaffAlert(topic="team:logistics", template="breach",
                   params={"complaint_id": CID, "level": 1, "severity": "P1", "team": "logistics", "clock": "first_contact",
                           "next_due": "2026-11-22T08:45:00Z"})


class TestMemoryNotifier:
    @pytest.fixture
    def notifier(self) -> Notifier:
        return MemoryNotifier()

    def delivered(self, notifier: Any) -> list[tuple[str, str | None, str]]:
        """(route, address, text) of what reached people, in order."""
        return [(s.route, s.address, s.body) for s in notifier.sent if s.route != "in_app"]

    @pytest.mark.parametrize(("channel", "contact", "route", "address"), [
        ("app", {"phone": "+8613800000000", "push_token": "device-1"}, "push", "device-1"),
        ("app", {"phone": "+8613800000000"}, "sms", "+8613800000000"),
        ("web", {"phone": "+8613800000000", "email": "c@example.com"}, "email", "c@example.com"),
        ("phone", {"email": "c@example.com", "push_token": "device-1"}, "email", "c@example.com"),
    ])
    def test_a_customer_is_told_on_the_first_route_the_channel_prefers(
            self, notifier: Notifier, channel: str, contact: dict[str, str], route: str, address: str) -> None:
        result = notifier.send(customer(channel, locale="en", **contact))
        assert result["route"] == route and result["message_id"]
        ((got_route, got_address, text),) = self.delivered(notifier)
        assert (got_route, got_address) == (route, address)
        assert CID in text and "Logistics team" in text  # in the customer's language

    def test_without_contact_details_the_message_stays_in_the_app(self, notifier: Notifier) -> None:
        assert notifier.send(customer("app")) == {"route": "in_app"}
        assert self.delivered(notifier) == []

    def test_a_staff_alert_goes_to_its_topic(self, notifier: Notifier) -> None:
        result = notifier.send(ALERT)
        assert result["route"] == "sns" and result["topic"] == "team:logistics" and result["message_id"]
        ((route, address, text),) = self.delivered(notifier)
        assert (route, address) == ("sns", "team:logistics") and CID in text and "[L1]" in text

    def test_an_alert_to_an_unknown_topic_fails(self, notifier: Notifier) -> None:
        with pytest.raises(NotificationError, match="team:nobody"):
            notifier.send(ALERT.model_copy(update={"topic": "team:nobody"}))
        assert self.delivered(notifier) == []


class TestSnsSesNotifier(TestMemoryNotifier):
    @pytest.fixture
    def notifier(self, aws: None) -> Notifier:  # type: ignore[override]  # pytest fixture with another dependency
        sns, sqs, ses = boto3.client("sns"), boto3.client("sqs"), boto3.client("ses")
        ses.verify_email_identity(EmailAddress=SENDER)
        self.inboxes: dict[str, str] = {}
        arns: dict[str, str] = {}
        for topic in (*STAFF_TOPICS, "push"):
            arn = sns.create_topic(Name=topic.replace(":", "-"))["TopicArn"]
            url = sqs.create_queue(QueueName=f"inbox-{topic.replace(':', '-')}")["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
            arns[topic], self.inboxes[topic] = arn, url
        self.sqs = sqs
        return SnsSesNotifier(sns, ses, push_topic_arn=arns.pop("push"), staff_topics=arns, email_sender=SENDER)

    def delivered(self, notifier: Any) -> list[tuple[str, str | None, str]]:
        out: list[tuple[str, str | None, str]] = []
        for topic, url in self.inboxes.items():
            for m in self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", []):
                attributes = m.get("MessageAttributes", {})
                if topic == "push":
                    out.append(("push", attributes.get("push_token", {}).get("StringValue"), m["Body"]))
                else:
                    out.append(("sns", topic, m["Body"]))
        region = boto3.session.Session().region_name or "us-east-1"
        out += [("sms", phone, text) for phone, text in sns_backends[DEFAULT_ACCOUNT_ID][region].sms_messages.values()]
        out += [("email", m.destinations["ToAddresses"][0], m.body) for m in ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages]
        return out
