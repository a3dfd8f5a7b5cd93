"""Sends customer messages (push via SNS, SMS via SNS, email via SES) and staff alerts
(per-team and per-level SNS topics). Raises on a failed send: the state machine retries
the send and records ``notification_failed`` if it keeps failing.

A failed send raises :class:`NotificationError` naming the route and AWS's error code, never
AWS's message: SNS quotes the phone number it refuses, and the error travels on into the
function's logs, the workflow's history and the ticket's timeline."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.observability import logger
from chalicelib.templates import customer_message, staff_message

# Which contact route to try first, by the channel the complaint came in on.
CHANNEL_PREFERENCE = {
    "app": ("push", "sms", "email"),
    "web": ("email", "sms", "push"),
    "phone": ("sms", "email", "push"),
    "social": ("push", "sms", "email"),
    "offline": ("sms", "email", "push"),
    "marketplace": ("sms", "email", "push"),
}


class NotificationError(Exception):
    """A message could not be sent (the workflow's Retry/Catch handle it)."""


@contextmanager
def _sending(route: str, template: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        request = exc.response.get("ResponseMetadata", {}).get("RequestId", "")
        logger.warning("send failed", extra={"route": route, "template": template, "error": error.get("Code"), "aws_request_id": request})
        raise NotificationError(f"{route} send failed: {error.get('Code', 'unknown')} (AWS request {request or 'n/a'})") from None
    except BotoCoreError as exc:  # e.g. a parameter botocore refuses: its message quotes the value
        logger.warning("send failed", extra={"route": route, "template": template, "error": type(exc).__name__})
        raise NotificationError(f"{route} send failed: {type(exc).__name__}") from None


class Notifier:
    def __init__(self, sns: Any, ses: Any, *, push_topic_arn: str, staff_topics: dict[str, str], email_sender: str) -> None:
        self.sns, self.ses = sns, ses
        self.push_topic_arn, self.staff_topics, self.email_sender = push_topic_arn, staff_topics, email_sender

    def send(self, message: dict[str, Any]) -> dict[str, Any]:
        if message.get("to") == "staff":
            return self._alert(message)
        return self._tell_customer(message)

    def _alert(self, message: dict[str, Any]) -> dict[str, Any]:
        topic = message["topic"]
        arn = self.staff_topics.get(topic)
        if not arn:
            raise NotificationError(f"no staff topic configured for {topic!r}")
        params = message.get("params", {})
        subject, body = staff_message(message["template"], params)
        attributes = {k: {"DataType": "String", "StringValue": str(params[k])}
                      for k in ("team", "severity", "level") if params.get(k) is not None}
        with _sending("sns", message["template"]):
            resp = self.sns.publish(TopicArn=arn, Subject=subject, Message=body, MessageAttributes=attributes)
        return {"route": "sns", "topic": topic, "message_id": resp["MessageId"]}

    def _tell_customer(self, message: dict[str, Any]) -> dict[str, Any]:
        contact = message.get("contact") or {}
        locale = contact.get("locale") or message.get("locale") or "zh-CN"
        subject, body = customer_message(message["template"], locale, message.get("params", {}))
        for route in CHANNEL_PREFERENCE.get(message.get("channel", "app"), CHANNEL_PREFERENCE["app"]):
            if route == "push" and contact.get("push_token"):
                with _sending(route, message["template"]):
                    resp = self.sns.publish(
                        TopicArn=self.push_topic_arn, Subject=subject, Message=body,
                        MessageAttributes={"push_token": {"DataType": "String", "StringValue": contact["push_token"]},
                                           "locale": {"DataType": "String", "StringValue": locale}},
                    )
                return {"route": "push", "message_id": resp["MessageId"]}
            if route == "sms" and contact.get("phone"):
                with _sending(route, message["template"]):
                    resp = self.sns.publish(PhoneNumber=contact["phone"], Message=f"{subject}: {body}")
                return {"route": "sms", "message_id": resp["MessageId"]}
            if route == "email" and contact.get("email"):
                with _sending(route, message["template"]):
                    resp = self.ses.send_email(
                        Source=self.email_sender, Destination={"ToAddresses": [contact["email"]]},
                        Message={"Subject": {"Data": subject, "Charset": "UTF-8"},
                                 "Body": {"Text": {"Data": body, "Charset": "UTF-8"}}},
                    )
                return {"route": "email", "message_id": resp["MessageId"]}
        # No contact details: the customer sees it on the complaint's timeline in the app.
        return {"route": "in_app"}
