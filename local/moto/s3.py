"""moto's S3 as the local system needs it: a presigned POST's ``tagging`` field tags the
object, as S3 does (moto 5.2.5 stores the file and its metadata but drops the tags), so an
upload is ``state=unattached`` until a complaint attaches it (``infra.resources.uploads_bucket``).

moto still does not police a POST's policy (type, size range): the app checks every
attachment with ``HeadObject`` (docs/integration.md). The target is checked by
``tests/unit/test_moto_contract.py``; see ``docs/local-engine.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from xml.etree import ElementTree

from local.moto._targets import Target

BUCKET_POST = Target("moto.s3.responses.S3Response", "_bucket_response_post",
                     "a presigned POST's tagging field tags the object it stores", "(self, request, bucket_name)")
TARGETS = (BUCKET_POST,)


def form_tags(xml: str) -> dict[str, str]:
    """``<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag>...`` -> ``{k: v}``."""
    root = ElementTree.fromstring(xml)  # a local developer's own form, not a stranger's
    return {tag.findtext("Key") or "": tag.findtext("Value") or "" for tag in root.iter("Tag")}


@contextmanager
def tagged_posts() -> Iterator[None]:
    original = BUCKET_POST.original()

    def bucket_response_post(self: Any, request: Any, bucket_name: str) -> Any:
        response = original(self, request, bucket_name)
        tagging = (self.querystring.get("tagging") or [None])[0]
        key = (self.querystring.get("key") or [None])[0]
        if tagging and key and not self.is_delete_keys() and int(response[0]) < 300:
            stored = self.backend.get_object(bucket_name, key)
            if stored is not None:
                self.backend.put_object_tagging(stored, form_tags(tagging))
        return response

    with BUCKET_POST.replaced_by(bucket_response_post):
        yield
