"""Report aggregates against moto: tickets written by the real store into the table the
template declares, its stream read with DynamoDB Streams, the analytics handler applying it,
and the reports reading the aggregates back - with Queries only, never a Scan."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.adapters.store import DynamoDBTicketStore
from chalicelib.reports.dynamodb import AggregateReader, Aggregator
from chalicelib.reports.figures import report
from chalicelib.reports.handlers import handle_stream
from infra.resources import TICKETS_STREAM_VIEW, names, resources
from infra.template import STREAM_MAPPINGS
from local.moto import dynamodb
from local.streams import DynamoDBStreamPoller, streams_client
from tests.unit.test_analytics import EXPECTED_SUMMARY, WINDOW, Story, contract_view, fixture, on

TABLE = names("test")["table"]
REGION = "us-east-1"


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws(), dynamodb.stream_shards():
        tables = {k: v for k, v in resources("test").items() if v["Type"] == "AWS::DynamoDB::Table"}
        boto3.client("cloudformation").create_stack(StackName="tables", TemplateBody=json.dumps({"Resources": tables}))
        client = boto3.client("dynamodb")
        operations: list[str] = []
        client.meta.events.register("before-call.dynamodb.*", lambda model, **_: operations.append(model.name))
        client.operations = operations  # type: ignore[attr-defined]
        yield client


def write(ddb: Any, stories: list[Story]) -> None:
    """Each story's states as the app writes them: create, then one versioned save per change."""
    store = DynamoDBTicketStore(ddb, TABLE)
    for story in stories:
        store.create(story.states[0])
        for version, state in enumerate(story.states[1:], start=1):
            store.save(state, [], version - 1)


def stream(ddb: Any) -> tuple[str, list[dict[str, Any]]]:
    """The table's stream ARN and every record it holds (GetRecords, in order)."""
    arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    streams = streams_client(REGION)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records: list[dict[str, Any]] = []
    while True:
        page = streams.get_records(ShardIterator=iterator, Limit=100)
        if not page["Records"]:
            return arn, records
        records += [{**r, "eventSourceARN": arn} for r in page["Records"]]
        iterator = page["NextShardIterator"]


def deliver(ddb: Any, records: list[dict[str, Any]], batch: int = 100) -> None:
    aggregator = Aggregator(ddb, TABLE)
    for start in range(0, len(records), batch):
        assert handle_stream(on(aggregator), {"Records": records[start:start + batch]}) == {"batchItemFailures": []}


def aggregates(ddb: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """All aggregate items (a test may look at the whole table; the app never does)."""
    items = ddb.get_paginator("scan").paginate(TableName=TABLE).build_full_result()["Items"]
    out = {}
    for item in items:
        pk, sk = item["pk"]["S"], item["sk"]["S"]
        if pk.startswith("AGG") and not pk.startswith("AGGT#"):
            out[(pk, sk)] = {k: Decimal(v["N"]) for k, v in item.items() if "N" in v and Decimal(v["N"]) != 0}
    return out


def test_the_template_streams_ticket_changes_with_their_new_image(ddb: Any) -> None:
    table = ddb.describe_table(TableName=TABLE)["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": TICKETS_STREAM_VIEW}
    write(ddb, fixture()[:1])
    _, records = stream(ddb)
    assert [r["eventName"] for r in records] == ["INSERT"] + ["MODIFY"] * 5
    assert all("NewImage" in r["dynamodb"] and r["dynamodb"]["Keys"]["sk"] == {"S": "TICKET"} for r in records)


def test_stream_to_aggregates_to_report_is_exact_and_never_scans(ddb: Any) -> None:
    # Given the fixture's complaints written by the store, their stream applied by the handler
    write(ddb, fixture())
    _, records = stream(ddb)
    deliver(ddb, records, batch=10)
    # When the summary is read
    ddb.operations.clear()
    reader = AggregateReader(ddb, TABLE)
    body = report("summary", WINDOW, reader)
    # Then it is the hand-computed summary, from Queries alone
    assert contract_view(body) == EXPECTED_SUMMARY
    assert set(ddb.operations) == {"Query"} and len(ddb.operations) == reader.stats.queries
    assert reader.stats.items < 20  # a handful of small items, not the complaints


def test_duplicated_stream_records_do_not_double_count(ddb: Any) -> None:
    write(ddb, fixture())
    _, records = stream(ddb)
    deliver(ddb, records)
    once = aggregates(ddb)
    # The whole stream again, then each batch twice (at-least-once delivery, retried batches)
    deliver(ddb, records)
    for start in range(0, len(records), 4):
        deliver(ddb, records[start:start + 4])
        deliver(ddb, records[start:start + 4])
    assert aggregates(ddb) == once
    assert contract_view(report("summary", WINDOW, AggregateReader(ddb, TABLE))) == EXPECTED_SUMMARY


def test_the_handler_writes_only_aggregate_items(ddb: Any) -> None:
    write(ddb, fixture())
    _, records = stream(ddb)
    ddb.operations.clear()
    deliver(ddb, records)
    assert set(ddb.operations) <= {"BatchGetItem", "TransactWriteItems"}
    partitions = {k[0].split("#")[0] for k in aggregates(ddb)}
    assert partitions == {"AGG", "AGGH", "AGGK"}


class FakeLambda:
    """``lambda.invoke`` of the analytics handler, failing the first ``fail`` invocations."""

    def __init__(self, ddb: Any, fail: int = 0, partial: bool = False) -> None:
        self.aggregator, self.fail, self.partial = Aggregator(ddb, TABLE), fail, partial
        self.batches: list[list[str]] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:
        event = json.loads(Payload)
        self.batches.append([r["dynamodb"]["SequenceNumber"] for r in event["Records"]])
        assert all(r["eventSourceARN"] and r["dynamodb"]["Keys"]["sk"]["S"] == "TICKET" for r in event["Records"])
        if self.fail:
            self.fail -= 1
            if self.partial:  # ReportBatchItemFailures: the second half comes again
                middle = event["Records"][len(event["Records"]) // 2]["dynamodb"]["SequenceNumber"]
                half = {"Records": event["Records"][: len(event["Records"]) // 2]}
                handle_stream(on(self.aggregator), half)
                return {"Payload": io.BytesIO(json.dumps({"batchItemFailures": [{"itemIdentifier": middle}]}).encode())}
            return {"FunctionError": "Unhandled", "Payload": io.BytesIO(b'{"errorType": "Boom"}')}
        answer = handle_stream(on(self.aggregator), event)
        return {"Payload": io.BytesIO(json.dumps(answer).encode())}


@pytest.mark.parametrize("partial", [False, True])
def test_local_poller_redelivers_failed_batches_and_trims_the_shard(ddb: Any, partial: bool) -> None:
    from moto.dynamodb.models import dynamodb_backends

    write(ddb, fixture())
    arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = dynamodb_backends["123456789012"][REGION].get_table(TABLE).stream_shard
    held = len(shard.items)
    fake = FakeLambda(ddb, fail=2, partial=partial)
    poller = DynamoDBStreamPoller(streams=streams_client(REGION), lambda_client=fake, stream_arn=arn,
                                  function_name="analytics", batch_size=8, shard=lambda: shard,
                                  filter_pattern=STREAM_MAPPINGS["analytics"]["filter"])
    poller._stop.wait = lambda timeout=None: False  # type: ignore[method-assign]  # no back-off in the test
    while poller.poll_once():
        pass
    assert contract_view(report("summary", WINDOW, AggregateReader(ddb, TABLE))) == EXPECTED_SUMMARY
    first, second, third = fake.batches[:3]
    if partial:  # resumed from the first failed record, twice
        assert second[0] == first[len(first) // 2] and third[0] == second[len(second) // 2]
    else:  # the same batch again
        assert first == second == third
    assert len(shard.items) == 0 and held > 0  # delivered records are dropped from moto's shard
    # More writes later: the sequence goes on where it was
    write(ddb, [Story("CMP-LATE", fixture()[0].created, sku="SKU-88").triage("damaged_in_transit", "P3")])
    while poller.poll_once():
        pass
    body = report("summary", WINDOW, AggregateReader(ddb, TABLE))
    assert body["counts"]["total"] == EXPECTED_SUMMARY["counts"]["total"] + 1


def test_a_failed_transaction_leaves_no_stream_records(monkeypatch: pytest.MonkeyPatch) -> None:
    # The local system's moto: item-level rollback and the stream patches (local.moto.dynamodb)
    from chalicelib.adapters.ports import VersionConflict

    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws(), dynamodb.transactions(), dynamodb.stream_shards():
        tables = {k: v for k, v in resources("test").items() if v["Type"] == "AWS::DynamoDB::Table"}
        boto3.client("cloudformation").create_stack(StackName="tables", TemplateBody=json.dumps({"Resources": tables}))
        ddb = boto3.client("dynamodb")
        store = DynamoDBTicketStore(ddb, TABLE)
        a, b = fixture()[:2]
        store.create(a.states[0])
        # Given a save that loses the version race, and a batch create whose second ticket exists
        with pytest.raises(VersionConflict):
            store.save(a.states[2], [], 5)
        assert store.create_many([b.states[0], a.states[0]]) == {"CMP-A"}
        # Then the stream holds exactly the writes that happened: A created, B created
        _, records = stream(ddb)
        assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [("INSERT", "C#CMP-A"), ("INSERT", "C#CMP-B")]
        deliver(ddb, records)
        assert report("summary", WINDOW, AggregateReader(ddb, TABLE))["counts"]["total"] == 2
