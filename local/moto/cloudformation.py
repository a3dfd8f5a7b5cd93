"""``AWS::StepFunctions::StateMachine`` in a moto CloudFormation stack, as AWS creates it.

moto 5.2.5 creates a stack's state machine in the *recording* Step Functions backend (the API
then says StateMachineDoesNotExist when ``execute_state_machine`` is on) and ignores both
``DefinitionSubstitutions`` and the ``Definition`` object. The patched resource creates it
through the backend the API uses, with the substitutions applied.

The targets are checked by ``tests/unit/test_moto_contract.py``; see ``docs/local-engine.md``.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from typing import Any

from local.moto._targets import Target

CREATE = Target("moto.stepfunctions.models.StateMachine", "create_from_cloudformation_json",
                "a stack's state machine in the executing backend, DefinitionSubstitutions applied",
                "(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)")
DELETE = Target("moto.stepfunctions.models.StateMachine", "delete_from_cloudformation_json",
                "deleted from the backend it was created in",
                "(cls, resource_name, cloudformation_json, account_id, region_name)")
GET_BACKEND = Target("moto.stepfunctions.responses", "get_backend",
                     "the backend the Step Functions API uses (the executing one when configured)",
                     "(account, region)")
TARGETS = (CREATE, DELETE, GET_BACKEND)


def substitute(definition: str, substitutions: dict[str, Any]) -> str:
    """``${Name}`` -> value, as CloudFormation's ``DefinitionSubstitutions``."""
    for name, value in substitutions.items():
        definition = definition.replace("${" + name + "}", str(value))
    return definition


def _create(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
            **kwargs: Any) -> Any:
    from moto.stepfunctions.responses import get_backend

    properties = cloudformation_json["Properties"]
    name = properties.get("StateMachineName", resource_name)
    definition = properties.get("DefinitionString")
    if definition is None:
        definition = json.dumps(properties.get("Definition", {}))
    definition = substitute(definition, properties.get("DefinitionSubstitutions") or {})
    tags = [{"key": t["Key"], "value": t["Value"]} for t in properties.get("Tags", [])]
    return get_backend(account_id, region_name).create_state_machine(
        name,
        definition,
        properties.get("RoleArn", ""),
        tags=tags or None,
        loggingConfiguration=properties.get("LoggingConfiguration"),
        tracingConfiguration=properties.get("TracingConfiguration"),
        sm_type=properties.get("StateMachineType", "STANDARD"),
    )


def _delete(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str) -> None:
    from moto.stepfunctions.responses import get_backend

    get_backend(account_id, region_name).delete_state_machine(resource_name)


def state_machines() -> ExitStack:
    """``AWS::StepFunctions::StateMachine`` in a stack -> the executing backend (the one the
    API uses with ``execute_state_machine``), ``DefinitionSubstitutions`` applied."""
    stack = ExitStack()
    stack.enter_context(CREATE.replaced_by(classmethod(_create)))
    stack.enter_context(DELETE.replaced_by(classmethod(_delete)))
    return stack
