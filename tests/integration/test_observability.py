"""Powertools on every handler, and no personal data in what the functions log or measure.

``tests/integration/personal_data_run.py`` runs every Lambda handler of the app — the API,
lifecycle_step (which sends the notifications), import_batch, analytics — with a customer's phone numbers, e-mail
addresses and push token, through the local system, with the product's logging as loud as it
goes (DEBUG, events asked to be logged, metrics on), and through the unhappy paths that carry
such data into error messages. It runs in a fresh interpreter, so its stdout and stderr are
everything the product wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration import personal_data_run as run

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def output() -> tuple[str, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_LAMBDA_", "AWS_XRAY"))}
    proc = subprocess.run([sys.executable, "-m", "tests.integration.personal_data_run"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("RESULT ")
    return proc.stdout + proc.stderr, json.loads(last.removeprefix("RESULT "))


def test_the_handlers_did_what_the_personal_data_asked_of_them(output: tuple[str, dict[str, Any]]) -> None:
    _, result = output
    assert result["push_messages"] == 1 and result["push_token_attribute"] is True  # the push went to the token
    assert result["emails_sent"] >= 1 and result["staff_sees_contact"] is True
    assert result["timelines"]["C-PII-3"][-1] == "notification_failed"  # the refused SMS, recorded
    assert result["rejected_body_status"] == 400 and result["workflow_unavailable_status"] == 503
    assert result["import"] == {"answer": {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}, "created": 1, "rejected": 1}
    assert result["analytics"] == {"batchItemFailures": []}


def _records(text: str) -> list[dict[str, Any]]:
    """The JSON objects of the output (threads of the local system may share a line)."""
    decoder, found = json.JSONDecoder(), []
    for line in text.splitlines():
        at = line.find("{")
        while at != -1:
            try:
                value, end = decoder.raw_decode(line, at)
            except ValueError:
                at = line.find("{", at + 1)
                continue
            found.append(value)
            at = line.find("{", end)
    return [r for r in found if isinstance(r, dict)]


def test_every_log_line_and_metric_of_the_run_carries_a_lambda_context(output: tuple[str, dict[str, Any]]) -> None:
    text, _ = output
    records = _records(text)
    logs = [r for r in records if "_aws" not in r and "message" in r]
    assert len(logs) >= 5 and all({"function_name", "function_request_id", "cold_start", "service"} <= set(r) for r in logs), logs
    metrics = [r for r in records if "_aws" in r]
    assert [m["function_name"] for m in metrics if "ColdStart" in m]  # the metrics middleware flushed
    assert any("NotificationsFailed" in m for m in metrics)


# One handler at a time, each down a path that logs (the local system above runs them on
# threads of one process, where Powertools' context is the last invocation's).
CONTEXT_PROBE = """
import json
import boto3, jwt
from botocore.exceptions import ClientError
from moto import mock_aws
from infra.resources import resources

with mock_aws():
    tables = {k: v for k, v in resources("dev").items() if v["Type"] == "AWS::DynamoDB::Table"}
    boto3.client("cloudformation").create_stack(StackName="tables", TemplateBody=json.dumps({"Resources": tables}))
    import app
    from chalice.test import Client
    from chalicelib.adapters import aws
    from chalicelib.bootstrap import services
    from chalicelib.clock import now
    from chalicelib.models import ComplaintIn
    from chalicelib.ticket import Ticket
    from infra.resources import load_asl

    def broken(**_):
        raise RuntimeError("disk on fire")

    def refused(**_):
        raise ClientError({"Error": {"Code": "InternalFailure", "Message": "SMS gateway down"}}, "Publish")

    token = jwt.encode({"cognito:username": "C-1", "cognito:groups": ["customers"]}, "k", algorithm="HS256")
    with Client(app.app, stage_name="dev") as client:
        aws.client("dynamodb").meta.events.register_first("before-parameter-build.dynamodb.Query", broken)
        print("API", client.http.get("/customers/C-1/complaints", headers={"Authorization": f"Bearer {token}"}).status_code)
        aws.client("dynamodb").meta.events.unregister("before-parameter-build.dynamodb.Query", broken)
        # triage a complaint whose acknowledgement SNS refuses: the step logs the send and the failure
        body = ComplaintIn(customer_id="C-1", order_id="O-1", channel="phone", desired_outcome="refund",
                           description="碎了", contact={"locale": "zh-CN", "phone": "+8613800000000"})
        services().store.create(Ticket(complaint_id="CMP-1", complaint=body, created_at=now(), raised_at=now(),
                                       updated_at=now()))
        aws.client("sns").meta.events.register_first("before-parameter-build.sns.Publish", refused)
        policy = load_asl("lifecycle")["States"]["ServiceLevelPolicy"]["Result"]
        plan = client.lambda_.invoke("lifecycle_step", {"action": "triage", "complaint_id": "CMP-1", "policy": policy})
        print("TRIAGE", plan.payload["next"])
        event = client.events.generate_sqs_event(queue_name="complaints-import", message_bodies=["not a batch"])
        try:
            client.lambda_.invoke("import_batch", event)
        except Exception as exc:  # every message of the batch failed: Lambda retries the batch
            print("IMPORT", type(exc).__name__)
        client.lambda_.invoke("analytics", {"Records": [{"eventName": "MODIFY", "dynamodb": {
            "Keys": {"pk": {"S": "C#CMP-1"}, "sk": {"S": "TICKET"}}, "NewImage": {"pk": {"S": "C#CMP-1"}}, "SequenceNumber": "1"}}]})
"""


def test_every_handler_logs_with_its_own_lambda_context() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_LAMBDA_", "AWS_XRAY", "AWS_ENDPOINT"))}
    env |= {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "TABLE_NAME": "complaints-dev-tickets", "POWERTOOLS_METRICS_DISABLED": "true"}
    proc = subprocess.run([sys.executable, "-c", CONTEXT_PROBE], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "API 500" in proc.stdout and "TRIAGE await_agent" in proc.stdout and "IMPORT BatchProcessingError" in proc.stdout
    logs = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith('{"level"')]
    by_message = {r["message"]: r for r in logs}
    expected = {"unhandled error": "api_handler", "notification failed": "lifecycle_step", "send failed": "lifecycle_step",
                "import message is not a batch": "import_batch", "unreadable ticket image in the stream": "analytics"}
    assert {m: by_message[m]["function_name"] for m in expected if m in by_message} == expected
    assert all(by_message[m]["function_request_id"] and "cold_start" in by_message[m] for m in expected)
    assert "disk on fire" in by_message["unhandled error"]["exception"]  # the error is logged, the client got a 500


@pytest.mark.parametrize("value", run.PERSONAL)
def test_no_phone_email_or_push_token_reaches_a_log_line_or_a_metric(output: tuple[str, dict[str, Any]], value: str) -> None:
    text, _ = output
    for form in {value, value.lstrip("+"), value.replace("@", "%40"), json.dumps(value)[1:-1]}:
        assert form not in text


def test_no_xray_sdk_and_no_xray_client_outside_lambda(output: tuple[str, dict[str, Any]]) -> None:
    _, result = output
    assert result["xray_modules"] == []
    assert "xray" not in result["clients"] and {"dynamodb", "stepfunctions", "sns", "ses"} <= set(result["clients"])
