"""Photos and videos customers attach to a complaint (docs/integration.md): which types and
sizes, where an upload goes, and what an attachment must be before it goes onto a complaint.

Pure domain: the objects themselves are behind the ``AttachmentStore`` port. The bucket
lets a customer upload only through a presigned POST limited to the declared type and size;
moto does not police those conditions (real S3 does), so intake checks every attachment's
stored type and size again (:func:`check_stored`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from chalicelib.clock import iso
from chalicelib.models import Attachment, Strict

MediaType = Literal["image/jpeg", "image/png", "image/webp", "video/mp4"]
MIB = 1024 * 1024
# content type -> (file extension of its key, largest size accepted)
MEDIA: dict[str, tuple[str, int]] = {
    "image/jpeg": ("jpg", 10 * MIB),
    "image/png": ("png", 10 * MIB),
    "image/webp": ("webp", 10 * MIB),
    "video/mp4": ("mp4", 50 * MIB),
}
TYPE_OF_EXTENSION = {ext: content_type for content_type, (ext, _) in MEDIA.items()}
UPLOAD_PREFIX = "uploads/"
UPLOAD_TTL_S = 15 * 60  # a presigned upload form is valid this long
DOWNLOAD_TTL_S = 5 * 60  # a presigned download link in GET /complaints/{id}
MAX_ATTACHMENTS = 3
_KEY = re.compile(r"^uploads/(?P<customer>[^/]{1,200})/(?P<id>[0-9a-f]{32})\.(?P<ext>[a-z0-9]{3,4})$")


class UploadIn(Strict):
    """The body of ``POST /complaints/uploads``."""

    content_type: MediaType
    size: Annotated[int, Field(ge=1, strict=True)]  # bytes the customer is about to upload

    @field_validator("size")
    @classmethod
    def _within_limit(cls, size: int, info: ValidationInfo) -> int:
        content_type = info.data.get("content_type")
        if content_type in MEDIA and size > MEDIA[content_type][1]:
            raise ValueError(f"{content_type} uploads are at most {MEDIA[content_type][1] // MIB} MiB")
        return size


class UploadOut(BaseModel):
    """The answer of ``POST /complaints/uploads``: POST the file to ``url`` as
    ``multipart/form-data`` with every one of ``fields`` and then the file as ``file``."""

    key: str  # what goes into the complaint's ``attachments``
    url: str
    fields: dict[str, str]
    expires_at: str


class AttachmentView(BaseModel):
    """One attachment in ``GET /complaints/{id}`` (staff and the complaint's customer)."""

    key: str
    content_type: str
    size: int
    url: str  # presigned download, valid DOWNLOAD_TTL_S


class AttachmentRejected(Exception):
    """An attachment the complaint cannot have (HTTP 400 naming it)."""

    def __init__(self, index: int, key: str, reason: str) -> None:
        super().__init__(f"attachments.{index}: {reason}")
        self.index, self.key, self.reason = index, key, reason


def upload_key(customer_id: str, upload_id: str, content_type: str) -> str:
    return f"{UPLOAD_PREFIX}{customer_id}/{upload_id}.{MEDIA[content_type][0]}"


def expires_at(now: datetime) -> str:
    return iso(now + timedelta(seconds=UPLOAD_TTL_S))


def claimed_type(index: int, key: str, customer_id: str) -> str:
    """The content type an attachment key stands for, if it is one of the customer's uploads
    (``AttachmentRejected`` otherwise; nothing is read to decide)."""
    match = _KEY.match(key)
    if match is None or match["customer"] != customer_id:
        raise AttachmentRejected(index, key, "not one of your uploads (POST /complaints/uploads first)")
    content_type = TYPE_OF_EXTENSION.get(match["ext"])
    if content_type is None:
        raise AttachmentRejected(index, key, "not one of your uploads (POST /complaints/uploads first)")
    return content_type


def check_stored(index: int, key: str, content_type: str, stored: Attachment | None) -> Attachment:
    """The attachment as stored, if it was uploaded as its key says: type and size."""
    if stored is None:
        raise AttachmentRejected(index, key, "nothing was uploaded under this key (or the upload expired)")
    if stored.content_type != content_type:
        raise AttachmentRejected(index, key, f"uploaded as {stored.content_type or 'no content type'}, "
                                             f"not {content_type}")
    limit = MEDIA[content_type][1]
    if not 0 < stored.size <= limit:
        raise AttachmentRejected(index, key, f"{stored.size} bytes: {content_type} attachments are 1 byte "
                                             f"to {limit // MIB} MiB")
    return stored


def distinct(keys: list[str]) -> None:
    seen: set[str] = set()
    for index, key in enumerate(keys):
        if key in seen:
            raise AttachmentRejected(index, key, "attached twice")
        seen.add(key)


__all__ = ["MAX_ATTACHMENTS", "MEDIA", "Attachment", "AttachmentRejected", "AttachmentView", "MediaType",
           "UploadIn", "UploadOut", "check_stored", "claimed_type", "distinct", "upload_key"]
