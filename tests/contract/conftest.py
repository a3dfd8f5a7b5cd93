"""AWS on moto for the contract tests: the tickets table as the template declares it, SNS
topics and an SES sender, a state machine — in one ``mock_aws`` per test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.resources import resources

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def ddb(aws: None) -> Any:
    """A DynamoDB client on the stage ``test`` tables, created from the template."""
    tables = {k: v for k, v in resources("test").items() if v["Type"] == "AWS::DynamoDB::Table"}
    boto3.client("cloudformation").create_stack(StackName="tables", TemplateBody=json.dumps({"Resources": tables}))
    return boto3.client("dynamodb")
