"""The Chalice entry points in-process with ``chalice.test.Client`` (routes, the lifecycle and
SQS functions), on the local system's moto backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from chalice.test import Client

from chalicelib.adapters import aws
from local.runtime import LocalSystem

BODY = {"customer_id": "C-7", "order_id": "O-7", "channel": "web", "desired_outcome": "return",
        "description": "The kettle arrived with a cracked lid", "contact": {"locale": "en", "email": "c7@example.com"}}


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSystem]:
    with LocalSystem(port=0, aws_port=0, time_scale=3600, secret_path=tmp_path_factory.mktemp("k") / "s") as running:
        yield running


@pytest.fixture
def client(system: LocalSystem) -> Iterator[Client]:
    with Client(system.app, stage_name="dev") as c:
        yield c


def headers(system: LocalSystem, user: str = "C-7", group: str = "customers", **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {system.token(user, group)}", "Content-Type": "application/json", **extra}


def test_post_and_get_through_the_chalice_test_client(system: LocalSystem, client: Client) -> None:
    resp = client.http.post("/complaints", headers=headers(system), body=json.dumps(BODY))
    assert resp.status_code == 202
    cid = resp.json_body["complaint_id"]
    got = client.http.get(f"/complaints/{cid}", headers=headers(system))
    assert got.status_code == 200 and got.json_body["order_id"] == "O-7"


def test_a_failed_workflow_start_leaves_nothing_and_the_retry_succeeds(system: LocalSystem, client: Client) -> None:
    sfn = aws.client("stepfunctions")
    ddb = aws.client("dynamodb")

    def unavailable(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "try later"}}, "StartExecution")

    body = json.dumps({**BODY, "customer_id": "C-503", "order_id": "O-503"})
    sfn.meta.events.register_first("before-parameter-build.states.StartExecution", unavailable)
    try:
        failed = client.http.post("/complaints", headers=headers(system, "C-503", **{"Idempotency-Key": "k-503"}), body=body)
    finally:
        sfn.meta.events.unregister("before-parameter-build.states.StartExecution", unavailable)
    assert failed.status_code == 503
    assert failed.json_body["error"]["code"] == "service_unavailable" and "Traceback" not in failed.body.decode()
    table = system.env["TABLE_NAME"]
    left = ddb.query(TableName=table, IndexName="by_customer", KeyConditionExpression="customer_pk = :c",
                     ExpressionAttributeValues={":c": {"S": "C-503"}})["Items"]
    assert left == []  # no half-made complaint stays behind
    retry = client.http.post("/complaints", headers=headers(system, "C-503", **{"Idempotency-Key": "k-503"}), body=body)
    assert retry.status_code == 202
    listed = client.http.get("/customers/C-503/complaints", headers=headers(system, "C-503")).json_body["items"]
    assert [i["complaint_id"] for i in listed] == [retry.json_body["complaint_id"]]


def test_an_unexpected_error_is_a_500_without_a_stack_trace(system: LocalSystem, client: Client) -> None:
    ddb = aws.client("dynamodb")

    def broken(**_: Any) -> None:
        raise RuntimeError("disk on fire")

    ddb.meta.events.register_first("before-parameter-build.dynamodb.Query", broken)
    try:
        resp = client.http.get("/customers/C-7/complaints", headers=headers(system))
    finally:
        ddb.meta.events.unregister("before-parameter-build.dynamodb.Query", broken)
    assert resp.status_code == 500
    assert resp.json_body == {"error": {"code": "internal_error", "message": "something went wrong on our side", "details": []}}


def test_lifecycle_function_rejects_an_unknown_step(system: LocalSystem, client: Client) -> None:
    with pytest.raises(ValueError, match="unknown lifecycle step"):
        client.lambda_.invoke("lifecycle_step", {"action": "teleport", "complaint_id": "x"})


def test_import_handler_answers_a_partial_batch_response(system: LocalSystem, client: Client) -> None:
    batch = json.loads((Path(__file__).resolve().parents[1] / "data" / "imports" / "generic.json").read_text(encoding="utf-8"))
    event = client.events.generate_sqs_event(queue_name="complaints-import", message_bodies=[json.dumps(batch), "not a batch"])
    for n, record in enumerate(event["Records"]):
        record["messageId"] = f"msg-{n}"  # chalice gives every record the same id
    result = client.lambda_.invoke("import_batch", event).payload
    assert result == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}


def test_cors_answers_only_for_the_configured_console_origin(system: LocalSystem, client: Client,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.config import settings

    # no console origin (the local system serves the console on the API's own origin): no CORS at all
    plain = client.http.get("/health", headers={"Origin": "https://elsewhere.example"})
    assert plain.status_code == 200 and "Access-Control-Allow-Origin" not in plain.headers
    monkeypatch.setenv("CONSOLE_ORIGIN", "https://d111.cloudfront.net")
    settings.cache_clear()
    try:
        answer = client.http.get("/queues/product", headers={**headers(system, "A-7", "agents"), "Origin": "https://elsewhere.example"})
        refused = client.http.post("/complaints/CMP-X/contact", headers=headers(system, "C-7", "customers"), body="{}")
    finally:
        monkeypatch.delenv("CONSOLE_ORIGIN")
        settings.cache_clear()
    # the one origin, whoever asks (the browser enforces it), on answers and refusals alike
    assert answer.headers["Access-Control-Allow-Origin"] == "https://d111.cloudfront.net"
    assert refused.status_code == 403 and refused.headers["Access-Control-Allow-Origin"] == "https://d111.cloudfront.net"
    assert "Location" in answer.headers["Access-Control-Expose-Headers"]


def test_an_action_on_a_ticket_that_kept_changing_is_a_409_to_retry(system: LocalSystem, client: Client,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib import changes

    filed = client.http.post("/complaints", headers=headers(system, "C-409"),
                             body=json.dumps({**BODY, "customer_id": "C-409", "order_id": "O-409"}))
    cid = filed.json_body["complaint_id"]
    agent = headers(system, "A-7", "agents")

    def busy(*_: Any, **__: Any) -> None:
        raise changes.KeptChanging(f"complaint {cid} kept changing; try again")

    monkeypatch.setattr(changes, "apply", busy)
    resp = client.http.post(f"/complaints/{cid}/contact", headers=agent, body=json.dumps({}))
    assert resp.status_code == 409 and resp.headers.get("Retry-After") == "1"
    assert resp.json_body["error"]["code"] == "conflict"
    monkeypatch.undo()
    # an action that does not apply is a 409 without Retry-After: sending it again would not help
    rate = client.http.post(f"/complaints/{cid}/satisfaction", headers=headers(system, "C-409"),
                            body=json.dumps({"score": 5}))
    assert rate.status_code == 409 and "Retry-After" not in rate.headers
