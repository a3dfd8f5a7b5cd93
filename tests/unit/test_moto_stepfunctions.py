"""The Step Functions patches of the local engine (``local/moto/stepfunctions.py``), through
boto3 on moto's executing backend. Lambda tasks call moto's Docker-less Lambda, which echoes
the event back (the local system's dispatcher is not needed here)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from local.moto import stepfunctions
from local.testing import wait_until
from local.timescale import TimeScale

REGION = "us-east-1"
SCALE = 3600.0
CONFIG: Any = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
ROLE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
     "Action": "sts:AssumeRole"}]})


class Aws:
    def __init__(self) -> None:
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.lam = boto3.client("lambda", region_name=REGION)
        self.role = boto3.client("iam", region_name=REGION).create_role(
            RoleName="r", AssumeRolePolicyDocument=ROLE_POLICY)["Role"]["Arn"]
        self.function = self.lam.create_function(FunctionName="echo", Runtime="python3.11", Role=self.role,
                                                 Handler="x.h", Code={"ZipFile": b"0"})["FunctionArn"]

    def machine(self, definition: dict[str, Any], name: str = "m") -> str:
        return str(self.sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=self.role)[
            "stateMachineArn"])

    def start(self, machine: str, name: str, payload: Any) -> str:
        return str(self.sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(payload))["executionArn"])

    def finished(self, arn: str, timeout: float = 20) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            described = self.sfn.describe_execution(executionArn=arn)
            return None if described["status"] == "RUNNING" else described
        result: dict[str, Any] = wait_until(done, timeout=timeout, interval=0.02, what=f"{arn} to end")
        return result

    def history(self, arn: str) -> list[dict[str, Any]]:
        return list(self.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"])


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws(config=CONFIG), stepfunctions.patched(TimeScale(SCALE)):
        aws = Aws()
        yield aws
        _stop_all(aws)


def _stop_all(aws: Aws) -> None:
    for machine in aws.sfn.list_state_machines()["stateMachines"]:
        for execution in aws.sfn.list_executions(stateMachineArn=machine["stateMachineArn"],
                                                 statusFilter="RUNNING")["executions"]:
            aws.sfn.stop_execution(executionArn=execution["executionArn"])


def lambda_task(function: str, **extra: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": function, "Payload.$": "$"}, "ResultSelector": {"echo.$": "$.Payload"},
            **extra}


def token_task(function: str, **extra: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": function, "Payload": {"token.$": "$$.Task.Token"}}, **extra}


def _token(aws: Aws, arn: str) -> str | None:
    for event in aws.history(arn):
        if event["type"] == "TaskScheduled":
            return str(json.loads(event["taskScheduledEventDetails"]["parameters"])["Payload"]["token"])
    return None


def test_each_execution_runs_its_own_copy_of_one_parse(aws: Aws) -> None:
    # Given a machine with paths, a Map and a Choice, created (moto validates it by parsing it)
    definition = {"StartAt": "Shape", "States": {
        "Shape": {"Type": "Pass", "Parameters": {"who.$": "$.who", "items.$": "$.items"}, "Next": "Each"},
        "Each": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.doubled",
                 "Iterator": {"StartAt": "Double", "States": {
                     "Double": {"Type": "Pass", "Parameters": {"n.$": "$", "who": "item"}, "End": True}}},
                 "Next": "Which"},
        "Which": {"Type": "Choice", "Choices": [{"Variable": "$.who", "StringEquals": "a", "Next": "A"}],
                  "Default": "Other"},
        "A": {"Type": "Pass", "Result": "was a", "ResultPath": "$.branch", "End": True},
        "Other": {"Type": "Pass", "Result": "was other", "ResultPath": "$.branch", "End": True}}}
    machine = aws.machine(definition)
    original = AmazonStateLanguageParser.parse
    stepfunctions.parsed_program.clear()
    with mock.patch.object(AmazonStateLanguageParser, "parse", side_effect=original) as parse:
        # When four executions with different inputs run at once
        inputs = {f"e{n}": {"who": "a" if n % 2 else "b", "items": list(range(n + 1))} for n in range(4)}
        arns = {name: aws.start(machine, name, payload) for name, payload in inputs.items()}
        outputs = {name: json.loads(aws.finished(arn)["output"]) for name, arn in arns.items()}
    # Then each got its own answer, and the definition was parsed once for all of them
    for name, payload in inputs.items():
        assert outputs[name] == {**payload, "doubled": [{"n": i, "who": "item"} for i in payload["items"]],
                                 "branch": "was a" if payload["who"] == "a" else "was other"}
    assert parse.call_count == 1


def test_task_clients_are_built_once_and_paths_parsed_once(aws: Aws) -> None:
    machine = aws.machine({"StartAt": "One", "States": {
        "One": lambda_task(aws.function, ResultPath="$.one", Next="Two"),
        "Two": lambda_task(aws.function, InputPath="$.one", ResultPath="$.two", OutputPath="$.two", End=True)}})
    aws.finished(aws.start(machine, "warm", {"n": 0}))  # the first client is built here
    from botocore.session import Session

    created: list[str] = []
    original = Session.create_client

    def create_client(self: Session, service_name: str, *args: Any, **kwargs: Any) -> Any:
        created.append(service_name)
        return original(self, service_name, *args, **kwargs)

    with mock.patch.object(Session, "create_client", create_client):
        outputs = [json.loads(aws.finished(aws.start(machine, f"e{n}", {"n": n}))["output"]) for n in range(3)]
    assert outputs == [{"echo": {"echo": {"n": n}}} for n in range(3)]
    assert created == []
    from moto.stepfunctions.parser.asl.utils import json_path

    assert json_path.parse.cache_info().hits > 0  # type: ignore[attr-defined]


def test_a_waiting_execution_holds_one_thread_and_resumes_with_its_token(aws: Aws) -> None:
    # Given ten executions waiting on a task token
    machine = aws.machine({"StartAt": "Wait", "States": {"Wait": token_task(aws.function, End=True)}})
    before = threading.active_count()
    arns = [aws.start(machine, f"w{n}", {}) for n in range(10)]
    tokens = [wait_until(lambda arn=arn: _token(aws, arn), what="the task to be scheduled") for arn in arns]
    wait_until(lambda: all(e["type"] == "TaskSubmitted" for e in aws.history(arns[-1])[-1:]), what="the last to wait")
    # Then they hold one thread each (moto: three)
    assert threading.active_count() - before <= len(arns) + 2
    # And each resumes with the output its token was sent
    for n, token in enumerate(tokens):
        aws.sfn.send_task_success(taskToken=token, output=json.dumps({"n": n}))
    assert [json.loads(aws.finished(arn)["output"]) for arn in arns] == [{"n": n} for n in range(10)]


@pytest.mark.parametrize("heartbeats", [False, True], ids=["silent", "heartbeats-keep-coming"])
def test_a_token_wait_ends_at_its_scaled_timeout(aws: Aws, heartbeats: bool) -> None:
    # Given a two-hour task-token wait (two seconds at x3600) with a one-hour heartbeat
    machine = aws.machine({"StartAt": "Wait", "States": {
        "Wait": token_task(aws.function, TimeoutSeconds=7200, HeartbeatSeconds=3600, Next="Done", Catch=[
            {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "TimedOut"}]),
        "TimedOut": {"Type": "Pass", "Result": "timed out", "ResultPath": "$.outcome", "End": True},
        "Done": {"Type": "Succeed"}}})
    arn = aws.start(machine, "t", {})
    token = wait_until(lambda: _token(aws, arn), what="the task to be scheduled")
    # When nobody sends the token (and, maybe, heartbeats keep it from a heartbeat timeout)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(0.2):
            try:
                aws.sfn.send_task_heartbeat(taskToken=token)
            except Exception:  # the task is over
                return

    beater = threading.Thread(target=beat, daemon=True)
    if heartbeats:
        beater.start()
    try:
        described = aws.finished(arn, timeout=30)
    finally:
        stop.set()
    # Then the task's timeout ends the wait, caught as States.Timeout
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["outcome"] == "timed out"


def test_a_machine_timeout_is_scaled(aws: Aws) -> None:
    machine = aws.machine({"TimeoutSeconds": 3600, "StartAt": "Long", "States": {
        "Long": {"Type": "Wait", "Seconds": 10**7, "End": True}}})
    assert aws.finished(aws.start(machine, "m", {}), timeout=30)["status"] == "TIMED_OUT"


def test_moto_keeps_no_list_of_every_thread(aws: Aws) -> None:
    from moto.stepfunctions.parser.utils import TMP_THREADS

    before = len(TMP_THREADS)
    machine = aws.machine({"StartAt": "One", "States": {"One": lambda_task(aws.function, End=True)}})
    for n in range(3):
        aws.finished(aws.start(machine, f"e{n}", {}))
    assert len(TMP_THREADS) == before


def test_states_run_inline_unless_a_watcher_thread_has_work() -> None:
    definition = json.dumps({"StartAt": "Plain", "States": {
        "Plain": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "Next": "Timed"},
        "Timed": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "TimeoutSeconds": 5,
                  "Next": "Token"},
        "Token": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "TimeoutSeconds": 60,
                  "Parameters": {"FunctionName": "f", "Payload": {"t.$": "$$.Task.Token"}}, "Next": "Sync"},
        "Sync": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                 "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:x"}, "Next": "Act"},
        "Act": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:a", "Next": "Fan"},
        "Fan": {"Type": "Map", "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "End": True}}})
    states = stepfunctions.parsed_program(definition).states.states
    inline = {name: stepfunctions.runs_inline(state) for name, state in states.items()}
    assert inline == {"Plain": True, "Timed": False, "Token": True, "Sync": False, "Act": False, "Fan": True}
