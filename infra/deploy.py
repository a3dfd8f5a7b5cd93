"""``python -m infra deploy --stage dev|prod``: ``build/<stage>`` to a CloudFormation stack.

With boto3 (no AWS CLI or SAM CLI needed), in the account and region of your credentials:

1. the bundle and the template go to an artifact bucket (``complaints-deploy-<account>-<region>``
   unless ``--s3-bucket``; created private and encrypted if missing), keyed by content hash;
   the template's ``CodeUri: ./deployment.zip`` point at the uploaded bundle;
2. a change set on stack ``complaints-<stage>`` (created on the first deploy) with
   ``CAPABILITY_IAM`` (the template's roles) and ``CAPABILITY_AUTO_EXPAND`` (the SAM transform);
   parameters not given keep their deployed values;
3. its changes are printed; unless ``--no-execute`` it is executed and waited for, and the
   stack's outputs are returned. A failed update is rolled back by CloudFormation;
4. the agent console's release (``build/<stage>/console``) is published to its bucket with the
   ``config.json`` of the stack's outputs, and CloudFront is told (:func:`infra.console.publish`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from infra.resources import APP_NAME
from infra.template import REPO_ROOT

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
LOCAL_CODE_URI = "./deployment.zip"
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


class DeployError(RuntimeError):
    pass


def parse_parameters(pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise DeployError(f"--parameter wants KEY=VALUE, got {pair!r}")
        values[key] = value
    return values


def stack_name_of(stage: str) -> str:
    return f"{APP_NAME}-{stage}"


def with_code_location(template: dict[str, Any], bucket: str, key: str) -> dict[str, Any]:
    """The template with every function's local ``CodeUri`` pointing at the uploaded bundle."""
    located = copy.deepcopy(template)
    for resource in located.get("Resources", {}).values():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and props.get("CodeUri") == LOCAL_CODE_URI:
            props["CodeUri"] = {"Bucket": bucket, "Key": key}
    return located


def parameter_list(template: dict[str, Any], given: dict[str, str], deployed: set[str]) -> list[dict[str, Any]]:
    """Given values; a parameter not given keeps its deployed value (else the template default)."""
    declared = template.get("Parameters", {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise DeployError(f"unknown parameters {unknown}; the template has {sorted(declared)}")
    params: list[dict[str, Any]] = [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(given.items())]
    params += [{"ParameterKey": k, "UsePreviousValue": True} for k in sorted(declared) if k not in given and k in deployed]
    return params


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_bucket(s3: Any, bucket: str, region: str) -> None:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchBucket", "NotFound"):
            raise DeployError(f"artifact bucket {bucket}: {exc}") from exc
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})


def _stack_status(cfn: Any, stack_name: str) -> tuple[str | None, set[str]]:
    from botocore.exceptions import ClientError

    try:
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None, set()
        raise
    return stack["StackStatus"], {p["ParameterKey"] for p in stack.get("Parameters", [])}


def deploy_template(session: Any, *, stack_name: str, template: dict[str, Any], bundle: Path, bucket: str,
                    parameters: dict[str, str], tags: dict[str, str], execute: bool = True,
                    log: Any = print) -> dict[str, str]:
    """Upload, create the change set, show it, execute it (or not); returns the stack's outputs."""
    region = session.region_name
    s3, cfn = session.client("s3"), session.client("cloudformation")
    ensure_bucket(s3, bucket, region)
    code_key = f"{stack_name}/{_sha256(bundle)}.zip"
    s3.upload_file(str(bundle), bucket, code_key)
    body = json.dumps(with_code_location(template, bucket, code_key), indent=1, ensure_ascii=False).encode()
    template_key = f"{stack_name}/{hashlib.sha256(body).hexdigest()}.template.json"
    s3.put_object(Bucket=bucket, Key=template_key, Body=body)
    template_url = f"https://{bucket}.s3.{region}.amazonaws.com/{template_key}"

    status, deployed = _stack_status(cfn, stack_name)
    if status is not None and status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        raise DeployError(f"stack {stack_name} is {status}; wait for it to finish")
    if status == "ROLLBACK_COMPLETE":
        raise DeployError(f"stack {stack_name} is ROLLBACK_COMPLETE (its creation failed): delete it, then deploy again")
    change_type = "CREATE" if status in (None, "REVIEW_IN_PROGRESS") else "UPDATE"
    change_set = f"deploy-{time.strftime('%Y%m%d-%H%M%S')}"
    cfn.create_change_set(
        StackName=stack_name, ChangeSetName=change_set, ChangeSetType=change_type, TemplateURL=template_url,
        Capabilities=CAPABILITIES, Parameters=parameter_list(template, parameters, deployed),
        Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())],
        Description=f"python -m infra deploy ({change_type.lower()})",
    )
    described = _wait_for_change_set(cfn, stack_name, change_set)
    if described is None:
        log(f"{stack_name}: no changes to deploy")
        cfn.delete_change_set(StackName=stack_name, ChangeSetName=change_set)
        return outputs_of(cfn, stack_name)
    for change in described.get("Changes", []):
        rc = change.get("ResourceChange", {})
        replacement = " (REPLACEMENT)" if rc.get("Replacement") == "True" else ""
        log(f"  {rc.get('Action', '?'):8} {rc.get('LogicalResourceId')} {rc.get('ResourceType', '')}{replacement}")
    if not execute:
        log(f"change set {change_set} created, not executed: review it in the console or run "
            f"aws cloudformation execute-change-set --stack-name {stack_name} --change-set-name {change_set}")
        return {}
    cfn.execute_change_set(StackName=stack_name, ChangeSetName=change_set)
    waiter = cfn.get_waiter("stack_create_complete" if change_type == "CREATE" else "stack_update_complete")
    try:
        waiter.wait(StackName=stack_name, WaiterConfig={"Delay": 10, "MaxAttempts": 360})
    except Exception as exc:
        raise DeployError(f"{stack_name}: {exc}\n{_failure_reasons(cfn, stack_name)}") from exc
    return outputs_of(cfn, stack_name)


def _wait_for_change_set(cfn: Any, stack_name: str, change_set: str) -> dict[str, Any] | None:
    """The described change set once created (CloudFormation's ``change_set_create_complete``
    waiter, up to 12 minutes); None if it holds no changes."""
    from botocore.exceptions import WaiterError

    try:
        cfn.get_waiter("change_set_create_complete").wait(
            StackName=stack_name, ChangeSetName=change_set, WaiterConfig={"Delay": 2, "MaxAttempts": 360})
    except WaiterError as exc:
        described: dict[str, Any] = cfn.describe_change_set(StackName=stack_name, ChangeSetName=change_set)
        reason = described.get("StatusReason", "")
        if described.get("Status") == "FAILED" and any(marker in reason for marker in NO_CHANGES):
            return None
        raise DeployError(f"change set {change_set} was not created: {reason or exc}") from exc
    pages = list(cfn.get_paginator("describe_change_set").paginate(StackName=stack_name, ChangeSetName=change_set))
    return {**pages[0], "Changes": [change for page in pages for change in page.get("Changes", [])]}


def _failure_reasons(cfn: Any, stack_name: str, limit: int = 10) -> str:
    events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
    failed = [e for e in events if e.get("ResourceStatus", "").endswith("_FAILED")][:limit]
    return "\n".join(f"  {e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}" for e in failed)


def outputs_of(cfn: Any, stack_name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def deploy(stage: str, *, build_dir: Path | None = None, stack_name: str | None = None, bucket: str | None = None,
           region: str | None = None, parameters: dict[str, str] | None = None, execute: bool = True) -> dict[str, str]:
    """Deploy what ``python -m infra package --stage <stage>`` built (needs AWS credentials)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    build_dir = build_dir or REPO_ROOT / "build" / stage
    template_path, bundle = build_dir / "sam.json", build_dir / "deployment.zip"
    if not template_path.exists() or not bundle.exists():
        raise DeployError(f"{build_dir} has no sam.json/deployment.zip: run `make package STAGE={stage}` first")
    template = json.loads(template_path.read_text(encoding="utf-8"))
    session = boto3.Session(region_name=region)
    if not session.region_name:
        raise DeployError("no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION")
    try:
        account = session.client("sts").get_caller_identity()["Account"]
        outputs = deploy_template(
            session,
            stack_name=stack_name or stack_name_of(stage),
            template=template,
            bundle=bundle,
            bucket=bucket or f"{APP_NAME}-deploy-{account}-{session.region_name}",
            parameters=parameters or {},
            tags={"app": APP_NAME, "stage": stage},
            execute=execute,
        )
        if execute:
            publish_console(session, build_dir / "console", stage, outputs)
        return outputs
    except (BotoCoreError, ClientError) as exc:
        raise DeployError(str(exc)) from exc


def publish_console(session: Any, release_dir: Path, stage: str, outputs: dict[str, str]) -> None:
    from infra.console import PublishError, publish

    try:
        publish(session, release_dir, stage, outputs)
    except PublishError as exc:
        raise DeployError(f"console: {exc}") from exc
