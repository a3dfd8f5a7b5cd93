"""What the code writes about an error into a log line, and what a failed send raises."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from pydantic import BaseModel, Field, ValidationError

from chalicelib.adapters.notifier import SnsSesNotifier
from chalicelib.adapters.ports import NotificationError
from chalicelib.models import Contact as CustomerContact
from chalicelib.notifications import CustomerMessage
from chalicelib.observability import error_fields

PHONE = "+8613912345678"
EMAIL = "li.lei.private@example.com"


class Contact(BaseModel):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def test_a_validation_error_is_logged_by_field_never_by_value() -> None:
    with pytest.raises(ValidationError) as raised:
        Contact.model_validate({"email": f"{EMAIL} (work)"})
    assert EMAIL in str(raised.value)  # what pydantic's message would have put into the log
    fields = error_fields(raised.value)
    assert fields == {"error": "ValidationError", "invalid": ["email: string_pattern_mismatch"]}
    assert error_fields(KeyError(EMAIL)) == {"error": "KeyError"}


def _notifier() -> tuple[SnsSesNotifier, Stubber]:
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name="us-east-1")
    sns, ses = session.client("sns"), session.client("ses")
    return SnsSesNotifier(sns, ses, push_topic_arn="arn:aws:sns:us-east-1:1:push", staff_topics={},
                    email_sender="no-reply@example.com"), Stubber(sns)


def test_a_refused_sms_raises_the_error_code_not_the_number() -> None:
    notifier, stub = _notifier()
    stub.add_client_error("publish", service_error_code="InvalidParameter", http_status_code=400,
                          service_message=f"Invalid parameter: PhoneNumber Reason: {PHONE} is not valid")
    message = CustomerMessage(template="acknowledged", channel="phone", contact=CustomerContact(phone=PHONE))
    with stub, pytest.raises(NotificationError) as raised:
        notifier.send(message)
    assert "sms send failed: InvalidParameter" in str(raised.value)
    assert PHONE not in str(raised.value) and raised.value.__suppress_context__


def test_a_parameter_botocore_refuses_raises_without_its_value() -> None:
    notifier, _ = _notifier()  # no stub: botocore refuses the parameter before any request is made
    # a value the models would refuse, forced past them: botocore's own check must not quote it
    contact = CustomerContact.model_construct(phone=8613912345678)
    message = CustomerMessage.model_construct(template="acknowledged", channel="phone", contact=contact, params={})
    with pytest.raises(NotificationError) as raised:
        notifier.send(message)
    assert str(raised.value) == "sms send failed: ParamValidationError"
