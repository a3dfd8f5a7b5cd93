"""Sends customer messages (push via SNS, SMS via SNS, email via SES) and staff alerts
(per-team and per-level SNS topics). Raises on a failed send: the state machine retries
the send and records ``notification_failed`` if it keeps failing."""

from __future__ import annotations

from typing import Any

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
        resp = self.sns.publish(TopicArn=arn, Subject=subject, Message=body, MessageAttributes=attributes)
        return {"route": "sns", "topic": topic, "message_id": resp["MessageId"]}

    def _tell_customer(self, message: dict[str, Any]) -> dict[str, Any]:
        contact = message.get("contact") or {}
        locale = contact.get("locale") or message.get("locale") or "zh-CN"
        subject, body = customer_message(message["template"], locale, message.get("params", {}))
        for route in CHANNEL_PREFERENCE.get(message.get("channel", "app"), CHANNEL_PREFERENCE["app"]):
            if route == "push" and contact.get("push_token"):
                resp = self.sns.publish(
                    TopicArn=self.push_topic_arn, Subject=subject, Message=body,
                    MessageAttributes={"push_token": {"DataType": "String", "StringValue": contact["push_token"]},
                                       "locale": {"DataType": "String", "StringValue": locale}},
                )
                return {"route": "push", "message_id": resp["MessageId"]}
            if route == "sms" and contact.get("phone"):
                resp = self.sns.publish(PhoneNumber=contact["phone"], Message=f"{subject}: {body}")
                return {"route": "sms", "message_id": resp["MessageId"]}
            if route == "email" and contact.get("email"):
                resp = self.ses.send_email(
                    Source=self.email_sender, Destination={"ToAddresses": [contact["email"]]},
                    Message={"Subject": {"Data": subject, "Charset": "UTF-8"},
                             "Body": {"Text": {"Data": body, "Charset": "UTF-8"}}},
                )
                return {"route": "email", "message_id": resp["MessageId"]}
        # No contact details: the customer sees it on the complaint's timeline in the app.
        return {"route": "in_app"}
