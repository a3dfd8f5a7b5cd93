"""The local system's mechanics (local/), with a small test app instead of the product's.

The app below has the function the stack refers to (``lifecycle_step``), the
import queue handler and two routes; each test builds its own small state machine or sends
its own messages. Time runs x3600: an hour of ASL time is a second. Timing assertions are
only "well under the real duration" (< 10 s), never tighter.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from chalice import Chalice, CognitoUserPoolAuthorizer, Response
from chalice.app import SQSEvent

from infra import resources as infra
from local.events import format_event
from local.runtime import LocalSystem
from local.testing import http, wait_until
from local.tokens import InvalidToken, TokenIssuer

REPO_ROOT = Path(__file__).resolve().parents[2]
SCALE = 3600.0
# chalice's local server warns on every Cognito-authorized route; the system verifies tokens itself
pytestmark = pytest.mark.filterwarnings("ignore:CognitoUserPoolAuthorizer is not a supported in local mode")
ROLE = "arn:aws:iam::123456789012:role/test-sfn"

# --- the test app ------------------------------------------------------------------------------

app = Chalice(app_name="complaints")
auth = CognitoUserPoolAuthorizer("Pool", provider_arns=["arn:aws:cognito-idp:us-east-1:123456789012:userpool/x"])


class TransientError(Exception):
    """Raised by a handler; ASL Retry/Catch must see this very name."""


class Deliveries:
    """What the import handler saw, per message ``id`` of the body."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.batches: list[list[str]] = []

    def count(self, message_id: str) -> int:
        with self.lock:
            return len(self.by_id[message_id])


DELIVERIES = Deliveries()


@app.route("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.route("/whoami", authorizer=auth)
def whoami() -> Any:
    claims = (app.current_request.context.get("authorizer") or {}).get("claims")
    if not claims:
        return Response({"error": {"code": "unauthorized", "message": "no identity", "details": []}}, status_code=401)
    return {"user": claims["cognito:username"], "groups": claims["cognito:groups"]}


@app.lambda_function(name="lifecycle_step")
def lifecycle_step(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("action") == "fail":
        raise TransientError(f"step failed for {event.get('complaint_id')}")
    return {
        "action": event.get("action"),
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "arn": context.invoked_function_arn,
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }


@app.on_sqs_message(queue=infra.IMPORT_QUEUE_NAME, batch_size=10, name="import_batch")
def import_batch(event: SQSEvent) -> dict[str, Any]:
    failures = []
    records = event.to_dict()["Records"]
    with DELIVERIES.lock:
        DELIVERIES.batches.append([r["messageId"] for r in records])
    for record in records:
        body = json.loads(record["body"])
        with DELIVERIES.lock:
            seen = DELIVERIES.by_id[body["id"]]
            seen.append(
                {
                    "thread": threading.current_thread().name,
                    "receive_count": int(record["attributes"]["ApproximateReceiveCount"]),
                    "message_id": record["messageId"],
                }
            )
            if len(seen) <= body.get("fail_times", 0):
                failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


# --- fixtures and helpers ----------------------------------------------------------------------


def _start_execution(system: LocalSystem, definition: dict[str, Any], name: str, payload: Any = None) -> str:
    sfn = system.client("stepfunctions")
    machine = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
    return str(
        sfn.start_execution(stateMachineArn=machine, name=f"{name}-1", input=json.dumps(payload or {}))["executionArn"]
    )


def _finished(system: LocalSystem, execution_arn: str, timeout: float = 10.0) -> dict[str, Any]:
    sfn = system.client("stepfunctions")

    def done() -> dict[str, Any] | None:
        described = sfn.describe_execution(executionArn=execution_arn)
        return described if described["status"] != "RUNNING" else None

    result: dict[str, Any] = wait_until(done, timeout=timeout, what=f"{execution_arn} to finish")
    return result


def _system_timestamp(system: LocalSystem, after_seconds: float) -> str:
    moment = datetime.fromtimestamp(system.clock.now_timestamp() + after_seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="class")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSystem]:
    with LocalSystem(
        app=app, port=0, aws_port=0, time_scale=SCALE, secret_path=tmp_path_factory.mktemp("local") / "secret"
    ) as running:
        yield running


# --- the running system ------------------------------------------------------------------------


class TestRunningSystem:
    def test_stack_resources_are_shared_with_the_aws_endpoint(self, system: LocalSystem) -> None:
        # Given the stack created in-process from infra.resources
        names = infra.names(system.stage)
        # When a client of the moto server looks
        remote_tables = system.client("dynamodb").list_tables()["TableNames"]
        remote_machines = [m["name"] for m in system.client("stepfunctions").list_state_machines()["stateMachines"]]
        # Then it sees the same backends
        assert {names["table"], names["idempotency_table"]} <= set(remote_tables)
        assert names["lifecycle_state_machine"] in remote_machines
        assert system.env["LIFECYCLE_STATE_MACHINE_ARN"] == system.resources["LifecycleStateMachine"]
        # ... and the other way round
        system.client("sqs").create_queue(QueueName="made-remotely")
        assert "made-remotely" in str(system.client("sqs", in_process=True).list_queues()["QueueUrls"])

    def test_stack_state_machine_runs_with_substituted_function_arns(self, system: LocalSystem) -> None:
        # Given the lifecycle machine created by CloudFormation (DefinitionSubstitutions applied)
        definition = system.client("stepfunctions").describe_state_machine(
            stateMachineArn=system.env["LIFECYCLE_STATE_MACHINE_ARN"]
        )["definition"]
        # Then no placeholder is left and the Lambda ARNs are the app's functions
        assert "${" not in definition
        assert f"function:complaints-{system.stage}-lifecycle_step" in definition

    def test_an_hour_of_wait_takes_about_a_second(self, system: LocalSystem) -> None:
        # Given a machine waiting 3600 s, then until a timestamp an hour of system time ahead
        definition = {
            "StartAt": "Hour",
            "States": {
                "Hour": {"Type": "Wait", "Seconds": 3600, "Next": "Until"},
                "Until": {"Type": "Wait", "TimestampPath": "$.at", "End": True},
            },
        }
        started = time.monotonic()
        # When it runs
        execution = _start_execution(system, definition, "wait-hour", {"at": _system_timestamp(system, 2 * 3600)})
        result = _finished(system, execution, timeout=15)
        # Then both waits pass in seconds, not hours
        assert result["status"] == "SUCCEEDED"
        assert time.monotonic() - started < 10

    @pytest.mark.parametrize("heartbeat", [None, 600], ids=["timeout", "heartbeat"])
    def test_task_token_wait_of_two_hours_times_out_and_is_caught(self, system: LocalSystem, heartbeat: int | None) -> None:
        # Given a .waitForTaskToken task nobody answers, TimeoutSeconds two hours
        tokens: list[str] = []
        function = system.add_function(f"token-sink-{heartbeat}", lambda event, _ctx: tokens.append(event["token"]))
        task: dict[str, Any] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": function, "Payload": {"token.$": "$$.Task.Token"}},
            "TimeoutSeconds": 7200,
            "Catch": [{"ErrorEquals": ["States.Timeout", "States.HeartbeatTimeout"], "ResultPath": "$.error", "Next": "TimedOut"}],
            "End": True,
        }
        if heartbeat:
            task["HeartbeatSeconds"] = heartbeat
        definition = {"StartAt": "Await", "States": {"Await": task, "TimedOut": {"Type": "Pass", "End": True}}}
        started = time.monotonic()
        # When it runs
        execution = _start_execution(system, definition, f"token-timeout-{heartbeat}")
        result = _finished(system, execution, timeout=15)
        # Then the timeout fires within seconds and the Catch takes it
        assert result["status"] == "SUCCEEDED"
        assert json.loads(result["output"])["error"]["Error"] == "States.Timeout"  # moto: never HeartbeatTimeout
        assert len(tokens) == 1
        assert time.monotonic() - started < 10

    def test_task_token_success_resumes_the_execution(self, system: LocalSystem) -> None:
        # Given a task waiting for its token (a day)
        tokens: list[str] = []
        function = system.add_function("token-keeper", lambda event, _ctx: tokens.append(event["token"]))
        definition = {
            "StartAt": "Await",
            "States": {
                "Await": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "Parameters": {"FunctionName": function, "Payload": {"token.$": "$$.Task.Token"}},
                    "TimeoutSeconds": 86400,
                    "End": True,
                }
            },
        }
        execution = _start_execution(system, definition, "token-success")
        wait_until(lambda: tokens, what="the task token")
        # When someone answers over the AWS endpoint
        system.client("stepfunctions").send_task_success(taskToken=tokens[0], output=json.dumps({"answer": 42}))
        # Then the execution goes on with the answer
        result = _finished(system, execution)
        assert result["status"] == "SUCCEEDED"
        assert json.loads(result["output"]) == {"answer": 42}

    def test_lambda_tasks_run_python_and_error_names_reach_retry_and_catch(self, system: LocalSystem) -> None:
        # Given a machine calling the app's step function, which fails with TransientError
        arn = f"arn:aws:lambda:us-east-1:{system.account_id}:function:complaints-{system.stage}-lifecycle_step"
        definition = {
            "StartAt": "Ok",
            "States": {
                "Ok": {"Type": "Task", "Resource": arn, "Parameters": {"action": "ok"}, "ResultPath": "$.ok", "Next": "Fail"},
                "Fail": {
                    "Type": "Task",
                    "Resource": arn,
                    "Parameters": {"action": "fail", "complaint_id": "C-1"},
                    "Retry": [{"ErrorEquals": ["TransientError"], "IntervalSeconds": 60, "MaxAttempts": 2, "BackoffRate": 2}],
                    "Catch": [{"ErrorEquals": ["TransientError"], "ResultPath": "$.error", "Next": "Caught"}],
                    "End": True,
                },
                "Caught": {"Type": "Pass", "End": True},
            },
        }
        # When it runs
        result = _finished(system, _start_execution(system, definition, "lambda-errors"))
        # Then the Python code ran with a Lambda context, and the error kept its class name
        output = json.loads(result["output"])
        assert result["status"] == "SUCCEEDED"
        assert output["ok"]["function_name"] == f"complaints-{system.stage}-lifecycle_step"
        assert output["ok"]["memory"] == 512  # .chalice/config.json (dev) for lifecycle_step
        assert output["ok"]["remaining_ms"] > 0
        assert output["error"]["Error"] == "TransientError"
        history = system.client("stepfunctions").get_execution_history(executionArn=result["executionArn"])["events"]
        assert sum(e["type"] == "TaskFailed" or e["type"] == "LambdaFunctionFailed" for e in history) == 3  # 1 + 2 retries

    def test_direct_invoke_reports_function_errors_like_lambda(self, system: LocalSystem) -> None:
        # Given the app's step function over the AWS endpoint
        client = system.client("lambda")
        name = f"complaints-{system.stage}-lifecycle_step"
        # When invoked fine, and failing
        fine = client.invoke(FunctionName=name, Payload=json.dumps({"action": "ok"}))
        failed = client.invoke(FunctionName=name, Payload=json.dumps({"action": "fail"}))
        # Then the answers look like Lambda's
        assert "FunctionError" not in fine and json.loads(fine["Payload"].read())["action"] == "ok"
        assert failed["FunctionError"] == "Unhandled"
        error = json.loads(failed["Payload"].read())
        assert error["errorType"] == "TransientError" and "step failed" in error["errorMessage"]

    def test_import_queue_messages_reach_the_handler_once_in_batches(self, system: LocalSystem) -> None:
        # Given three messages sent to the import queue over the AWS endpoint
        sqs = system.client("sqs")
        ids = [f"ok-{n}" for n in range(3)]
        sqs.send_message_batch(
            QueueUrl=system.import_queue_url,
            Entries=[{"Id": str(n), "MessageBody": json.dumps({"id": i})} for n, i in enumerate(ids)],
        )
        # When the poller has handled them
        wait_until(lambda: all(DELIVERIES.count(i) for i in ids), what="all deliveries")
        wait_until(lambda: _queue_depth(system, system.import_queue_url) == 0, what="an empty queue")
        time.sleep(0.3)
        # Then each came once, through the poller (not moto's synchronous delivery in the sender)
        for message_id in ids:
            assert DELIVERIES.count(message_id) == 1
            assert DELIVERIES.by_id[message_id][0]["thread"].startswith("sqs-poller")

    def test_partial_batch_failures_are_redelivered_alone(self, system: LocalSystem) -> None:
        # Given a good message and one that fails the first time, in one send
        sqs = system.client("sqs")
        sqs.send_message_batch(
            QueueUrl=system.import_queue_url,
            Entries=[
                {"Id": "good", "MessageBody": json.dumps({"id": "partial-good"})},
                {"Id": "flaky", "MessageBody": json.dumps({"id": "partial-flaky", "fail_times": 1})},
            ],
        )
        # When the failed one comes back after the (scaled, >= 1 s) visibility timeout
        wait_until(lambda: DELIVERIES.count("partial-flaky") >= 2, timeout=10, what="a redelivery")
        wait_until(lambda: _queue_depth(system, system.import_queue_url) == 0, what="an empty queue")
        # Then only it was redelivered, with its receive count up
        assert DELIVERIES.count("partial-good") == 1
        assert [d["receive_count"] for d in DELIVERIES.by_id["partial-flaky"]] == [1, 2]

    def test_poison_message_lands_in_the_dlq_after_max_receive_count(self, system: LocalSystem) -> None:
        # Given a message that always fails
        sqs = system.client("sqs")
        sqs.send_message(QueueUrl=system.import_queue_url, MessageBody=json.dumps({"id": "poison", "fail_times": 99}))
        dlq = sqs.get_queue_url(QueueName=system.names["import_dlq"])["QueueUrl"]
        # When it has been received maxReceiveCount times
        moved = wait_until(
            lambda: sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"]).get("Messages"),
            timeout=20,
            what="the message in the DLQ",
        )
        # Then it is in the dead-letter queue, after exactly that many deliveries
        assert json.loads(moved[0]["Body"])["id"] == "poison"
        assert DELIVERIES.count("poison") == infra.IMPORT_MAX_RECEIVE_COUNT

    def test_sqs_delays_and_visibility_timeouts_are_scaled(self, system: LocalSystem) -> None:
        # Given a queue without a consumer, a message delayed 15 minutes
        sqs = system.client("sqs")
        url = sqs.create_queue(QueueName="scaled-timers")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=900)
        assert not sqs.receive_message(QueueUrl=url).get("Messages")
        # When it becomes visible (15 min / 3600 -> the 1 s floor) and is received for an hour
        received = wait_until(lambda: sqs.receive_message(QueueUrl=url, VisibilityTimeout=3600).get("Messages"), timeout=5)
        assert not sqs.receive_message(QueueUrl=url).get("Messages")
        # Then it comes back within seconds
        again = wait_until(lambda: sqs.receive_message(QueueUrl=url).get("Messages"), timeout=5)
        assert again[0]["MessageId"] == received[0]["MessageId"]

    def test_only_tokens_it_minted_get_through(self, system: LocalSystem) -> None:
        url = system.api_url + "/whoami"
        token = system.token("A-7", "agents")
        header, payload, signature = token.split(".")
        forged_payload = payload[:-4] + ("AAAA" if not payload.endswith("AAAA") else "BBBB")
        foreign = TokenIssuer(b"x" * 48).mint("A-7", "agents")
        expired = system.issuer.mint("A-7", "agents", ttl_seconds=-10)
        # Given/When/Then: the minted token passes with its claims
        ok = http("GET", url, token=token)
        assert ok.status == 200 and ok.json() == {"user": "A-7", "groups": ["agents"]}
        # tampered, foreign, expired or garbage tokens are refused before the app
        for bad in (f"{header}.{forged_payload}.{signature}", foreign, expired, "not-a-jwt"):
            refused = http("GET", url, token=bad)
            assert refused.status == 401, bad
            assert refused.json()["error"]["code"] == "unauthorized"
        # no Authorization header: the app gets no claims and answers 401 itself
        anonymous = http("GET", url)
        assert anonymous.status == 401 and anonymous.json()["error"]["message"] == "no identity"
        # routes without an authorizer still answer
        assert http("GET", system.api_url + "/health").status == 200


def _queue_depth(system: LocalSystem, url: str) -> int:
    attributes = system.client("sqs", in_process=True).get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


# --- start and stop ----------------------------------------------------------------------------


def test_stop_ends_executions_and_leaves_no_threads(tmp_path: Path) -> None:
    # Given a running system with executions waiting (a long Wait, a task token)
    before = set(threading.enumerate())
    environment = dict(os.environ)
    system = LocalSystem(app=app, port=0, aws_port=0, time_scale=SCALE, secret_path=tmp_path / "secret").start()
    try:
        function = system.add_function("never-answers", lambda _event, _ctx: {})
        waiting = _start_execution(system, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10**8, "End": True}}}, "w")
        token_task = {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": function, "Payload": {"token.$": "$$.Task.Token"}},
            "TimeoutSeconds": 10**8,
            "HeartbeatSeconds": 10**7,
            "End": True,
        }
        tokened = _start_execution(system, {"StartAt": "T", "States": {"T": token_task}}, "t")
        sfn = system.client("stepfunctions", in_process=True)
        wait_until(lambda: len(sfn.get_execution_history(executionArn=tokened)["events"]) >= 4, what="the task to start")
        assert http("GET", system.api_url + "/health").status == 200
    finally:
        started = time.monotonic()
        # When it stops
        system.stop()
        stop_seconds = time.monotonic() - started
    # Then quickly, with every execution aborted and every thread it started gone
    assert stop_seconds < 10
    assert not [t for t in threading.enumerate() if t not in before and not t.daemon]
    wait_until(lambda: not [t for t in threading.enumerate() if t not in before], timeout=5, what="its threads to end")
    assert dict(os.environ) == environment
    assert system.stopped_executions == {waiting: "ABORTED", tokened: "ABORTED"}


def test_two_systems_cannot_run_at_once(tmp_path: Path) -> None:
    second = LocalSystem(app=app, port=0, aws_port=0, secret_path=tmp_path / "secret")
    with (
        LocalSystem(app=app, port=0, aws_port=0, time_scale=SCALE, secret_path=tmp_path / "secret"),
        pytest.raises(RuntimeError, match="already running"),
    ):
        second.start()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_prints_a_quickstart_and_stops_on_a_signal(stop_signal: signal.Signals) -> None:
    # Given `python -m local serve` running this module's app
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "serve", "--port", "0", "--aws-port", "0", "--time-scale", "3600",
         "--app", __name__],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or []], daemon=True)
    reader.start()
    try:
        seen: list[str] = []
        deadline = time.monotonic() + 60
        while not any(line.startswith("Lifecycle events") for line in seen):
            assert time.monotonic() < deadline and process.poll() is None, "".join(seen)
            try:
                seen.append(lines.get(timeout=0.5))
            except queue.Empty:
                continue
        api_url = next(line.split()[1] for line in seen if line.strip().startswith("API"))
        assert http("GET", api_url + "/health").status == 200
        assert any(line.strip().startswith("export AGENT_TOKEN=") for line in seen)
        # When it gets Ctrl-C or SIGTERM
        process.send_signal(stop_signal)
        # Then it stops by itself within seconds
        assert process.wait(timeout=15) == 0
        assert "stopped" in (process.stderr.read() if process.stderr else "")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_token_command_prints_only_a_verifiable_jwt() -> None:
    output = subprocess.run(
        [sys.executable, "-m", "local", "token", "--user", "C-1001", "--group", "customers"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=60,
    ).stdout
    assert output.count("\n") == 1 and output.count(".") == 2
    claims = TokenIssuer.for_checkout().verify(output.strip())
    assert claims["cognito:username"] == "C-1001" and claims["cognito:groups"] == ["customers"]
    with pytest.raises(InvalidToken):
        TokenIssuer(b"y" * 48).verify(output.strip())


def test_timeline_items_format_as_console_lines() -> None:
    item = {
        "pk": {"S": "C#CMP-1"},
        "sk": {"S": "EV#2026-11-22T08:15:00Z#1"},
        "at": {"S": "2026-11-22T08:15:00Z"},
        "type": {"S": "escalated"},
        "actor": {"S": "system:sla"},
        "detail": {"M": {"level": {"N": "2"}, "clock": {"S": "first_contact"}, "nested": {"M": {}}}},
    }
    assert format_event(item) == "08:15:00 CMP-1 escalated by system:sla level=2 clock=first_contact"
    assert format_event({"pk": {"S": "CUST#1"}, "sk": {"S": "PROFILE"}}) is None
