"""One contract, two workflows: ``TestMemoryWorkflow`` runs against the in-memory workflow
and, subclassed, against Step Functions on moto's executing interpreter (a machine that waits
for a task token the way ``Await`` does, handing it out through SQS)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.adapters.memory import MemoryWorkflow
from chalicelib.adapters.ports import Workflow, WorkflowUnavailable
from chalicelib.adapters.workflow import StepFunctionsWorkflow, execution_arn

ROLE = "arn:aws:iam::123456789012:role/states"


class TestMemoryWorkflow:
    @pytest.fixture
    def workflow(self) -> Workflow:
        return MemoryWorkflow()

    def open_wait(self, workflow: Any, complaint_id: str) -> str:
        """The task token the complaint's execution now waits with."""
        return str(workflow.wait(complaint_id))

    def executions(self, workflow: Any, complaint_id: str) -> int:
        return int(workflow.starts.count(complaint_id))

    def moved_on(self, workflow: Any, complaint_id: str) -> None:
        """Until the execution has left the wait that was answered."""

    @pytest.fixture
    def unavailable(self) -> Workflow:
        """A workflow whose starts fail."""
        broken = MemoryWorkflow()
        broken.fail_starts = 1
        return broken

    def test_start_is_one_execution_per_complaint(self, workflow: Workflow) -> None:
        first = workflow.start("CMP-1")
        again = workflow.start("CMP-1")
        assert first == again and first.endswith(":CMP-1") and ":execution:" in first
        assert self.executions(workflow, "CMP-1") == 1

    def test_a_start_that_fails_is_unavailable(self, unavailable: Workflow) -> None:
        with pytest.raises(WorkflowUnavailable):
            unavailable.start("CMP-2")

    def test_a_wait_is_answered_once(self, workflow: Workflow) -> None:
        workflow.start("CMP-3")
        token = self.open_wait(workflow, "CMP-3")
        assert workflow.resume(token, {"next": "await_agent", "wait_s": 60, "version": 2}) is True
        self.moved_on(workflow, "CMP-3")
        assert workflow.resume(token, {"next": "await_agent", "wait_s": 60, "version": 2}) is False  # that wait is over

    def test_a_wait_can_be_failed_once_with_the_error_the_machine_catches(self, workflow: Workflow) -> None:
        workflow.start("CMP-4")
        token = self.open_wait(workflow, "CMP-4")
        assert workflow.fail(token, "ComplaintClosed", "complaint is closed") is True
        self.moved_on(workflow, "CMP-4")
        assert workflow.resume(token, {"next": "closed", "wait_s": 0, "version": 3}) is False  # that wait is over

    def test_a_token_nobody_handed_out_is_refused(self, workflow: Workflow) -> None:
        assert workflow.resume("no-such-token", {"next": "closed", "wait_s": 0, "version": 1}) is False
        assert workflow.fail("no-such-token", "ComplaintClosed", "complaint is closed") is False


WAITING_MACHINE = {
    "StartAt": "AwaitAgent",
    "States": {"AwaitAgent": {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "${queue}", "MessageBody": {"complaint_id.$": "$.complaint_id", "token.$": "$$.Task.Token"}},
        "TimeoutSeconds": 60,
        "End": True,
    }},
}


class TestStepFunctionsWorkflow(TestMemoryWorkflow):
    @pytest.fixture
    def sfn(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            client = boto3.client("stepfunctions")
            yield client
            self.answer_every_wait(client)  # no interpreter thread outlives the test

    def answer_every_wait(self, sfn: Any) -> None:
        """End the executions still waiting: a stopped execution's thread would sleep on until
        its task timeout, in whatever test runs next in this process."""
        if hasattr(self, "queue"):
            for _ in range(10):
                messages = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages", [])
                if not messages:
                    break
                for message in messages:
                    sfn.send_task_failure(taskToken=json.loads(message["Body"])["token"], error="TestOver")
        for machine in sfn.list_state_machines()["stateMachines"]:
            for e in sfn.list_executions(stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING")["executions"]:
                self.stop(sfn, e["executionArn"])

    @staticmethod
    def stop(sfn: Any, arn: str) -> None:
        """Stop one execution. moto's interpreter raises AttributeError when its thread has no
        environment at that instant (not started yet, or just ended): look again, and retry while
        it still runs."""
        for _ in range(40):
            try:
                sfn.stop_execution(executionArn=arn)
                return
            except AttributeError:
                if sfn.describe_execution(executionArn=arn)["status"] != "RUNNING":
                    return
                time.sleep(0.05)

    @pytest.fixture
    def workflow(self, sfn: Any) -> Workflow:  # type: ignore[override]  # pytest fixture with another dependency
        self.sqs = boto3.client("sqs")
        self.queue = self.sqs.create_queue(QueueName="tokens")["QueueUrl"]
        definition = json.dumps(WAITING_MACHINE).replace("${queue}", self.queue)
        arn = sfn.create_state_machine(name="lifecycle", definition=definition, roleArn=ROLE)["stateMachineArn"]
        self.sfn = sfn
        return StepFunctionsWorkflow(sfn, arn)

    @pytest.fixture
    def unavailable(self, sfn: Any) -> Workflow:  # type: ignore[override]
        return StepFunctionsWorkflow(sfn, "arn:aws:states:us-east-1:123456789012:stateMachine:not-deployed")

    def open_wait(self, workflow: Any, complaint_id: str) -> str:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for message in self.sqs.receive_message(QueueUrl=self.queue, WaitTimeSeconds=0).get("Messages", []):
                body = json.loads(message["Body"])
                if body["complaint_id"] == complaint_id:
                    return str(body["token"])
            time.sleep(0.05)
        raise AssertionError(f"the execution of {complaint_id} never waited")

    def executions(self, workflow: Any, complaint_id: str) -> int:
        listed = self.sfn.list_executions(stateMachineArn=workflow.arn)["executions"]
        return sum(1 for e in listed if e["name"] == complaint_id)

    def moved_on(self, workflow: Any, complaint_id: str) -> None:
        arn = execution_arn(workflow.arn, complaint_id)
        deadline = time.monotonic() + 20
        while self.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            assert time.monotonic() < deadline, f"{complaint_id} kept waiting after it was answered"
            time.sleep(0.05)
