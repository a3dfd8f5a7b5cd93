"""Step Functions implementation of the ``Workflow`` port: start a complaint's lifecycle,
end its waits (success with the next plan, or failure with an error it catches)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.ports import WorkflowUnavailable

# Answers of SendTaskSuccess meaning "that wait is over" (timed out, already answered):
# the action is already on the ticket and the workflow's own timeout step picks it up.
STALE_TOKEN_ERRORS = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})


def execution_arn(state_machine_arn: str, complaint_id: str) -> str:
    """The execution of a complaint: named after it, so there is never a second one."""
    return state_machine_arn.replace(":stateMachine:", ":execution:") + f":{complaint_id}"


class StepFunctionsWorkflow:
    def __init__(self, sfn: Any, state_machine_arn: str) -> None:
        self.sfn, self.arn = sfn, state_machine_arn

    def start(self, complaint_id: str) -> str:
        try:
            resp = self.sfn.start_execution(stateMachineArn=self.arn, name=complaint_id,
                                            input=json.dumps({"complaint_id": complaint_id}))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return execution_arn(self.arn, complaint_id)
            raise WorkflowUnavailable(str(exc)) from exc
        return str(resp["executionArn"])

    def resume(self, token: str, output: dict[str, Any]) -> bool:
        """False if the wait already ended (the timer won the race: the workflow reads the
        action from the ticket)."""
        return self._answer(lambda: self.sfn.send_task_success(taskToken=token, output=json.dumps(output)))

    def fail(self, token: str, error: str, cause: str) -> bool:
        return self._answer(lambda: self.sfn.send_task_failure(taskToken=token, error=error, cause=cause))

    @staticmethod
    def _answer(call: Callable[[], Any]) -> bool:
        try:
            call()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in STALE_TOKEN_ERRORS:
                return False
            raise
        return True
