"""The benchmarks' own arithmetic and helpers (bench/): counts, not timings — nothing here
asserts how fast anything is."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from bench import coldstart, imports, lifecycle
from bench._support import CallCounter, cheap_transaction_rollback


def test_call_counter_counts_api_calls_by_operation_and_only_on_its_thread() -> None:
    # Given a client whose answers are stubbed, and a counter of the calls of this thread
    client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    counter = CallCounter(only_thread=threading.get_ident(), keep_params=True).attach(client)
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_response("get_item", {})
        # When two calls are made here and one on another thread
        client.get_item(TableName="t", Key={"pk": {"S": "a"}})
        client.get_item(TableName="t", Key={"pk": {"S": "b"}})
        other = threading.Thread(target=lambda: client.get_item(TableName="t", Key={"pk": {"S": "c"}}))
        other.start()
        other.join()
    counter.detach()
    # Then only this thread's are counted, with their parameters
    assert counter.snapshot() == {"dynamodb.GetItem": 2}
    assert [p["TableName"] for p in counter.params["dynamodb.GetItem"]] == ["t", "t"]


@mock_aws
def test_item_level_rollback_undoes_a_cancelled_transaction_like_moto_does() -> None:
    # Given a table with one item
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    ddb.put_item(TableName="t", Item={"pk": {"S": "old"}, "v": {"N": "1"}})

    def put(pk: str, v: str) -> dict[str, Any]:
        return {"Put": {"TableName": "t", "Item": {"pk": {"S": pk}, "v": {"N": v}},
                        "ConditionExpression": "attribute_not_exists(pk)"}}

    with cheap_transaction_rollback():
        # When a transaction writes a new item, then fails on the existing one
        with pytest.raises(ClientError) as failed:
            ddb.transact_write_items(TransactItems=[put("new", "2"), put("old", "3")])
        # Then nothing of it stays: the new item is gone, the old one unchanged
        assert failed.value.response["Error"]["Code"] == "TransactionCanceledException"
        assert "Item" not in ddb.get_item(TableName="t", Key={"pk": {"S": "new"}})
        assert ddb.get_item(TableName="t", Key={"pk": {"S": "old"}})["Item"]["v"] == {"N": "1"}
        # And a transaction that passes writes everything
        ddb.transact_write_items(TransactItems=[put("a", "4"), put("b", "5")])
    assert ddb.scan(TableName="t", Select="COUNT")["Count"] == 3


def _event(i: int, kind: str, name: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"id": i, "type": kind}
    if name is not None:
        event["stateEnteredEventDetails"] = {"name": name}
    return event


def test_history_figures_count_map_iterations_and_retries_as_billed_transitions() -> None:
    # Given a history: a task retried once, a Map with two iterations, a choice, an empty Map
    history = [
        _event(1, "ExecutionStarted"),
        _event(2, "TaskStateEntered", "Triage"), _event(3, "LambdaFunctionScheduled"), _event(4, "LambdaFunctionFailed"),
        _event(5, "LambdaFunctionScheduled"), _event(6, "LambdaFunctionSucceeded"),
        _event(7, "MapStateEntered", "Notify"),
        _event(8, "TaskStateEntered", "Send"), _event(9, "LambdaFunctionScheduled"),
        _event(10, "TaskStateEntered", "Send"), _event(11, "LambdaFunctionScheduled"),
        _event(12, "MapIterationStarted"), _event(13, "MapStateExited"),
        _event(14, "ChoiceStateEntered", "Route"),
        _event(15, "TaskStateEntered", "AwaitAgent"), _event(16, "TaskScheduled"),
        _event(17, "MapStateEntered", "Notify"), _event(18, "MapStateExited"),
    ]
    # When it is counted
    figures = lifecycle.history_figures(history)
    # Then every state entered counts (Map iterations' too), plus the retry
    assert figures["states_entered"] == 7
    assert figures["retries"] == 1
    assert figures["billed_transitions"] == 8
    assert figures["workflow_lambda_invocations"] == 5
    assert figures["states"] == {"Send": 2, "Notify": 2, "Triage": 1, "Route": 1, "AwaitAgent": 1}
    assert figures["sequence"] == ["Triage", "Notify", "Send", "Send", "Route", "AwaitAgent", "Notify"]
    assert figures["empty_maps"] == 1


def test_cost_per_1000_complaints_uses_the_published_prices() -> None:
    cost = lifecycle.cost_per_1000(transitions=40, invocations={"lifecycle_step": 10, "api_handler": 10}, gb_seconds=0.5,
                                   dynamodb={"write_units": 80, "read_units": 20})
    assert cost["step_functions_usd"] == pytest.approx(40 * 0.025)
    assert cost["lambda_requests_usd"] == pytest.approx(20 * 0.20 / 1000)
    assert cost["lambda_compute_usd_estimate"] == pytest.approx(0.5 * 0.0000166667 * 1000)
    assert cost["dynamodb_usd"] == pytest.approx(80 * 0.625 / 1000 + 20 * 0.125 / 1000)


def test_dynamodb_item_size_counts_names_and_values_as_dynamodb_does() -> None:
    # 2 + 5 ("pk" + "C#CMP") + 7 + 1 + (1 + 2) ("version" N "12") + 4 + 3 + (1 + 1) ("tags" L [S "a"])
    item = {"pk": {"S": "C#CMP"}, "version": {"N": "12"}, "tags": {"L": [{"S": "a"}]}}
    assert lifecycle.item_size(item) == 7 + 9 + 9
    assert lifecycle.item_size({"name": {"S": "碎"}}) == 4 + 3  # UTF-8 bytes


def test_memory_comes_from_the_chalice_config_with_chalices_default_for_the_api() -> None:
    memory = lifecycle.memory_mb()
    config = json.loads((lifecycle.REPO / ".chalice" / "config.json").read_text(encoding="utf-8"))
    configured = config["stages"]["dev"]["lambda_functions"]
    assert memory["lifecycle_step"] == configured["lifecycle_step"]["lambda_memory_size"]
    assert memory["api_handler"] == 128


def test_the_import_message_is_valid_and_every_record_is_new() -> None:
    # Given the benchmark's 500-record message
    from chalicelib.marketplaces import map_record, parse_batch

    batch = parse_batch(imports.build_message("T", 500))
    # Then every record maps (no rejection) and carries its own identity
    mapped = [map_record(batch.source, i, raw) for i, raw in enumerate(batch.records)]
    assert len({m.external_id for m in mapped}) == 500
    assert imports.floor_calls(500) == {"dynamodb.BatchWriteItem": 20, "stepfunctions.StartExecution": 500}


IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       100 |        100 |       charset_normalizer.api
import time:        50 |        150 |     requests.compat
import time:        10 |        160 |   chalicelib.observability
import time:         5 |        165 | app
"""


def test_importtime_rows_keep_the_tree_and_name_who_brought_a_package_in() -> None:
    rows = coldstart.parse_importtime(IMPORTTIME)
    assert [(r[2], r[3]) for r in rows] == [("charset_normalizer.api", 3), ("requests.compat", 2),
                                           ("chalicelib.observability", 1), ("app", 0)]
    assert coldstart._via(rows, "charset_normalizer") == (
        "charset_normalizer.api <- requests.compat <- chalicelib.observability <- app")


def test_the_cold_start_bench_finds_what_each_handler_imports_in_app_py() -> None:
    modules = coldstart.handler_imports((coldstart.REPO / "app.py").read_text(encoding="utf-8"), coldstart.REPO)
    assert modules["lifecycle_step"] == ("chalicelib.steps",)
    assert modules["import_batch"] == ("chalicelib.importer",)
    assert modules["analytics"] == ("chalicelib.reports.handlers",)
    assert {"chalicelib.intake", "chalicelib.queries", "chalicelib.actions", "chalicelib.models",
            "chalicelib.reports.handlers"} <= set(modules["api_handler"])
    assert not {"chalicelib.steps", "chalicelib.importer", "chalicelib.outbox"} & set(modules["api_handler"])


def test_the_cold_start_bench_sees_template_values_as_the_function_would() -> None:
    assert coldstart._placeholder({"Fn::Sub": "complaints-${Stage}-x-${AWS::Region}"}) == "complaints-Stage-x-us-east-1"
    assert coldstart._placeholder({"Ref": "TicketsTable"}) == "TicketsTable"
    assert coldstart._placeholder(128) == "128"


def test_the_policy_benchmarks_minute_walk_reference_gives_the_calendars_due_time() -> None:
    # Given the reference the policy benchmark times the calendar against
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bench import policy as policy_bench
    from chalicelib.policy import Calendar

    office = Calendar.model_validate({"timezone": "Asia/Shanghai", "week": {"mon-fri": ["09:00-18:00"]},
                                      "holidays": "CN"}).working_time("product")
    start = datetime(2026, 2, 13, 16, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # Friday, before a make-up Saturday
    # Then walking minute by minute ends where the interval walk does
    for seconds in (60, 7200, 5 * 3600, 20 * 3600):
        assert policy_bench.minute_walk(office, start, seconds) == office.add(start, seconds).at
