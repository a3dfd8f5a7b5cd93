"""The one description of the system's AWS resources (everything but the Lambda functions).

`infra/` merges it into the template `chalice package` writes for AWS; the local system
creates exactly these resources in moto's CloudFormation. Nothing else declares a table,
queue, topic or state machine, so the two can never drift apart.

Lambda functions are Chalice's: a state machine refers to them through
``DefinitionSubstitutions`` naming the Chalice function's logical id (``FUNCTION_IDS``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from chalicelib.adapters.layout import INDEXES
from chalicelib.config import IMPORT_MAX_RECEIVE_COUNT, IMPORT_QUEUE_NAME
from chalicelib.models import TEAMS
from chalicelib.topics import ALERT_LEVELS

STATE_MACHINES_DIR = Path(__file__).resolve().parent.parent / "state_machines"
APP_NAME = "complaints"
TICKETS_STREAM_VIEW = "NEW_IMAGE"
# CloudWatch Logs retention of the functions' and state machines' logs, per stage (days).
LOG_RETENTION_DAYS = {"prod": 90}
DEFAULT_LOG_RETENTION_DAYS = 14
# ${Name} in an ASL file (JSONPath strings never contain "${").
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")

# Chalice lambda_function name -> logical id Chalice gives it in the packaged template.
FUNCTION_IDS = {
    "lifecycle_step": "LifecycleStep",
    "import_batch": "ImportBatch",
    "analytics": "Analytics",  # the tickets table's stream -> report aggregates
    "integration": "Integration",  # the tickets table's stream (timeline items) -> the event bus
    "api_handler": "APIHandler",
}
# ${Placeholder} in the ASL files -> Chalice function name whose ARN replaces it.
ASL_FUNCTION_PLACEHOLDERS = {
    "LifecycleStepFunctionArn": "lifecycle_step",
}


def names(stage: str) -> dict[str, str]:
    """Physical names of the resources for one stage."""
    prefix = f"{APP_NAME}-{stage}"
    return {
        "table": f"{prefix}-tickets",
        "idempotency_table": f"{prefix}-idempotency",
        "orders_table": f"{prefix}-orders",
        "uploads_bucket": f"{prefix}-uploads",  # + -<account>-<region>: bucket names are global
        "event_bus": prefix,  # the integration events (docs/integration.md)
        "integration_dlq": f"{prefix}-integration-failures",  # the integration mapping's on-failure destination
        "import_dlq": f"{prefix}-import-dlq",
        "lifecycle_state_machine": f"{prefix}-lifecycle",
        "customer_push_topic": f"{prefix}-customer-push",
        **{f"alerts_team_{team}": f"{prefix}-alerts-{team}" for team in TEAMS},
        **{f"alerts_level_{level}": f"{prefix}-alerts-level-{level}" for level in ALERT_LEVELS},
    }


def function_names(stage: str) -> dict[str, str]:
    """Chalice function name -> the deployed Lambda function's name (``chalice deploy``'s
    scheme: ``<app>-<stage>-<name>``, the REST API handler is ``<app>-<stage>``)."""
    prefix = f"{APP_NAME}-{stage}"
    return {name: prefix if name == "api_handler" else f"{prefix}-{name}" for name in FUNCTION_IDS}


def log_retention_days(stage: str) -> int:
    return LOG_RETENTION_DAYS.get(stage, DEFAULT_LOG_RETENTION_DAYS)


def asl_placeholders(definition: str) -> list[str]:
    """The ``${Placeholder}`` names an ASL text uses, sorted."""
    return sorted(set(_PLACEHOLDER.findall(definition)))


def state_machine_files() -> dict[str, Path]:
    """``lifecycle`` -> ``state_machines/lifecycle.asl.json`` for every ASL file."""
    return {p.name.removesuffix(".asl.json"): p for p in sorted(STATE_MACHINES_DIR.glob("*.asl.json"))}


def _logical(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))


def _table(name: str, key: tuple[str, str], gsis: dict[str, tuple[str, str]], ttl: str | None) -> dict[str, Any]:
    attributes = {a for a in (key[0], key[1], *(a for pair in gsis.values() for a in pair)) if a}
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


# The ticket table's indexes (see README "Table design"): the store's key layout.
TICKET_INDEXES = INDEXES


# Uploads still tagged unattached are deleted after this many days (see uploads_bucket).
UNATTACHED_UPLOAD_DAYS = 7
UPLOADS_PREFIX = "uploads/"


def uploads_bucket_name(stage: str, account_id: str, region: str) -> str:
    return f"{names(stage)['uploads_bucket']}-{account_id}-{region}"


def uploads_bucket(stage: str) -> dict[str, Any]:
    """Customers' photos and videos (chalicelib/adapters/attachments.py): private, encrypted,
    TLS only. Every upload is tagged ``state=unattached`` by its presigned POST's policy and
    expires after UNATTACHED_UPLOAD_DAYS unless a complaint attached it, which retags it
    ``state=attached`` (no rule expires those: they are kept as long as the complaint, like the
    tickets table, and the bucket is retained with the stack's data)."""
    arn = {"Fn::GetAtt": ["UploadsBucket", "Arn"]}
    objects = {"Fn::Sub": "${UploadsBucket.Arn}/*"}
    return {
        "UploadsBucket": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BucketName": {"Fn::Sub": names(stage)["uploads_bucket"] + "-${AWS::AccountId}-${AWS::Region}"},
                "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                   "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]},
                "LifecycleConfiguration": {"Rules": [
                    {"Id": "expire-unattached-uploads", "Status": "Enabled", "Prefix": UPLOADS_PREFIX,
                     "TagFilters": [{"Key": "state", "Value": "unattached"}],
                     "ExpirationInDays": UNATTACHED_UPLOAD_DAYS},
                    {"Id": "abort-incomplete-uploads", "Status": "Enabled",
                     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
                ]},
            },
        },
        "UploadsBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "UploadsBucket"},
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                    "Resource": [arn, objects], "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }]},
            },
        },
    }


def resources(stage: str) -> dict[str, Any]:
    """CloudFormation ``Resources`` for one stage (Lambda ARNs via ``Fn::GetAtt``)."""
    n = names(stage)
    res: dict[str, Any] = {
        "TicketsTable": _table(n["table"], ("pk", "sk"), TICKET_INDEXES, ttl="expires_at"),
        "IdempotencyTable": _table(n["idempotency_table"], ("id", ""), {}, ttl="expiration"),
        # the order directory the platform's order sync keeps (chalicelib/adapters/orders.py)
        # (TTL on expires_at: the sync may let an order go once no complaint can be filed on it)
        "OrdersTable": _table(n["orders_table"], ("order_id", ""), {}, ttl="expires_at"),
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
        **uploads_bucket(stage),
        "EventBus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": n["event_bus"]}},
        # where the integration function's stream mapping records a batch it gave up on (it
        # retries without limit, so only records older than the stream's 24 h land here)
        "IntegrationFailureQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": n["integration_dlq"], "MessageRetentionPeriod": 1209600,
                           "SqsManagedSseEnabled": True},
        },
    }
    # Every ticket change, for the analytics function that keeps the report aggregates
    # (chalicelib/reports/): the new image is all it needs.
    res["TicketsTable"]["Properties"]["StreamSpecification"] = {"StreamViewType": TICKETS_STREAM_VIEW}
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
        res.update(_state_machine(stage, machine, path.read_text(encoding="utf-8")))
    return res


def _state_machine(stage: str, machine: str, definition: str) -> dict[str, Any]:
    """The state machine, its execution log group and its role (which may invoke exactly the
    functions its ASL names, and deliver its logs and traces)."""
    logical = f"{_logical(machine)}StateMachine"
    unknown = [p for p in asl_placeholders(definition) if p not in ASL_FUNCTION_PLACEHOLDERS]
    if unknown:
        raise ValueError(f"{machine}.asl.json uses ${{{unknown[0]}}}: add it to ASL_FUNCTION_PLACEHOLDERS")
    function_arns = {
        placeholder: {"Fn::GetAtt": [FUNCTION_IDS[ASL_FUNCTION_PLACEHOLDERS[placeholder]], "Arn"]}
        for placeholder in asl_placeholders(definition)
    }
    invokable: list[Any] = list(function_arns.values())
    invokable += [{"Fn::Join": ["", [arn, ":*"]]} for arn in function_arns.values()]  # versions, aliases
    name = f"{APP_NAME}-{stage}-{machine}"
    return {
        f"{logical}LogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                # the /aws/vendedlogs/ prefix keeps the account's log resource policy small
                "LogGroupName": f"/aws/vendedlogs/states/{name}",
                "RetentionInDays": log_retention_days(stage),
            },
        },
        f"{logical}Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": f"Step Functions state machine {name}",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Principal": {"Service": "states.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                    }],
                },
                "Policies": [{
                    "PolicyName": "state-machine",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Sid": "InvokeTheFunctionsOfTheDefinition", "Effect": "Allow",
                             "Action": "lambda:InvokeFunction", "Resource": invokable},
                            # CloudWatch Logs' log-delivery APIs have no resource-level permissions.
                            {"Sid": "DeliverExecutionLogs", "Effect": "Allow", "Action": [
                                "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                                "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                                "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
                            ], "Resource": "*"},
                            # X-Ray has no resource-level permissions.
                            {"Sid": "SendTraces", "Effect": "Allow", "Action": [
                                "xray:PutTraceSegments", "xray:PutTelemetryRecords",
                                "xray:GetSamplingRules", "xray:GetSamplingTargets",
                            ], "Resource": "*"},
                        ],
                    },
                }],
            },
        },
        logical: {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "StateMachineName": name,
                "StateMachineType": "STANDARD",
                "DefinitionString": definition,
                "DefinitionSubstitutions": function_arns,
                "RoleArn": {"Fn::GetAtt": [f"{logical}Role", "Arn"]},
                "TracingConfiguration": {"Enabled": True},
                "LoggingConfiguration": {
                    "Level": "ALL",
                    # execution data holds customers' contact details: kept out of prod logs
                    "IncludeExecutionData": stage != "prod",
                    "Destinations": [{"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": [f"{logical}LogGroup", "Arn"]}}}],
                },
            },
        },
    }


def staff_alert_topics(stage: str, arn_of: Any) -> dict[str, Any]:
    """The STAFF_ALERT_TOPICS mapping, given a function that turns a logical id into its ARN."""
    topics = {f"team:{team}": arn_of(f"Alerts{team.capitalize()}Topic") for team in TEAMS}
    topics.update({f"level:{level}": arn_of(f"AlertsLevel{level}Topic") for level in ALERT_LEVELS})
    return topics


def load_asl(machine: str) -> dict[str, Any]:
    return json.loads(state_machine_files()[machine].read_text(encoding="utf-8"))
