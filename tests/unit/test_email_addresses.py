"""E-mail addresses: the API accepts what SES can send to and refuses the rest with a reason
(an address SES refuses at send time would fail every message to that customer)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.intake import submit
from chalicelib.models import STORED, ComplaintIn, Contact
from tests.unit.conftest import BODY, Fakes

ACCEPTED = ["c7@example.com", "a.b+tag@sub.example.co", "o'neil@x.io", "x@xn--fsq.com", "_@a-b.cn",
            "UPPER.case@EXAMPLE.COM", "a!#$%&*/=?^`{|}~-@x.cn", "1@2.cn"]
REFUSED = {
    "<script>@x.y": "before @", "a..b@x.com": "before @", ".a@x.com": "before @", "a.@x.com": "before @",
    '"quoted"@x.com': "before @", "a b@x.com": "before @", "a(b)@x.com": "before @", "a,b@x.com": "before @",
    "a\\b@x.com": "before @", "a@b": "after @", "a@-x.com": "after @", "a@x-.com": "after @", "a@x..com": "after @",
    "a@[1.2.3.4]": "after @", "a@x.123": "after @", "a@x_y.com": "after @", "用户@例子.cn": "ASCII",
    "user@例子.cn": "ASCII", "@x.com": "local-part@domain", "a@": "local-part@domain", "plain": "local-part@domain",
    "x" * 65 + "@x.com": "too long", "a@" + "b" * 250 + ".com": "too long",
}


@pytest.mark.parametrize("address", ACCEPTED)
def test_addresses_ses_sends_to_are_accepted(address: str) -> None:
    assert Contact(email=address).email == address


@pytest.mark.parametrize(("address", "why"), REFUSED.items())
def test_addresses_ses_refuses_are_refused_with_the_reason(address: str, why: str) -> None:
    with pytest.raises(ValidationError) as raised:
        ComplaintIn.model_validate({**BODY, "contact": {"email": address}})
    (error,) = raised.value.errors()
    assert error["loc"] == ("contact", "email") and why in error["msg"]


def test_a_refused_address_files_nothing(fakes: Fakes) -> None:
    with pytest.raises(ValidationError):
        submit(fakes.services, {**BODY, "contact": {"email": "<script>@x.y"}}, "C-1001", None)
    assert fakes.store.by_customer("C-1001", 10, None)[0] == []


def test_a_stored_ticket_keeps_the_address_it_was_accepted_with() -> None:
    assert Contact.model_validate({"email": "<script>@x.y"}, context=STORED).email == "<script>@x.y"
