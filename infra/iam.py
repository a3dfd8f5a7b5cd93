"""One IAM role per Lambda function, granting exactly what that function's code calls.

The grants are derived from two small tables that a test keeps honest against the code
(``tests/integration/test_infra.py``): which ``TicketStore`` methods each function's modules
call (``FUNCTION_STORE_METHODS``) and which DynamoDB actions each method needs
(``STORE_METHOD_ACCESS``). Everything else a function touches is listed per function below.

``Resource: "*"`` appears only where AWS offers no resource-level permission:
``WILDCARD_RESOURCE_ACTIONS`` is the complete list (X-Ray, Step Functions' task-token
callbacks, SNS direct-to-phone SMS, the CloudWatch Logs delivery APIs of state machines).
"""

from __future__ import annotations

from typing import Any

from chalicelib.models import TEAMS
from chalicelib.topics import ALERT_LEVELS
from infra.resources import FUNCTION_IDS, TICKET_INDEXES, function_names

# Actions that AWS authorizes only against "*" (no resource ARN exists for them).
WILDCARD_RESOURCE_ACTIONS = frozenset({
    # X-Ray: no resource-level permissions.
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
    # Callbacks are authorized by the opaque task token, not by a state machine ARN.
    "states:SendTaskSuccess", "states:SendTaskFailure",
    # SMS straight to a phone number: the "resource" is the number, which has no ARN.
    "sns:Publish",
    # Vended log delivery of Step Functions (see infra/resources.py).
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
})

TABLE_ARN: dict[str, Any] = {"Fn::GetAtt": ["TicketsTable", "Arn"]}
IDEMPOTENCY_TABLE_ARN: dict[str, Any] = {"Fn::GetAtt": ["IdempotencyTable", "Arn"]}
ORDERS_TABLE_ARN: dict[str, Any] = {"Fn::GetAtt": ["OrdersTable", "Arn"]}
UPLOADS: dict[str, Any] = {"Fn::Sub": "${UploadsBucket.Arn}/uploads/*"}

# DynamoDBTicketStore method -> (DynamoDB action, index or None for the base table) it needs.
STORE_METHOD_ACCESS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "create": (("dynamodb:PutItem", None),),
    "create_many": (("dynamodb:PutItem", None),),  # TransactWriteItems of conditional Puts
    "get_tickets": (("dynamodb:BatchGetItem", None),),
    "save": (("dynamodb:PutItem", None),),  # TransactWriteItems of Puts
    "set_wait_token": (("dynamodb:UpdateItem", None),),
    "add_events": (("dynamodb:PutItem", None),),
    "get_ticket": (("dynamodb:GetItem", None),),
    "get_with_timeline": (("dynamodb:Query", None),),
    "delete": (("dynamodb:Query", None), ("dynamodb:BatchWriteItem", None)),
    "by_customer": (("dynamodb:Query", "by_customer"),),
    "team_queue": (("dynamodb:Query", "team_queue"),),
    "open_on_order": (("dynamodb:Query", "by_order"),),
    "get_profile": (("dynamodb:GetItem", None),),
    "put_profile": (("dynamodb:PutItem", None),),
    "put_import_report": (("dynamodb:PutItem", None),),
    "get_import_report": (("dynamodb:GetItem", None),),
    "corrections_between": (("dynamodb:Query", None),),  # one key query per month bucket
}

# Chalice function -> the chalicelib modules its entry point runs, and the store methods they call.
FUNCTION_MODULES: dict[str, tuple[str, ...]] = {
    "api_handler": ("intake", "actions", "changes", "queries", "reports"),
    "lifecycle_step": ("steps", "changes", "outbox"),
    "import_batch": ("importer",),
    "analytics": ("reports",),
    "integration": ("integration",),
}
FUNCTION_STORE_METHODS: dict[str, frozenset[str]] = {
    "api_handler": frozenset({
        "create", "delete",  # intake
        "get_ticket", "save", "add_events",  # actions (through changes.apply)
        "get_with_timeline", "by_customer", "team_queue", "put_profile", "get_import_report",  # queries
    }),
    "lifecycle_step": frozenset({"get_ticket", "get_profile", "save", "add_events", "set_wait_token", "open_on_order"}),
    "import_batch": frozenset({"create_many", "get_tickets", "put_import_report"}),
    "analytics": frozenset(),  # reads the stream, writes only the report aggregates (below)
    "integration": frozenset(),  # reads the stream, puts events (below)
}
# Powertools' DynamoDB idempotency persistence layer (intake's Idempotency-Key).
IDEMPOTENCY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
IMPORT_QUEUE_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility")
# The report aggregates (chalicelib/reports/aggregates.py): items whose partition key starts with AGG.
AGGREGATE_KEYS = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["AGG*"]}}
# What Lambda's event source mapping needs of the tickets table's stream.
STREAM_READ_ACTIONS = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams")


def role_id(function: str) -> str:
    return f"{FUNCTION_IDS[function]}Role"


def log_group_id(function: str) -> str:
    return f"{FUNCTION_IDS[function]}LogGroup"


def _statement(sid: str, actions: list[str] | tuple[str, ...], resources: list[Any] | str, **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources, **extra}


def table_statements(function: str) -> list[dict[str, Any]]:
    """The ticket-table grants of one function, from the store methods it calls."""
    by_resource: dict[str | None, set[str]] = {}
    for method in FUNCTION_STORE_METHODS[function]:
        for action, index in STORE_METHOD_ACCESS[method]:
            by_resource.setdefault(index, set()).add(action)
    statements = []
    if None in by_resource:
        statements.append(_statement("TicketsTable", sorted(by_resource.pop(None)), [TABLE_ARN]))
    for index in sorted(i for i in by_resource if i is not None):
        if index not in TICKET_INDEXES:
            raise ValueError(f"store method queries an index the table does not have: {index}")
        arn = {"Fn::Sub": "${TicketsTable.Arn}/index/" + index}
        statements.append(_statement(f"TicketsIndex{''.join(p.capitalize() for p in index.split('_'))}",
                                     sorted(by_resource[index]), [arn]))
    return statements


def _state_machine_arn() -> dict[str, Any]:
    return {"Ref": "LifecycleStateMachine"}


def _topic_arns() -> list[dict[str, Any]]:
    topics = [f"Alerts{team.capitalize()}Topic" for team in TEAMS] + [f"AlertsLevel{n}Topic" for n in ALERT_LEVELS]
    return [{"Ref": t} for t in [*topics, "CustomerPushTopic"]]


def function_statements(function: str) -> list[dict[str, Any]]:
    """Everything beyond logs and traces that one function may do."""
    statements = table_statements(function)
    if function == "api_handler":
        statements += [
            _statement("IdempotencyTable", IDEMPOTENCY_ACTIONS, [IDEMPOTENCY_TABLE_ARN]),
            # intake verifies the order, GET /orders/{id}/prefill reads it (adapters/orders.py)
            _statement("ReadOrders", ["dynamodb:GetItem"], [ORDERS_TABLE_ARN]),
            # presigned POST (PutObject with its tag) and GET of uploads; HeadObject at intake
            _statement("SignAndCheckUploads", ["s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"], [UPLOADS]),
            _statement("StartLifecycle", ["states:StartExecution"], [_state_machine_arn()]),
            _statement("ResumeLifecycle", ["states:SendTaskSuccess"], "*"),
            # GET /reports/*: Queries of the aggregate items (chalicelib/reports/dynamodb.py)
            _statement("ReadReportAggregates", ["dynamodb:Query"], [TABLE_ARN], Condition=AGGREGATE_KEYS),
        ]
    elif function == "import_batch":
        statements += [
            _statement("StartLifecycle", ["states:StartExecution"], [_state_machine_arn()]),
            _statement("ReadImportQueue", IMPORT_QUEUE_ACTIONS, [{"Fn::GetAtt": ["ImportQueue", "Arn"]}]),
            _statement("ReadOrders", ["dynamodb:BatchGetItem"], [ORDERS_TABLE_ARN]),
            _statement("CheckUploads", ["s3:GetObject"], [UPLOADS]),
        ]
    elif function == "analytics":
        statements += [
            _statement("ReadTheTicketStream", STREAM_READ_ACTIONS, [{"Fn::GetAtt": ["TicketsTable", "StreamArn"]}]),
            _statement("KeepReportAggregates", ["dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                       [TABLE_ARN], Condition=AGGREGATE_KEYS),
        ]
    elif function == "integration":
        statements += [
            _statement("ReadTheTicketStream", STREAM_READ_ACTIONS, [{"Fn::GetAtt": ["TicketsTable", "StreamArn"]}]),
            _statement("PutIntegrationEvents", ["events:PutEvents"], [{"Fn::GetAtt": ["EventBus", "Arn"]}]),
            _statement("KeepAttachedUploads", ["s3:PutObjectTagging"], [UPLOADS]),
            _statement("RecordGivenUpBatches", ["sqs:SendMessage"], [{"Fn::GetAtt": ["IntegrationFailureQueue", "Arn"]}]),
        ]
    elif function == "lifecycle_step":  # sends each step's notifications itself (chalicelib/outbox.py)
        sender_domain = {"Fn::Select": [1, {"Fn::Split": ["@", {"Ref": "EmailSender"}]}]}
        statements += [
            # the await step ends its own wait (the ticket moved, or the complaint is closed)
            _statement("AnswerOwnWait", ["states:SendTaskSuccess", "states:SendTaskFailure"], "*"),
            _statement("PublishToTheTopics", ["sns:Publish"], _topic_arns()),
            _statement("SendSmsToPhoneNumbers", ["sns:Publish"], "*"),
            _statement(
                "SendEmailFromTheSender", ["ses:SendEmail"],
                [{"Fn::Sub": ["arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${Identity}",
                              {"Identity": identity}]} for identity in (sender_domain, {"Ref": "EmailSender"})],
                Condition={"StringEquals": {"ses:FromAddress": {"Ref": "EmailSender"}}},
            ),
        ]
    return statements


def function_role(stage: str, function: str) -> dict[str, Any]:
    name = function_names(stage)[function]
    log_group = {"Fn::Sub": f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:/aws/lambda/{name}:*"}
    statements = [
        # the log group is created by the template (log_groups), so no logs:CreateLogGroup
        _statement("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [log_group]),
        _statement("SendTraces", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*"),
        *function_statements(function),
    ]
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": f"Lambda function {name}",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
            },
            "Policies": [{"PolicyName": "function", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}],
        },
    }


def function_roles(stage: str) -> dict[str, Any]:
    return {role_id(function): function_role(stage, function) for function in FUNCTION_IDS}
