"""SNS/SES implementation of the ``Notifier`` port: customer messages (push via SNS, SMS via
SNS, e-mail via SES) and staff alerts (per-team and per-level SNS topics). Raises on a failed
send: the workflow step sending it tries again and records ``notification_failed`` if it keeps
failing (``chalicelib/outbox.py``). Which route a message takes is decided by the message itself
(:meth:`chalicelib.notifications.CustomerMessage.route`).

A failed send raises :class:`NotificationError` naming the route and AWS's error code, never
AWS's message: SNS quotes the phone number it refuses, and the error travels on into the
function's logs, the workflow's history and the ticket's timeline."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.ports import NotificationError
from chalicelib.notifications import CustomerMessage, StaffAlert
from chalicelib.observability import logger


@contextmanager
def _sending(route: str, template: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        request = exc.response.get("ResponseMetadata", {}).get("RequestId", "")
        logger.warning("send failed", extra={"route": route, "template": template, "error": error.get("Code"),
                                             "aws_request_id": request})
        raise NotificationError(f"{route} send failed: {error.get('Code', 'unknown')} (AWS request {request or 'n/a'})") from None
    except BotoCoreError as exc:  # e.g. a parameter botocore refuses: its message quotes the value
        logger.warning("send failed", extra={"route": route, "template": template, "error": type(exc).__name__})
        raise NotificationError(f"{route} send failed: {type(exc).__name__}") from None


class SnsSesNotifier:
    def __init__(self, sns: Any, ses: Any, *, push_topic_arn: str, staff_topics: dict[str, str], email_sender: str) -> None:
        self.sns, self.ses = sns, ses
        self.push_topic_arn, self.staff_topics, self.email_sender = push_topic_arn, staff_topics, email_sender

    def send(self, message: CustomerMessage | StaffAlert) -> dict[str, Any]:
        if isinstance(message, StaffAlert):
            return self._alert(message)
        return self._tell_customer(message)

    def _alert(self, message: StaffAlert) -> dict[str, Any]:
        arn = self.staff_topics.get(message.topic)
        if not arn:  # a topic the stack does not declare: a configuration error, said once per send
            logger.warning("send failed", extra={"route": "sns", "template": message.template, "topic": message.topic,
                                                 "error": "TopicNotConfigured"})
            raise NotificationError(f"no staff topic configured for {message.topic!r}")
        subject, body = message.rendered()
        attributes = {k: {"DataType": "String", "StringValue": str(message.params[k])}
                      for k in ("team", "severity", "level") if message.params.get(k) is not None}
        with _sending("sns", message.template):
            resp = self.sns.publish(TopicArn=arn, Subject=subject, Message=body, MessageAttributes=attributes)
        return {"route": "sns", "topic": message.topic, "message_id": resp["MessageId"]}

    def _tell_customer(self, message: CustomerMessage) -> dict[str, Any]:
        subject, body = message.rendered()
        route, address = message.route()
        if address is None:  # no contact details: the customer sees it on the timeline in the app
            return {"route": "in_app"}
        with _sending(route, message.template):
            if route == "push":
                resp = self.sns.publish(
                    TopicArn=self.push_topic_arn, Subject=subject, Message=body,
                    MessageAttributes={"push_token": {"DataType": "String", "StringValue": address},
                                       "locale": {"DataType": "String", "StringValue": message.locale}},
                )
            elif route == "sms":
                resp = self.sns.publish(PhoneNumber=address, Message=f"{subject}: {body}")
            else:
                resp = self.ses.send_email(
                    Source=self.email_sender, Destination={"ToAddresses": [address]},
                    Message={"Subject": {"Data": subject, "Charset": "UTF-8"},
                             "Body": {"Text": {"Data": body, "Charset": "UTF-8"}}},
                )
        return {"route": route, "message_id": resp["MessageId"]}
