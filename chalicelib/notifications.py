"""What the lifecycle tells people: a customer message or a staff alert, as typed models.

The rules (``lifecycle.py``) decide them; the ticket keeps them in its outbox until the next
workflow step sends them (``outbox.py``). Which route a customer message takes (push, SMS, e-mail, or only the
in-app timeline) follows from the complaint's channel and the contact details it carries.
Pure: no boto3.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.models import Channel, Contact
from chalicelib.templates import customer_message, staff_message

Route = Literal["push", "sms", "email", "in_app"]

# Which contact route to try first, by the channel the complaint came in on.
CHANNEL_PREFERENCE: dict[str, tuple[Route, ...]] = {
    "app": ("push", "sms", "email"),
    "web": ("email", "sms", "push"),
    "phone": ("sms", "email", "push"),
    "social": ("push", "sms", "email"),
    "offline": ("sms", "email", "push"),
    "marketplace": ("sms", "email", "push"),
}
DEFAULT_LOCALE = "zh-CN"


class CustomerMessage(BaseModel):
    """A message to the complaint's customer. ``channel`` and ``contact`` are added when the
    message is queued on the ticket (``changes.addressed``): sending needs no lookup."""

    model_config = ConfigDict(frozen=True)

    to: Literal["customer"] = "customer"
    template: str
    params: dict[str, Any] = {}
    channel: Channel | None = None
    contact: Contact | None = None

    @property
    def locale(self) -> str:
        return self.contact.locale if self.contact else DEFAULT_LOCALE

    def route(self) -> tuple[Route, str | None]:
        """The first route of the channel's preference the contact details allow, and the
        address on it; ``("in_app", None)`` without any (the timeline shows it)."""
        contact = self.contact
        if contact is not None:
            for route in CHANNEL_PREFERENCE.get(self.channel or "app", CHANNEL_PREFERENCE["app"]):
                address = {"push": contact.push_token, "sms": contact.phone, "email": contact.email}[route]
                if address:
                    return route, address
        return "in_app", None

    def rendered(self) -> tuple[str, str]:
        """(subject, body) in the customer's language."""
        return customer_message(self.template, self.locale, self.params)


class StaffAlert(BaseModel):
    """An alert to a staff topic (``team:<team>`` or ``level:<n>``)."""

    model_config = ConfigDict(frozen=True)

    to: Literal["staff"] = "staff"
    topic: str
    template: str
    params: dict[str, Any] = {}

    def rendered(self) -> tuple[str, str]:
        """(subject, body)."""
        return staff_message(self.template, self.params)


Notification = Annotated[CustomerMessage | StaffAlert, Field(discriminator="to")]


def as_json(message: CustomerMessage | StaffAlert) -> dict[str, Any]:
    """The message as it travels through the workflow (no empty fields)."""
    return message.model_dump(mode="json", exclude_none=True)
