"""One contract, two attachment stores: the in-memory one and S3 on moto (the bucket the
template declares)."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest

from chalicelib.adapters.attachments import S3AttachmentStore
from chalicelib.adapters.memory import MemoryAttachments
from chalicelib.adapters.ports import AttachmentStore
from infra.resources import uploads_bucket

KEY = "uploads/C-1/0123456789abcdef0123456789abcdef.jpg"


class TestMemoryAttachments:
    @pytest.fixture
    def store(self) -> AttachmentStore:
        return MemoryAttachments()

    def upload(self, store: AttachmentStore, key: str, content_type: str, body: bytes) -> None:
        assert isinstance(store, MemoryAttachments)
        store.upload(key, content_type, body)

    def tags(self, store: AttachmentStore, key: str) -> dict[str, str]:
        assert isinstance(store, MemoryAttachments)
        return store.objects[key].tags

    def test_stat_tells_type_and_size_or_none(self, store: AttachmentStore) -> None:
        assert store.stat(KEY) is None
        self.upload(store, KEY, "image/jpeg", b"\xff\xd8" + bytes(98))
        found = store.stat(KEY)
        assert found is not None and (found.key, found.content_type, found.size) == (KEY, "image/jpeg", 100)

    def test_the_form_names_the_type_and_the_unattached_tag(self, store: AttachmentStore) -> None:
        url, fields = store.upload_form(KEY, "image/png", 1000, 900)
        assert url and fields["Content-Type"] == "image/png" and "unattached" in fields["tagging"]

    def test_keep_marks_attached_and_skips_what_is_gone(self, store: AttachmentStore) -> None:
        self.upload(store, KEY, "image/jpeg", b"x")
        store.keep([KEY, "uploads/C-1/gone.jpg"], "CMP-1")
        assert self.tags(store, KEY) == {"state": "attached", "complaint": "CMP-1"}

    def test_download_urls_name_the_key(self, store: AttachmentStore) -> None:
        assert KEY in store.download_url(KEY, 300)


class TestS3Attachments(TestMemoryAttachments):
    @pytest.fixture
    def store(self, aws: None) -> AttachmentStore:  # type: ignore[override]  # pytest fixture with another dependency
        template = {"Resources": uploads_bucket("test")}
        boto3.client("cloudformation").create_stack(StackName="uploads", TemplateBody=json.dumps(template))
        s3 = boto3.client("s3")
        bucket = s3.list_buckets()["Buckets"][0]["Name"]
        return S3AttachmentStore(s3, s3, bucket)

    def upload(self, store: AttachmentStore, key: str, content_type: str, body: bytes) -> None:
        assert isinstance(store, S3AttachmentStore)
        store.s3.put_object(Bucket=store.bucket, Key=key, Body=body, ContentType=content_type, Tagging="state=unattached")

    def tags(self, store: AttachmentStore, key: str) -> dict[str, str]:
        assert isinstance(store, S3AttachmentStore)
        tag_set: list[dict[str, Any]] = store.s3.get_object_tagging(Bucket=store.bucket, Key=key)["TagSet"]
        return {t["Key"]: t["Value"] for t in tag_set}

    def test_the_bucket_is_the_stages_and_the_form_pins_type_size_and_tag(self, store: AttachmentStore) -> None:
        assert isinstance(store, S3AttachmentStore)
        assert store.bucket == "complaints-test-uploads-123456789012-us-east-1"
        _, fields = store.upload_form(KEY, "image/png", 1000, 900)
        policy = json.loads(base64.b64decode(fields["policy"]))
        assert ["content-length-range", 1, 1000] in policy["conditions"]
        assert {"Content-Type": "image/png"} in policy["conditions"] and {"key": KEY} in policy["conditions"]
