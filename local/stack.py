"""Deploy the system into moto: Chalice's functions, then ``infra.resources`` as a stack.

The resources come from ``infra.resources.resources(stage)`` - the same description the
AWS template is built from - through moto's CloudFormation, never from a second copy. The
Lambda functions are Chalice's (not in that description): they are created first, with the
names Chalice gives them, and the stack's ``Fn::GetAtt [<FunctionLogicalId>, Arn]`` are
replaced by their ARNs before ``create_stack``.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chalice.app import Chalice, SQSEventConfig

from infra import resources as infra

REGION = "us-east-1"
LAMBDA_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
PSEUDO_PARAMETERS = {"AWS::Region", "AWS::AccountId", "AWS::StackName", "AWS::StackId", "AWS::Partition", "AWS::URLSuffix", "AWS::NoValue"}


@dataclass(frozen=True)
class LocalFunction:
    """One Lambda function of the app, as Chalice would deploy it."""

    name: str  # Chalice's name: lifecycle_step, import_batch, api_handler ...
    function_name: str  # complaints-<stage>-lifecycle_step
    logical_id: str  # LifecycleStep
    handler_string: str  # app.lifecycle_step
    handler: Callable[[Any, Any], Any]
    sqs: SQSEventConfig | None = None


def _chalice_logical_id(name: str) -> str:
    return infra.FUNCTION_IDS.get(name) or "".join(part.capitalize() for part in name.split("_"))


def app_functions(app: Chalice, stage: str) -> list[LocalFunction]:
    """Every function ``chalice package`` would emit for ``app``: ``lambda_function``s, event
    sources (SQS ...), and the REST API handler (named ``<app>-<stage>`` like Chalice does)."""
    prefix = f"{infra.APP_NAME}-{stage}"
    functions = [
        LocalFunction(f.name, f"{prefix}-{f.name}", _chalice_logical_id(f.name), f.handler_string, app.handler_map[f.name])
        for f in app.pure_lambda_functions
    ]
    for source in app.event_sources:
        functions.append(
            LocalFunction(
                source.name,
                f"{prefix}-{source.name}",
                _chalice_logical_id(source.name),
                source.handler_string,
                app.handler_map[source.name],
                sqs=source if isinstance(source, SQSEventConfig) else None,
            )
        )
    if app.routes:
        functions.append(LocalFunction("api_handler", prefix, infra.FUNCTION_IDS["api_handler"], "app.app", app))
    return functions


def _code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "# runs in-process in the local system (local/lambda_dispatch.py)\n")
    return buffer.getvalue()


def create_lambda_role(iam: Any, stage: str) -> str:
    name = f"{infra.APP_NAME}-{stage}-lambda"
    return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST_POLICY))["Role"]["Arn"])


def create_function(
    lambda_client: Any, function_name: str, handler_string: str, role_arn: str, timeout: int = 60, memory: int = 128
) -> str:
    response = lambda_client.create_function(
        FunctionName=function_name,
        Runtime=f"python{sys.version_info.major}.{sys.version_info.minor}",
        Role=role_arn,
        Handler=handler_string,
        Code={"ZipFile": _code_zip()},
        Timeout=timeout,
        MemorySize=memory,
    )
    return str(response["FunctionArn"])


@dataclass
class TemplateFixes:
    """What :func:`resolve_external_references` had to change, for the report."""

    function_arns: dict[str, str] = field(default_factory=dict)  # logical id -> ARN put in
    dummy_arns: dict[str, str] = field(default_factory=dict)  # missing logical id -> dummy ARN


def resolve_external_references(
    resources: dict[str, Any], function_arns: dict[str, str], account_id: str
) -> tuple[dict[str, Any], TemplateFixes]:
    """Replace ``Fn::GetAtt [X, Arn]`` of resources outside the stack: Lambda functions by
    their real ARNs; anything else missing (say an IAM role the infra has not declared yet) by
    a dummy role ARN, recorded in the returned fixes so it gets reported."""
    fixes = TemplateFixes()

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::GetAtt"}:
                target, attribute = node["Fn::GetAtt"][0], node["Fn::GetAtt"][1]
                if target not in resources:
                    if attribute != "Arn":
                        raise ValueError(f"Fn::GetAtt [{target}, {attribute}]: {target} is not in the stack")
                    if target in function_arns:
                        fixes.function_arns[target] = function_arns[target]
                        return function_arns[target]
                    dummy = f"arn:aws:iam::{account_id}:role/local-missing-{target}"
                    fixes.dummy_arns[target] = dummy
                    return dummy
            if set(node) == {"Ref"} and node["Ref"] not in resources and node["Ref"] not in PSEUDO_PARAMETERS:
                raise ValueError(f"Ref {node['Ref']}: not in the stack")
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return walk(resources), fixes


def create_stack(cloudformation: Any, stage: str, resources: dict[str, Any]) -> dict[str, str]:
    """Create the stack; returns logical id -> physical id (table name, queue URL, ARN ...)."""
    stack_name = f"{infra.APP_NAME}-{stage}"
    template = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    cloudformation.create_stack(StackName=stack_name, TemplateBody=json.dumps(template))
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"stack {stack_name}: {stack['StackStatus']} {stack.get('StackStatusReason', '')}")
    listed = cloudformation.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in listed}


def chalice_environment(project_dir: Path, stage: str) -> dict[str, str]:
    """``environment_variables`` of ``.chalice/config.json``: global, then the stage's (``dev``'s
    when the stage is not declared there), minus ``STAGE`` which the local system sets."""
    from local.http import config_stage, read_chalice_config

    from_disk = read_chalice_config(project_dir)
    stage_config = from_disk.get("stages", {}).get(config_stage(from_disk, stage), {})
    env = {**from_disk.get("environment_variables", {}), **stage_config.get("environment_variables", {})}
    env.pop("STAGE", None)
    return {str(k): str(v) for k, v in env.items()}


def expected_environment(stage: str, account_id: str, region: str = REGION) -> dict[str, str]:
    """The app's resource variables, computed from ``infra.resources`` before the stack exists
    (the app must be imported - to list its functions - before the stack can be created).
    :func:`check_environment` verifies them against the stack afterwards."""
    res = infra.resources(stage)

    def arn_of(logical_id: str) -> str:
        props = res[logical_id]["Properties"]
        kind = res[logical_id]["Type"]
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{region}:{account_id}:{props['TopicName']}"
        if kind == "AWS::StepFunctions::StateMachine":
            return f"arn:aws:states:{region}:{account_id}:stateMachine:{props['StateMachineName']}"
        raise ValueError(f"no ARN rule for {kind}")

    return {
        "STAGE": stage,
        "TABLE_NAME": res["TicketsTable"]["Properties"]["TableName"],
        "IDEMPOTENCY_TABLE_NAME": res["IdempotencyTable"]["Properties"]["TableName"],
        "ORDERS_TABLE_NAME": res["OrdersTable"]["Properties"]["TableName"],
        "UPLOADS_BUCKET": infra.uploads_bucket_name(stage, account_id, region),
        "EVENT_BUS_NAME": res["EventBus"]["Properties"]["Name"],
        "LIFECYCLE_STATE_MACHINE_ARN": arn_of("LifecycleStateMachine"),
        "STAFF_ALERT_TOPICS": json.dumps(infra.staff_alert_topics(stage, arn_of), sort_keys=True),
        "CUSTOMER_PUSH_TOPIC_ARN": arn_of("CustomerPushTopic"),
    }


def check_environment(env: dict[str, str], physical: dict[str, str], stage: str) -> None:
    """The variables handed to the app name exactly what the stack created."""

    def arn_of(logical_id: str) -> str:
        return physical[logical_id]

    actual = {
        "TABLE_NAME": physical["TicketsTable"],
        "IDEMPOTENCY_TABLE_NAME": physical["IdempotencyTable"],
        "ORDERS_TABLE_NAME": physical["OrdersTable"],
        "UPLOADS_BUCKET": physical["UploadsBucket"],
        # moto 5.2.5 gives an event bus no physical id (AWS: its name); the bus is there all the same
        "EVENT_BUS_NAME": physical["EventBus"].rsplit("/", 1)[-1] or infra.names(stage)["event_bus"],
        "LIFECYCLE_STATE_MACHINE_ARN": physical["LifecycleStateMachine"],
        "STAFF_ALERT_TOPICS": json.dumps(infra.staff_alert_topics(stage, arn_of), sort_keys=True),
        "CUSTOMER_PUSH_TOPIC_ARN": physical["CustomerPushTopic"],
    }
    wrong = {k: (env.get(k), v) for k, v in actual.items() if env.get(k) != v}
    if wrong:
        raise RuntimeError(f"environment does not match the stack: {wrong}")


def queue_for_event_source(source: SQSEventConfig, physical: dict[str, str], sqs: Any) -> str:
    """Queue URL an ``on_sqs_message`` handler reads. ``infra.resources`` names the import
    queue ``complaints-import`` only for stage ``dev`` (``complaints-import-<stage>``
    otherwise) while the decorator always says ``complaints-import``: the handler of
    ``IMPORT_QUEUE_NAME`` reads the stack's ``ImportQueue`` whatever its name."""
    if source.queue == infra.IMPORT_QUEUE_NAME and "ImportQueue" in physical:
        return physical["ImportQueue"]
    if source.queue_arn:
        return str(sqs.get_queue_url(QueueName=source.queue_arn.rsplit(":", 1)[-1])["QueueUrl"])
    return str(sqs.get_queue_url(QueueName=source.queue)["QueueUrl"])
