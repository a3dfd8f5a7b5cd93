"""The request-dispatch patches of the local engine (``local/moto/core.py``)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import responses
from moto.core.base_backend import BackendDict

from local.moto import core

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)


def test_action_methods_are_listed_once_per_class_and_still_found() -> None:
    listed: list[Any] = []
    original = core.METHOD_NAMES.original()

    def spy(clazz: Any) -> Any:
        listed.append(clazz)
        return original(clazz)

    with mock_aws(), core.METHOD_NAMES.replaced_by(spy), core.patched():
        ddb = boto3.client("dynamodb", region_name=REGION)
        for n in range(3):
            ddb.create_table(TableName=f"t{n}", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                             BillingMode="PAY_PER_REQUEST")
        assert ddb.list_tables()["TableNames"] == ["t0", "t1", "t2"]
        with pytest.raises(ClientError):  # an error answer is still an answer
            ddb.describe_table(TableName="missing")
    assert len(listed) == 1  # DynamoHandler, once
    assert responses.method_names_from_class is original


def test_backends_of_new_accounts_are_created_and_reset_as_moto_does() -> None:
    from moto.dynamodb.models import dynamodb_backends

    with mock_aws(), core.patched():
        backend = dynamodb_backends["111122223333"][REGION]
        assert dynamodb_backends["111122223333"][REGION] is backend  # the fast path: the same one
        assert dynamodb_backends in BackendDict._instances  # registered: reset at the end of the mock
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName="kept", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    with mock_aws(), core.patched():
        assert boto3.client("dynamodb", region_name=REGION).list_tables()["TableNames"] == []


def test_the_patches_are_removed_on_exit() -> None:
    originals = (responses.method_names_from_class, BackendDict.__getitem__)
    with core.patched():
        assert (responses.method_names_from_class, BackendDict.__getitem__) != originals
    assert (responses.method_names_from_class, BackendDict.__getitem__) == originals
