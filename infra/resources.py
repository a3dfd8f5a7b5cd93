"""The one description of the system's AWS resources (everything but the Lambda functions).

`infra/` merges it into the template `chalice package` writes for AWS; the local system
creates exactly these resources in moto's CloudFormation. Nothing else declares a table,
queue, topic or state machine, so the two can never drift apart.

Lambda functions are Chalice's: a state machine refers to them through
``DefinitionSubstitutions`` naming the Chalice function's logical id (``FUNCTION_IDS``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalicelib.config import IMPORT_QUEUE_NAME

STATE_MACHINES_DIR = Path(__file__).resolve().parent.parent / "state_machines"
APP_NAME = "complaints"
TEAMS = ("product", "logistics", "service")
ALERT_LEVELS = (2, 3)  # level 1 goes to the owning team's topic (its team lead)
IMPORT_MAX_RECEIVE_COUNT = 5

# Chalice lambda_function name -> logical id Chalice gives it in the packaged template.
FUNCTION_IDS = {
    "lifecycle_step": "LifecycleStep",
    "notify": "Notify",
    "import_batch": "ImportBatch",
    "api_handler": "APIHandler",
}
# ${Placeholder} in the ASL files -> Chalice function name whose ARN replaces it.
ASL_FUNCTION_PLACEHOLDERS = {
    "LifecycleStepFunctionArn": "lifecycle_step",
    "NotifyFunctionArn": "notify",
}


def names(stage: str) -> dict[str, str]:
    """Physical names of the resources for one stage."""
    prefix = f"{APP_NAME}-{stage}"
    return {
        "table": f"{prefix}-tickets",
        "idempotency_table": f"{prefix}-idempotency",
        "import_dlq": f"{prefix}-import-dlq",
        "lifecycle_state_machine": f"{prefix}-lifecycle",
        "customer_push_topic": f"{prefix}-customer-push",
        **{f"alerts_team_{team}": f"{prefix}-alerts-{team}" for team in TEAMS},
        **{f"alerts_level_{level}": f"{prefix}-alerts-level-{level}" for level in ALERT_LEVELS},
    }


def state_machine_files() -> dict[str, Path]:
    """``lifecycle`` -> ``state_machines/lifecycle.asl.json`` for every ASL file."""
    return {p.name.removesuffix(".asl.json"): p for p in sorted(STATE_MACHINES_DIR.glob("*.asl.json"))}


def _logical(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))


def _table(name: str, key: tuple[str, str], gsis: dict[str, tuple[str, str]], ttl: str | None) -> dict[str, Any]:
    attributes = {key[0], key[1], *(a for pair in gsis.values() for a in pair)}
    props: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)],
        "KeySchema": [{"AttributeName": key[0], "KeyType": "HASH"}]
        + ([{"AttributeName": key[1], "KeyType": "RANGE"}] if key[1] else []),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "DeletionProtectionEnabled": True,
        "SSESpecification": {"SSEEnabled": True},
    }
    if gsis:
        props["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": pk, "KeyType": "HASH"},
                    {"AttributeName": sk, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, (pk, sk) in gsis.items()
        ]
    if ttl:
        props["TimeToLiveSpecification"] = {"AttributeName": ttl, "Enabled": True}
    return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": props}


# The ticket table's indexes (see README "Table design").
TICKET_INDEXES = {
    "by_customer": ("customer_pk", "created_sk"),
    "team_queue": ("queue_pk", "queue_sk"),
    "by_order": ("order_pk", "created_sk"),
}


def resources(stage: str) -> dict[str, Any]:
    """CloudFormation ``Resources`` for one stage (Lambda ARNs via ``Fn::GetAtt``)."""
    n = names(stage)
    res: dict[str, Any] = {
        "TicketsTable": _table(n["table"], ("pk", "sk"), TICKET_INDEXES, ttl="expires_at"),
        "IdempotencyTable": _table(n["idempotency_table"], ("id", ""), {}, ttl="expiration"),
        "ImportDeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": n["import_dlq"], "MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True},
        },
        "ImportQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": f"{IMPORT_QUEUE_NAME}-{stage}" if stage != "dev" else IMPORT_QUEUE_NAME,
                "VisibilityTimeout": 360,  # 6x the import function's timeout
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": ["ImportDeadLetterQueue", "Arn"]},
                    "maxReceiveCount": IMPORT_MAX_RECEIVE_COUNT,
                },
            },
        },
        "CustomerPushTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": n["customer_push_topic"]}},
    }
    for team in TEAMS:
        res[f"Alerts{team.capitalize()}Topic"] = {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": n[f"alerts_team_{team}"]},
        }
    for level in ALERT_LEVELS:
        res[f"AlertsLevel{level}Topic"] = {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": n[f"alerts_level_{level}"]},
        }
    for machine, path in state_machine_files().items():
        res[f"{_logical(machine)}StateMachine"] = {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "StateMachineName": f"{APP_NAME}-{stage}-{machine}",
                "StateMachineType": "STANDARD",
                "DefinitionString": path.read_text(encoding="utf-8"),
                "DefinitionSubstitutions": {
                    placeholder: {"Fn::GetAtt": [FUNCTION_IDS[function], "Arn"]}
                    for placeholder, function in ASL_FUNCTION_PLACEHOLDERS.items()
                },
                "RoleArn": {"Fn::GetAtt": [f"{_logical(machine)}StateMachineRole", "Arn"]},
                "TracingConfiguration": {"Enabled": True},
            },
        }
    return res


def staff_alert_topics(stage: str, arn_of: Any) -> dict[str, Any]:
    """The STAFF_ALERT_TOPICS mapping, given a function that turns a logical id into its ARN."""
    topics = {f"team:{team}": arn_of(f"Alerts{team.capitalize()}Topic") for team in TEAMS}
    topics.update({f"level:{level}": arn_of(f"AlertsLevel{level}Topic") for level in ALERT_LEVELS})
    return topics


def load_asl(machine: str) -> dict[str, Any]:
    return json.loads(state_machine_files()[machine].read_text(encoding="utf-8"))
