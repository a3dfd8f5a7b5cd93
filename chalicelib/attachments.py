"""Photos and videos of a complaint, the service side (the rules: :mod:`chalicelib.uploads`):
hand out an upload form, check a complaint's attachments before it is stored, and show them
with short-lived download links."""

from __future__ import annotations

import uuid
from typing import Any

from chalicelib.models import Attachment, Caller
from chalicelib.services import Services
from chalicelib.ticket import Ticket
from chalicelib.uploads import (
    DOWNLOAD_TTL_S,
    MEDIA,
    UPLOAD_TTL_S,
    AttachmentView,
    UploadIn,
    UploadOut,
    check_stored,
    claimed_type,
    distinct,
    expires_at,
    upload_key,
)


def new_upload(services: Services, caller: Caller, upload: UploadIn) -> UploadOut:
    """A presigned POST for one file of the caller (no call is made: the form is signed here)."""
    key = upload_key(caller.username, uuid.uuid4().hex, upload.content_type)
    limit = min(upload.size, MEDIA[upload.content_type][1])  # at most what was announced
    url, fields = services.attachments.upload_form(key, upload.content_type, limit, UPLOAD_TTL_S)
    return UploadOut(key=key, url=url, fields=fields, expires_at=expires_at(services.clock()))


def checked(services: Services, customer_id: str, keys: list[str]) -> list[Attachment]:
    """The complaint's attachments as stored, each one the customer's own upload of an
    allowed type and size (``AttachmentRejected`` naming the first that is not). Nothing is
    read for a key that is not the customer's."""
    distinct(keys)
    types = [claimed_type(index, key, customer_id) for index, key in enumerate(keys)]
    return [check_stored(index, key, content_type, services.attachments.stat(key))
            for index, (key, content_type) in enumerate(zip(keys, types, strict=True))]


def views(services: Services, ticket: Ticket) -> list[dict[str, Any]]:
    """``attachments`` of ``GET /complaints/{id}`` (staff and the complaint's customer)."""
    return [AttachmentView(key=a.key, content_type=a.content_type, size=a.size,
                           url=services.attachments.download_url(a.key, DOWNLOAD_TTL_S)).model_dump()
            for a in ticket.attachments]
