"""Uploads on the in-memory adapters: the form a customer gets, and what an attachment must
be before a complaint may carry it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import ValidationError

from chalicelib import attachments, intake, queries
from chalicelib.adapters.memory import MemoryAttachments
from chalicelib.uploads import MIB, AttachmentRejected, UploadIn
from tests.unit.conftest import AGENT, BODY, CUSTOMER, Fakes

JPEG = b"\xff\xd8\xff\xe0" + bytes(2000)


def store(fakes: Fakes) -> MemoryAttachments:
    found = fakes.services.attachments
    assert isinstance(found, MemoryAttachments)
    return found


def uploaded(fakes: Fakes, content_type: str = "image/jpeg", body: bytes = JPEG, customer: str = "C-1001",
             stored_as: str | None = None, announced: int | None = None) -> str:
    caller = CUSTOMER.model_copy(update={"username": customer})
    form = attachments.new_upload(fakes.services, caller, UploadIn(content_type=content_type,
                                                                   size=announced or len(body)))
    store(fakes).upload(form.key, stored_as or content_type, body)
    return form.key


def test_the_form_is_for_one_key_of_the_caller_of_that_type_and_size_for_15_minutes(fakes: Fakes) -> None:
    form = attachments.new_upload(fakes.services, CUSTOMER, UploadIn(content_type="image/png", size=1234))
    assert form.key.startswith("uploads/C-1001/") and form.key.endswith(".png")
    assert form.expires_at == "2026-11-22T08:15:00Z" and form.url == MemoryAttachments.URL
    assert store(fakes).forms[form.key] == {"content_type": "image/png", "max_size": 1234, "expires_s": 900}
    other = attachments.new_upload(fakes.services, CUSTOMER, UploadIn(content_type="image/png", size=1234))
    assert other.key != form.key


@pytest.mark.parametrize(("body", "field"), [
    ({"content_type": "image/gif", "size": 10}, "content_type"),
    ({"content_type": "image/jpeg", "size": 10 * MIB + 1}, "size"),
    ({"content_type": "video/mp4", "size": 50 * MIB + 1}, "size"),
    ({"content_type": "image/jpeg", "size": 0}, "size"),
    ({"content_type": "image/jpeg", "size": "12"}, "size"),
])
def test_other_types_and_sizes_are_refused(body: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        UploadIn.model_validate(body)
    assert [e["loc"][0] for e in exc.value.errors()] == [field]


def test_an_attached_upload_is_on_the_complaint_with_a_download_link(fakes: Fakes) -> None:
    key = uploaded(fakes)
    cid = fakes.file(attachments=[key])
    ticket = fakes.store.get_ticket(cid)
    assert ticket is not None and [a.model_dump() for a in ticket.attachments] == [
        {"key": key, "content_type": "image/jpeg", "size": len(JPEG)}]
    for caller in (AGENT, CUSTOMER):
        view = queries.complaint(fakes.services, cid, caller)
        assert view["attachments"] == [{"key": key, "content_type": "image/jpeg", "size": len(JPEG),
                                        "url": f"{MemoryAttachments.URL}/{key}?expires=300"}]


@pytest.mark.parametrize(("make", "reason"), [
    (lambda f: uploaded(f, customer="C-2002"), "not one of your uploads"),
    (lambda f: "uploads/C-1001/0123456789abcdef0123456789abcdef.jpg", "nothing was uploaded"),
    (lambda f: uploaded(f, "image/png", stored_as="image/jpeg"), "uploaded as image/jpeg, not image/png"),
    (lambda f: uploaded(f, body=bytes(10 * MIB + 1), announced=100), "1 byte to 10 MiB"),
    (lambda f: "https://evil.example/x.jpg", "not one of your uploads"),
    (lambda f: "uploads/C-1001/0123456789abcdef0123456789abcdef.exe", "not one of your uploads"),
])
def test_an_attachment_that_is_not_a_good_upload_of_the_caller_is_refused_by_name(
        fakes: Fakes, make: Callable[[Fakes], str], reason: str) -> None:
    good = uploaded(fakes)
    bad = make(fakes)
    with pytest.raises(AttachmentRejected) as exc:
        intake.submit(fakes.services, {**BODY, "attachments": [good, bad]}, "C-1001", None)
    assert exc.value.index == 1 and exc.value.key == bad and reason in exc.value.reason
    assert fakes.store.by_customer("C-1001", 10, None) == ([], None) and fakes.workflow.starts == []


def test_the_same_upload_twice_is_refused(fakes: Fakes) -> None:
    key = uploaded(fakes)
    with pytest.raises(AttachmentRejected, match="attached twice"):
        intake.submit(fakes.services, {**BODY, "attachments": [key, key]}, "C-1001", None)


def test_keep_marks_only_the_attached_uploads(fakes: Fakes) -> None:
    kept, left = uploaded(fakes), uploaded(fakes)
    store(fakes).keep([kept, "uploads/C-1001/gone.jpg"], "CMP-1")
    assert store(fakes).objects[kept].tags == {"state": "attached", "complaint": "CMP-1"}
    assert store(fakes).objects[left].tags == {"state": "unattached"}
