"""The merge template: everything ``chalice package`` does not write, plus the few patches of
the resources it does write. Chalice deep-merges it into ``sam.json``
(``chalice package --merge-template``): dicts merge key by key, anything else is replaced.

What it adds: the stage's resources (``infra.resources`` - tables, queues, topics, state
machines with their roles and log groups: the very description the local system creates in
moto), one IAM role and log group per function (``infra.iam``), the Cognito user pool with its
groups and app client, the agent console's hosting and hosted-UI sign-in (``infra.console``),
the alarms, their topic and the dashboard (``infra.monitoring``), the parameters and the outputs.

What it patches in Chalice's resources: each function's name, role, tracing, environment and
log group; the import function's SQS event (the stage's queue, ``ReportBatchItemFailures``);
the REST API's name, tracing, throttling, the Cognito authorizer's user pool ARN and CORS
headers on API Gateway's own error answers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

from chalicelib.config import Settings
from chalicelib.models import Group
from infra import console, iam, monitoring
from infra.resources import (
    APP_NAME,
    FUNCTION_IDS,
    function_names,
    log_retention_days,
    names,
    resources,
    staff_alert_topics,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
# The authorizer's name in app.py (CognitoUserPoolAuthorizer("ComplaintsUserPool", ...)).
AUTHORIZER_NAME = "ComplaintsUserPool"
# Chalice names an SQS event source "<FunctionLogicalId>SqsEventSource".
IMPORT_EVENT = "ImportBatchSqsEventSource"
# ... and a DynamoDB stream source "<FunctionLogicalId>DynamodbEventSource".
ANALYTICS_EVENT = "AnalyticsDynamodbEventSource"
# Only ticket items reach the analytics function (not timeline events, nor its own aggregates).
ANALYTICS_FILTER = {"dynamodb": {"Keys": {"sk": {"S": ["TICKET"]}}}}
INTEGRATION_EVENT = "IntegrationDynamodbEventSource"
# Only new timeline items reach the integration function: the outbox (chalicelib/integration/).
INTEGRATION_FILTER = {"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "EV#"}]}}}}
# Stream mapping settings the local system honours too (local/streams.py): function -> settings.
STREAM_MAPPINGS: dict[str, dict[str, Any]] = {
    # redelivery is harmless (per-ticket version guard)
    "analytics": {"filter": ANALYTICS_FILTER, "max_retries": 20},
    # an event is never dropped: retried until the bus takes it (-1 = no limit; a record older
    # than the stream's 24 h retention is reported to the failure queue, with an alarm)
    "integration": {"filter": INTEGRATION_FILTER, "max_retries": -1},
}
GROUPS: tuple[str, ...] = get_args(Group)  # customers, agents, supervisors, ops
GROUP_PRECEDENCE = {"ops": 0, "supervisors": 1, "agents": 2, "customers": 3}  # lower wins
GROUP_DESCRIPTIONS = {
    "customers": "Customers: submit, follow and rate their own complaints",
    "agents": "Agents: work their team's queue (contact, resolve, escalate, notes)",
    "supervisors": "Supervisors: agents' rights plus customer profiles and import reports",
    "ops": "Operations: everything supervisors may do",
}
DEFAULT_EMAIL_SENDER = Settings.model_fields["email_sender"].default
API_THROTTLING = {"prod": (200, 100), "dev": (50, 20)}  # (burst, rate per second) per stage


def chalice_config(project_dir: Path = REPO_ROOT) -> dict[str, Any]:
    return json.loads((project_dir / ".chalice" / "config.json").read_text(encoding="utf-8"))


def api_stage_name(stage: str, config: dict[str, Any] | None = None) -> str:
    """API Gateway stage name Chalice uses for a Chalice stage (``api`` unless configured)."""
    config = config or chalice_config()
    stage_config = config.get("stages", {}).get(stage, {})
    return str(stage_config.get("api_gateway_stage", config.get("api_gateway_stage", "api")))


def environment(stage: str) -> dict[str, Any]:
    """The variables of ``chalicelib.config`` every function reads, as template values."""
    n = names(stage)
    return {
        "TABLE_NAME": {"Ref": "TicketsTable"},
        "IDEMPOTENCY_TABLE_NAME": {"Ref": "IdempotencyTable"},
        "ORDERS_TABLE_NAME": {"Ref": "OrdersTable"},
        "UPLOADS_BUCKET": {"Ref": "UploadsBucket"},
        "EVENT_BUS_NAME": {"Ref": "EventBus"},
        # built from the name: a Ref would make the functions the machine invokes depend on it (a cycle)
        "LIFECYCLE_STATE_MACHINE_ARN": {
            "Fn::Sub": f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{n['lifecycle_state_machine']}"
        },
        "STAFF_ALERT_TOPICS": {
            "Fn::Sub": json.dumps(staff_alert_topics(stage, lambda logical_id: "${" + logical_id + "}"), sort_keys=True)
        },
        "CUSTOMER_PUSH_TOPIC_ARN": {"Ref": "CustomerPushTopic"},
        "EMAIL_SENDER": {"Ref": "EmailSender"},
        "CONSOLE_ORIGIN": {"Fn::Sub": console.ORIGIN},  # CORS: the agent console's origin only
    }


def function_log_groups(stage: str) -> dict[str, Any]:
    return {
        iam.log_group_id(function): {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": f"/aws/lambda/{name}", "RetentionInDays": log_retention_days(stage)},
        }
        for function, name in function_names(stage).items()
    }


def function_patches(stage: str) -> dict[str, Any]:
    """Merged into Chalice's ``AWS::Serverless::Function`` resources."""
    patches: dict[str, Any] = {}
    for function, name in function_names(stage).items():
        patches[FUNCTION_IDS[function]] = {
            "DependsOn": [iam.log_group_id(function)],
            "Properties": {
                "FunctionName": name,
                "Role": {"Fn::GetAtt": [iam.role_id(function), "Arn"]},
                "Tracing": "Active",
                "Environment": {"Variables": environment(stage)},
            },
        }
    patches[FUNCTION_IDS["import_batch"]]["Properties"]["Events"] = {
        IMPORT_EVENT: {
            "Properties": {
                # Chalice wrote {"Fn::Sub": "...:complaints-import"}; the merge can only replace
                # values, not dicts, so this must be a Fn::Sub too
                "Queue": {"Fn::Sub": "${ImportQueue.Arn}"},
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
            }
        }
    }
    patches[FUNCTION_IDS["analytics"]]["Properties"]["Events"] = {
        ANALYTICS_EVENT: {
            "Properties": {
                # Chalice wrote the placeholder ARN of app.py (a string: replaced whole)
                "Stream": {"Fn::GetAtt": ["TicketsTable", "StreamArn"]},
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "BisectBatchOnFunctionError": True,
                "MaximumRetryAttempts": STREAM_MAPPINGS["analytics"]["max_retries"],
                "FilterCriteria": {"Filters": [{"Pattern": json.dumps(ANALYTICS_FILTER)}]},
            }
        }
    }
    patches[FUNCTION_IDS["integration"]]["Properties"]["Events"] = {
        INTEGRATION_EVENT: {
            "Properties": {
                "Stream": {"Fn::GetAtt": ["TicketsTable", "StreamArn"]},
                # answers the first record to redeliver: the rest of the shard waits, in order
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "MaximumRetryAttempts": STREAM_MAPPINGS["integration"]["max_retries"],
                "MaximumRecordAgeInSeconds": -1,
                "ParallelizationFactor": 1,  # one batch per shard at a time: per-complaint order
                "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["IntegrationFailureQueue", "Arn"]}}},
                "FilterCriteria": {"Filters": [{"Pattern": json.dumps(INTEGRATION_FILTER)}]},
            }
        }
    }
    return patches


def api_patch(stage: str, api_stage: str) -> dict[str, Any]:
    burst, rate = API_THROTTLING.get(stage, API_THROTTLING["dev"])
    return {
        "RestAPI": {
            "Properties": {
                "Name": monitoring.api_name(stage),
                "TracingEnabled": True,
                "MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*",
                                    "ThrottlingBurstLimit": burst, "ThrottlingRateLimit": rate}],
                "DefinitionBody": {
                    "securityDefinitions": {
                        AUTHORIZER_NAME: {"x-amazon-apigateway-authorizer": {"providerARNs": [{"Fn::GetAtt": ["UserPool", "Arn"]}]}}
                    },
                    "x-amazon-apigateway-gateway-responses": console.gateway_responses(),
                },
            }
        }
    }


def cognito(stage: str) -> dict[str, Any]:
    prod = stage == "prod"
    res: dict[str, Any] = {
        "UserPool": {
            "Type": "AWS::Cognito::UserPool",
            "DeletionPolicy": "Retain" if prod else "Delete",
            "UpdateReplacePolicy": "Retain" if prod else "Delete",
            "Properties": {
                "UserPoolName": f"{APP_NAME}-{stage}-users",
                # usernames are the platform's ids (customer_id for customers): the platform's
                # account service creates users and puts them in their group
                "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
                "AutoVerifiedAttributes": ["email"],
                "AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
                "Policies": {"PasswordPolicy": {
                    "MinimumLength": 12, "RequireLowercase": True, "RequireUppercase": True,
                    "RequireNumbers": True, "RequireSymbols": False, "TemporaryPasswordValidityDays": 3,
                }},
                "MfaConfiguration": "OPTIONAL",
                "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
                "DeletionProtection": "ACTIVE" if prod else "INACTIVE",
            },
        },
        "UserPoolClient": {
            "Type": "AWS::Cognito::UserPoolClient",
            "Properties": {
                "ClientName": f"{APP_NAME}-{stage}-app",
                "UserPoolId": {"Ref": "UserPool"},
                "GenerateSecret": False,
                "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                "PreventUserExistenceErrors": "ENABLED",
                "EnableTokenRevocation": True,
                "IdTokenValidity": 60, "AccessTokenValidity": 60, "RefreshTokenValidity": 30,
                "TokenValidityUnits": {"IdToken": "minutes", "AccessToken": "minutes", "RefreshToken": "days"},
                **console.user_pool_client_oauth(),  # the agent console's hosted-UI sign-in
            },
        },
    }
    for group in GROUPS:
        res[f"{group.capitalize()}Group"] = {
            "Type": "AWS::Cognito::UserPoolGroup",
            "Properties": {
                "UserPoolId": {"Ref": "UserPool"},
                "GroupName": group,
                "Description": GROUP_DESCRIPTIONS[group],
                "Precedence": GROUP_PRECEDENCE[group],
            },
        }
    return res


def parameters(stage: str) -> dict[str, Any]:
    return {
        "EmailSender": {
            "Type": "String",
            "Default": DEFAULT_EMAIL_SENDER,
            "AllowedPattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
            "Description": "From address of customer e-mails; must be an SES-verified identity (address or its domain)",
        },
        "AlarmEmail": {
            "Type": "String",
            "Default": "",
            "Description": "Optional e-mail address subscribed to the ops alarm topic (confirm the subscription mail)",
        },
        **monitoring.parameters(stage),
        **console.parameters(),
    }


def outputs(stage: str) -> dict[str, Any]:
    def out(description: str, value: Any) -> dict[str, Any]:
        return {"Description": description, "Value": value}

    return {
        "EndpointURL": {"Description": "Base URL of the REST API"},  # Chalice writes its Value
        "UserPoolId": out("Cognito user pool (groups: " + ", ".join(GROUPS) + ")", {"Ref": "UserPool"}),
        "UserPoolClientId": out("Cognito app client id (SRP sign-in, no secret)", {"Ref": "UserPoolClient"}),
        "TicketsTableName": out("DynamoDB table of tickets, events, profiles and import reports", {"Ref": "TicketsTable"}),
        "ImportQueueUrl": out("Marketplace batches are sent here", {"Ref": "ImportQueue"}),
        "ImportDeadLetterQueueUrl": out("Import messages that failed maxReceiveCount times", {"Ref": "ImportDeadLetterQueue"}),
        "LifecycleStateMachineArn": out("The complaint lifecycle workflow", {"Ref": "LifecycleStateMachine"}),
        "OrdersTableName": out("The order directory the platform's order sync keeps (docs/integration.md)",
                               {"Ref": "OrdersTable"}),
        "EventBusName": out("Integration events (source complaints): put a rule on it to subscribe", {"Ref": "EventBus"}),
        "UploadsBucketName": out("Customers' photos and videos (private; presigned uploads and downloads)",
                                 {"Ref": "UploadsBucket"}),
        "AlarmTopicArn": out("Subscribe ops here (alarms)", {"Ref": monitoring.ALARM_TOPIC}),
        "StaffAlertTopics": out("Staff alert topics (subscribe team leads and escalation levels)", {
            "Fn::Sub": json.dumps(staff_alert_topics(stage, lambda logical_id: "${" + logical_id + "}"), sort_keys=True)
        }),
        "DashboardUrl": out("CloudWatch dashboard", {
            "Fn::Sub": f"https://${{AWS::Region}}.console.aws.amazon.com/cloudwatch/home?region=${{AWS::Region}}#dashboards:name={APP_NAME}-{stage}"
        }),
        **console.outputs(stage),
    }


def merge_template(stage: str, project_dir: Path = REPO_ROOT) -> dict[str, Any]:
    """The template ``chalice package --merge-template`` merges into its ``sam.json``."""
    api_stage = api_stage_name(stage, chalice_config(project_dir))
    res: dict[str, Any] = {
        **resources(stage),
        **iam.function_roles(stage),
        **function_log_groups(stage),
        **cognito(stage),
        **console.resources(stage),
        **monitoring.alarm_topic(stage),
        **monitoring.alarms(stage, api_stage),
        **monitoring.dashboard(stage, api_stage),
        **function_patches(stage),
        **api_patch(stage, api_stage),
    }
    return {
        "Description": f"Complaint management ({stage}): Chalice app + tables, queues, topics, workflow, "
                       "user pool, agent console, alarms and dashboard. Built by `make package`; see infra/README.md.",
        "Parameters": parameters(stage),
        "Conditions": {"HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}},
        "Resources": res,
        "Outputs": outputs(stage),
    }


# Logical ids of the resources chalice package writes that the merge template patches.
def chalice_patched_ids() -> set[str]:
    return {*FUNCTION_IDS.values(), "RestAPI"}
