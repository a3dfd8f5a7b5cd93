"""S3 implementation of the ``AttachmentStore`` port: the uploads bucket
(``complaints-<stage>-uploads-<account>-<region>``, private, encrypted, TLS only: see
``infra/resources.py``).

An upload is a presigned POST whose policy pins the key, the content type, the size range
and the object's tag ``state=unattached``; the bucket's lifecycle rule expires objects under
``uploads/`` that still carry that tag after 7 days. :meth:`S3AttachmentStore.keep` retags an
attached upload ``state=attached`` (with its complaint id), which no rule expires: it stays
as long as the complaint. Presigning makes no call: the URLs are signed with the presigning
client, whose endpoint is the one the customer's app reaches (``UPLOADS_ENDPOINT_URL``
locally: the moto endpoint; unset in AWS: S3's own).
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from botocore.exceptions import ClientError

from chalicelib.models import Attachment

STATE_TAG = "state"
UNATTACHED, ATTACHED = "unattached", "attached"


def tagging_xml(tags: dict[str, str]) -> str:
    """The ``tagging`` field of a presigned POST (S3's XML tag set)."""
    inner = "".join(f"<Tag><Key>{escape(k)}</Key><Value>{escape(v)}</Value></Tag>" for k, v in tags.items())
    return f"<Tagging><TagSet>{inner}</TagSet></Tagging>"


class S3AttachmentStore:
    def __init__(self, s3: Any, presigner: Any, bucket: str) -> None:
        self.s3, self.presigner, self.bucket = s3, presigner, bucket

    def upload_form(self, key: str, content_type: str, max_size: int, expires_s: int) -> tuple[str, dict[str, str]]:
        tagging = tagging_xml({STATE_TAG: UNATTACHED})
        fields = {"Content-Type": content_type, "tagging": tagging}
        conditions: list[Any] = [{"Content-Type": content_type}, {"tagging": tagging},
                                 ["content-length-range", 1, max_size]]
        form = self.presigner.generate_presigned_post(Bucket=self.bucket, Key=key, Fields=fields,
                                                      Conditions=conditions, ExpiresIn=expires_s)
        return str(form["url"]), {str(k): str(v) for k, v in form["fields"].items()}

    def stat(self, key: str) -> Attachment | None:
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return Attachment(key=key, content_type=str(head.get("ContentType") or ""), size=int(head["ContentLength"]))

    def download_url(self, key: str, expires_s: int) -> str:
        return str(self.presigner.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                                         ExpiresIn=expires_s))

    def keep(self, keys: list[str], complaint_id: str) -> None:
        tags = {"TagSet": [{"Key": STATE_TAG, "Value": ATTACHED}, {"Key": "complaint", "Value": complaint_id}]}
        for key in keys:
            try:
                self.s3.put_object_tagging(Bucket=self.bucket, Key=key, Tagging=tags)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NoSuchKey":
                    raise  # retried by the caller; a deleted object has nothing left to keep
