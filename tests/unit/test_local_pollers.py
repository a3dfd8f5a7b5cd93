"""The local event-source pollers (``local/sqs_poller.py``, ``local/streams.py``) wait for
work instead of polling on a timer: a long-polling SQS receive, a stream poller woken by the
record it is waiting for. Both still stop at once."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.moto import dynamodb
from local.sqs_poller import LONG_POLL_SECONDS, SqsEventSourcePoller
from local.streams import DynamoDBStreamPoller, streams_client
from local.testing import wait_until

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)


class FakeLambda:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:
        self.events.append(json.loads(Payload))
        return {"Payload": io.BytesIO(b"{}")}


def test_sqs_poller_long_polls_picks_up_a_message_at_once_and_stops() -> None:
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        receives: list[int] = []
        sqs.meta.events.register("provide-client-params.sqs.ReceiveMessage",
                                 lambda params, **_: receives.append(params.get("WaitTimeSeconds", 0)))
        fake = FakeLambda()
        poller = SqsEventSourcePoller(sqs=sqs, lambda_client=fake, queue_url=url, queue_arn="arn:aws:sqs:us-east-1:1:q",
                                      function_name="f", region=REGION)
        poller.start()
        try:
            wait_until(lambda: receives, what="the first receive")
            # When a message is sent while the poller waits in its receive
            sqs.send_message(QueueUrl=url, MessageBody="hello")
            wait_until(lambda: fake.events, what="the delivery")
        finally:
            poller.stop()
        # Then it was delivered (and deleted), by receives that wait for messages, and the thread is gone
        assert [r["body"] for r in fake.events[0]["Records"]] == ["hello"]
        assert set(receives) == {LONG_POLL_SECONDS} and LONG_POLL_SECONDS >= 1
        assert not poller.running
        assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_stream_poller_sleeps_until_a_record_is_written_and_stops() -> None:
    with mock_aws(), dynamodb.patched():
        from moto.dynamodb.models import dynamodb_backends

        ddb = boto3.client("dynamodb", region_name=REGION)
        arn = ddb.create_table(
            TableName="t", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]["LatestStreamArn"]
        shard = dynamodb_backends["123456789012"][REGION].get_table("t").stream_shard
        fake = FakeLambda()
        poller = DynamoDBStreamPoller(streams=streams_client(REGION), lambda_client=fake, stream_arn=arn,
                                      function_name="f", shard=lambda: shard)
        poller.start()
        try:
            assert poller.wait_idle()  # nothing to read: it sleeps
            reads: list[int] = []
            original_read = poller._read

            def read(shard: Any) -> list[dict[str, Any]]:
                reads.append(1)
                return original_read(shard)

            poller._read = read  # type: ignore[method-assign]  # counts the reads of the shard
            assert poller.wait_idle()
            # When a ticket is written
            ddb.put_item(TableName="t", Item={"pk": {"S": "C#1"}, "sk": {"S": "TICKET"}})
            wait_until(lambda: fake.events, what="the delivery")
        finally:
            poller.stop()
        # Then its record was delivered, with no read of the shard while there was nothing new
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in fake.events[0]["Records"]] == ["C#1"]
        assert len(reads) == 1
        assert not poller._thread.is_alive()


def test_stream_filters_are_the_templates_patterns() -> None:
    from infra.template import STREAM_MAPPINGS
    from local.streams import matches

    ticket = {"eventName": "MODIFY", "dynamodb": {"Keys": {"pk": {"S": "C#1"}, "sk": {"S": "TICKET"}}}}
    event = {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "C#1"}, "sk": {"S": "EV#2026-11-22T08:00:00Z#1"}}}}
    removed = {**event, "eventName": "REMOVE"}
    analytics, integration = (STREAM_MAPPINGS[f]["filter"] for f in ("analytics", "integration"))
    assert [matches(analytics, r) for r in (ticket, event, removed)] == [True, False, False]
    assert [matches(integration, r) for r in (ticket, event, removed)] == [False, True, False]
    assert matches({}, removed)  # no filter: every record
