"""The deployment template, built offline as `make package` builds it, for both stages.

`chalice package --merge-template` runs once per stage per session (the first build downloads
the Lambda wheels from PyPI, ~10 s; the second stage reuses them). Nothing here talks to AWS:
cfn-lint and aws-sam-translator check the template, moto's CloudFormation creates its
non-Lambda resources, moto's S3 + CloudFormation take a small deploy.
"""

from __future__ import annotations

import ast
import copy
import importlib.util
import json
import os
import re
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

import boto3
import pytest
from cfnlint.api import lint
from moto import mock_aws
from moto.cloudformation.parsing import get_model_map
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from chalicelib.config import _ENV, USER_POOL_ARN_PLACEHOLDER
from chalicelib.observability import NAMESPACE
from chalicelib.policy.official import official_year
from infra import deploy, iam, monitoring
from infra.package import (
    RUNTIME_PROVIDED,
    STAGES,
    Package,
    PackageError,
    check,
    check_policies,
    finish_bundle,
    is_runtime_provided,
    package,
)
from infra.resources import (
    ASL_FUNCTION_PLACEHOLDERS,
    FUNCTION_IDS,
    IMPORT_MAX_RECEIVE_COUNT,
    TICKET_INDEXES,
    asl_placeholders,
    function_names,
    load_asl,
    names,
    resources,
    state_machine_files,
)
from infra.template import AUTHORIZER_NAME, GROUPS

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCOUNT = "123456789012"
LOCAL_ONLY_ENV = {"TIME_SCALE", "CLOCK_EPOCH", "AWS_ENDPOINT_URL", "UPLOADS_ENDPOINT_URL"}  # the local runtime's knobs
# Where a role may say Resource "*": AWS has no resource-level permission for these actions.
XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
ALLOWED_WILDCARD_RESOURCES = {
    "APIHandlerRole": XRAY | {"states:SendTaskSuccess"},  # task-token callbacks
    # task-token callbacks (its own waits); SMS to a phone number has no ARN
    "LifecycleStepRole": XRAY | {"states:SendTaskSuccess", "states:SendTaskFailure", "sns:Publish"},
    "ImportBatchRole": XRAY,
    "AnalyticsRole": XRAY,
    "IntegrationRole": XRAY,
    "LifecycleStateMachineRole": XRAY | {"xray:GetSamplingRules", "xray:GetSamplingTargets"} | {
        "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    },  # vended log delivery
}
# Types moto's CloudFormation cannot create: checked by cfn-lint and the SAM transform only.
NOT_IN_MOTO = {"AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient", "AWS::Cognito::UserPoolGroup",
               "AWS::Cognito::UserPoolDomain", "AWS::CloudWatch::Alarm", "AWS::SNS::Subscription",
               "AWS::S3::BucketPolicy", "AWS::CloudFront::Distribution", "AWS::CloudFront::OriginAccessControl",
               "AWS::CloudFront::CachePolicy", "AWS::CloudFront::ResponseHeadersPolicy"}


@pytest.fixture(scope="module", autouse=True)
def offline_aws() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_DEFAULT_REGION", REGION)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            mp.delenv(var, raising=False)
        yield


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("staging")  # shared by both stages: one wheel download


@pytest.fixture(scope="module", params=STAGES)
def built(request: pytest.FixtureRequest, work_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Package:
    stage = str(request.param)
    return package(stage, tmp_path_factory.mktemp(f"build-{stage}"), work_dir=work_dir)


@pytest.fixture(scope="module")
def template(built: Package) -> dict[str, Any]:
    return built.template()


@pytest.fixture(scope="module")
def transformed(template: dict[str, Any]) -> dict[str, Any]:
    """What CloudFormation's SAM transform makes of it (aws-sam-translator, offline)."""
    located = deploy.with_code_location(template, "complaints-deploy-artifacts", "bundle.zip")
    return dict(Translator(None, Parser()).translate(located, parameter_values={}, get_managed_policy_map=dict))


def of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}


def listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for lid, role in of_type(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield lid, statement


# --- the build ----------------------------------------------------------------------------------


def test_package_writes_the_template_and_a_lambda_bundle(built: Package) -> None:
    # Given the build of one stage
    # Then the bundle holds the app, chalicelib and the Linux wheels of requirements.txt
    with zipfile.ZipFile(built.bundle_path) as bundle:
        files = set(bundle.namelist())
    assert {"app.py", "chalicelib/config.py", "chalicelib/triage/rules.toml", "chalicelib/triage/model.json",
            "chalice/app.py"} <= files
    assert not any(f.startswith(("sklearn/", "numpy/", "scipy/")) for f in files)  # the model is scored in plain Python
    assert any(f.startswith("aws_lambda_powertools/") for f in files)
    assert any(f.startswith("pydantic_core/") and f.endswith("x86_64-linux-gnu.so") for f in files)
    # And the template is Chalice's SAM template with our resources merged in
    template = built.template()
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert USER_POOL_ARN_PLACEHOLDER not in json.dumps(template)
    assert "DefaultRole" not in template["Resources"]  # Chalice's catch-all role is not generated


def test_the_bundle_holds_nothing_the_lambda_runtime_provides_and_fits_in_6_mb(built: Package) -> None:
    with zipfile.ZipFile(built.bundle_path) as bundle:
        tops = {PurePosixPath(name).parts[0] for name in bundle.namelist()}
    shipped = {re.split(r"[-.]", top)[0].lower() for top in tops}
    assert not shipped & {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "python_dateutil", "six", "urllib3"}
    assert not shipped & {"aws_xray_sdk", "wrapt"}  # no tracer SDK either (option b: Lambda and Step Functions tracing)
    assert built.bundle_path.stat().st_size <= 6_000_000


def test_every_module_of_the_bundle_has_bytecode_of_its_own_source_for_the_runtime(built: Package) -> None:
    # Lambda's code directory is read-only: without bytecode in the zip every cold start compiles every module
    with zipfile.ZipFile(built.bundle_path) as bundle:
        names = set(bundle.namelist())
        sources = sorted(n for n in names if n.endswith(".py"))
        assert len(sources) > 400 and {"app.py", "chalicelib/coldstart.py", "pydantic/main.py"} <= set(sources)
        for source in sources:
            path = PurePosixPath(source)
            pyc = str(path.parent / "__pycache__" / f"{path.stem}.{sys.implementation.cache_tag}.pyc")
            assert pyc in names, source
        for source in ("app.py", "chalicelib/adapters/store.py", "pydantic/main.py"):
            path = PurePosixPath(source)
            header = bundle.read(str(path.parent / "__pycache__" / f"{path.stem}.{sys.implementation.cache_tag}.pyc"))[:16]
            assert header[:4] == importlib.util.MAGIC_NUMBER
            assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, not checked against the source
            assert header[8:16] == importlib.util.source_hash(bundle.read(source))  # compiled from the bundled source


def test_every_function_starts_from_the_bundle_on_the_runtimes_boto3(built: Package, tmp_path: Path) -> None:
    # Given the bundle unpacked as Lambda does, next to a runtime holding only boto3 and what it needs
    with zipfile.ZipFile(built.bundle_path) as bundle:
        bundle.extractall(tmp_path / "task")
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    for distribution, imports in RUNTIME_PROVIDED.items():
        site = Path(str(metadata.distribution(distribution).locate_file("")))
        for name in imports:
            for candidate in (site / name, site / f"{name}.py"):
                if candidate.exists():
                    (runtime / candidate.name).symlink_to(candidate)
    modules = sorted(p.relative_to(tmp_path / "task").with_suffix("").as_posix().replace("/", ".")
                     for p in (tmp_path / "task" / "chalicelib").rglob("*.py") if p.name != "__init__.py")
    for logical_id in FUNCTION_IDS.values():
        props = built.template()["Resources"][logical_id]["Properties"]
        module, attribute = props["Handler"].rsplit(".", 1)
        code = (f"import sys, {module}; getattr({module}, {attribute!r}); import boto3, " + ", ".join(modules)
                + "; print(sorted(m for m in sys.modules if m.startswith(('aws_xray_sdk', 'wrapt'))))")
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{tmp_path / 'task'}{os.pathsep}{runtime}",
               "PYTHONDONTWRITEBYTECODE": "1", "AWS_DEFAULT_REGION": REGION, "AWS_LAMBDA_FUNCTION_NAME": logical_id,
               "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11", "LAMBDA_TASK_ROOT": str(tmp_path / "task")}
        # When the function's handler and every module of chalicelib are imported with the Lambda environment
        proc = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path / "task", env=env, capture_output=True, text=True, check=False)
        # Then they are all there, and no X-Ray SDK was loaded
        assert proc.returncode == 0, (logical_id, proc.stderr[-3000:])
        assert proc.stdout.strip() == "[]", logical_id
    # And mainland China's official calendar, the only one the trimmed ``holidays`` keeps,
    # gives from the bundle what the full library gives here (Golden Week 2026, make-up days)
    calendar = ("import json; from chalicelib.policy.official import official_year; y = official_year(2026); "
                "print(json.dumps([sorted(map(str, y.days_off)), sorted(map(str, y.workdays))]))")
    proc = subprocess.run([sys.executable, "-S", "-c", calendar], cwd=tmp_path / "task", env=env, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    full = official_year(2026)
    assert json.loads(proc.stdout) == [sorted(map(str, full.days_off)), sorted(map(str, full.workdays))]
    assert "2026-10-01" in json.loads(proc.stdout)[0] and full.workdays
    # And what Powertools keeps of its trimmed event handler still serialises a pydantic model
    # (its JSON encoder, for a model in a log line or an idempotency record)
    encoder = ("import json, pydantic; from aws_lambda_powertools.shared.json_encoder import Encoder\n"
               "class M(pydantic.BaseModel):\n    a: int = 1\nprint(json.dumps(M(), cls=Encoder))")
    proc = subprocess.run([sys.executable, "-S", "-c", encoder], cwd=tmp_path / "task", env=env, capture_output=True,
                          text=True, check=False)
    assert (proc.returncode, proc.stdout.strip()) == (0, '{"a": 1}'), proc.stderr[-3000:]
    assert not any(name.startswith("holidays/countries/") and not name.endswith(("china.py", "__init__.py", ".pyc"))
                   for name in zipfile.ZipFile(built.bundle_path).namelist())


def test_cfn_lint_finds_no_errors_in_the_sam_template(template: dict[str, Any]) -> None:
    matches = lint(json.dumps(template), regions=[REGION])
    errors = [f"{m.rule.id} {m.message} at {'/'.join(map(str, m.path))}" for m in matches if m.rule.id.startswith("E")]
    assert errors == []


def test_cfn_lint_finds_no_errors_after_the_sam_transform(transformed: dict[str, Any]) -> None:
    matches = lint(json.dumps(transformed), regions=[REGION])
    errors = [f"{m.rule.id} {m.message} at {'/'.join(map(str, m.path))}" for m in matches if m.rule.id.startswith("E")]
    assert errors == []


def test_sam_transform_gives_each_function_its_role_and_the_mapping_partial_failures(
    transformed: dict[str, Any], built: Package
) -> None:
    functions = of_type(transformed, "AWS::Lambda::Function")
    assert set(functions) == set(FUNCTION_IDS.values())
    for name, lid in FUNCTION_IDS.items():
        props = functions[lid]["Properties"]
        assert props["Role"] == {"Fn::GetAtt": [iam.role_id(name), "Arn"]}
        assert props["FunctionName"] == function_names(built.stage)[name]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert functions[lid]["DependsOn"] == [iam.log_group_id(name)]
    mappings = {m["Properties"]["FunctionName"]["Ref"]: m["Properties"]
                for m in of_type(transformed, "AWS::Lambda::EventSourceMapping").values()}
    assert set(mappings) == {"ImportBatch", "Analytics", "Integration"}
    assert mappings["ImportBatch"]["EventSourceArn"] == {"Fn::Sub": "${ImportQueue.Arn}"}
    assert mappings["ImportBatch"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # the report aggregates: the tickets table's stream, ticket items only, partial batch failures
    assert mappings["Analytics"]["EventSourceArn"] == {"Fn::GetAtt": ["TicketsTable", "StreamArn"]}
    assert mappings["Analytics"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert json.loads(mappings["Analytics"]["FilterCriteria"]["Filters"][0]["Pattern"]) == {"dynamodb": {"Keys": {"sk": {"S": ["TICKET"]}}}}
    # the integration events: new timeline items only, in order, retried until the bus takes them
    events = mappings["Integration"]
    assert events["EventSourceArn"] == {"Fn::GetAtt": ["TicketsTable", "StreamArn"]}
    assert events["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert events["MaximumRetryAttempts"] == -1 and events["ParallelizationFactor"] == 1
    assert events["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["IntegrationFailureQueue", "Arn"]}
    assert json.loads(events["FilterCriteria"]["Filters"][0]["Pattern"]) == {
        "eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "EV#"}]}}}}
    (api,) = of_type(transformed, "AWS::ApiGateway::RestApi").values()
    authorizer = api["Properties"]["Body"]["securityDefinitions"][AUTHORIZER_NAME]["x-amazon-apigateway-authorizer"]
    assert authorizer["providerARNs"] == [{"Fn::GetAtt": ["UserPool", "Arn"]}]


# --- state machines -----------------------------------------------------------------------------


def test_state_machines_are_exactly_the_asl_files_with_function_substitutions(template: dict[str, Any]) -> None:
    machines = of_type(template, "AWS::StepFunctions::StateMachine")
    files = state_machine_files()
    assert len(machines) == len(files)
    functions = of_type(template, "AWS::Serverless::Function")
    for machine, path in files.items():
        logical = "".join(p.capitalize() for p in machine.split("_")) + "StateMachine"
        props = machines[logical]["Properties"]
        text = path.read_text(encoding="utf-8")
        # the file itself, byte for byte: never a pasted or re-serialised copy
        assert props["DefinitionString"] == text
        assert set(props["DefinitionSubstitutions"]) == set(asl_placeholders(text))
        for placeholder, value in props["DefinitionSubstitutions"].items():
            target = value["Fn::GetAtt"]
            assert target == [FUNCTION_IDS[ASL_FUNCTION_PLACEHOLDERS[placeholder]], "Arn"]
            assert target[0] in functions
        assert props["StateMachineType"] == "STANDARD"
        assert props["TracingConfiguration"] == {"Enabled": True}
        log_group = props["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]
        assert template["Resources"][log_group["Fn::GetAtt"][0]]["Type"] == "AWS::Logs::LogGroup"
        assert props["LoggingConfiguration"]["Level"] == "ALL"


def _tasks(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in states.items():
        if state["Type"] == "Task":
            yield name, state
        for branch in [state.get("ItemProcessor"), state.get("Iterator"), *state.get("Branches", [])]:
            if branch:
                yield from _tasks(branch["States"])


def test_every_asl_resource_resolves_to_a_template_resource_the_role_may_invoke(template: dict[str, Any]) -> None:
    for machine in of_type(template, "AWS::StepFunctions::StateMachine").values():
        props = machine["Properties"]
        definition = props["DefinitionString"]
        for placeholder, value in props["DefinitionSubstitutions"].items():
            definition = definition.replace("${" + placeholder + "}", f"<{value['Fn::GetAtt'][0]}>")
        invoked = set()
        for name, task in _tasks(json.loads(definition)["States"]):
            resource = task["Resource"]
            if resource.startswith("arn:aws:states:::lambda:invoke"):
                resource = task["Parameters"]["FunctionName"]
            match = re.fullmatch(r"<(\w+)>", resource)
            assert match, f"{name}: {resource} is neither a template function nor a known integration"
            assert template["Resources"][match.group(1)]["Type"] == "AWS::Serverless::Function"
            invoked.add(match.group(1))
        role = template["Resources"][props["RoleArn"]["Fn::GetAtt"][0]]
        (invoke,) = [s for s in role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
                     if s["Action"] == "lambda:InvokeFunction"]
        granted = {r["Fn::GetAtt"][0] for r in invoke["Resource"] if "Fn::GetAtt" in r}
        assert granted == invoked  # exactly the functions the definition calls


# --- IAM ------------------------------------------------------------------------------------------


def test_iam_has_no_wildcard_where_a_name_is_known(template: dict[str, Any]) -> None:
    assert not of_type(template, "AWS::IAM::ManagedPolicy") and not of_type(template, "AWS::IAM::Policy")
    wildcards: dict[str, set[str]] = {}
    for role_id, statement in role_statements(template):
        assert statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        actions = listify(statement["Action"])
        assert all("*" not in action for action in actions), f"{role_id}: wildcard action {actions}"
        resources_ = listify(statement["Resource"])
        if "*" in resources_:
            assert resources_ == ["*"]
            wildcards.setdefault(role_id, set()).update(actions)
            continue
        for resource in resources_:
            if "*" in json.dumps(resource):  # only "all streams of this log group" / "all versions of this
                # function" / "the customers' uploads" (object keys are not known in advance)
                assert _own_log_streams(resource) or _function_versions(resource) or _uploads(resource), \
                    f"{role_id}: {resource}"
    assert wildcards == ALLOWED_WILDCARD_RESOURCES
    for role in of_type(template, "AWS::IAM::Role").values():
        for trust in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            assert trust["Principal"] in ({"Service": "lambda.amazonaws.com"}, {"Service": "states.amazonaws.com"})


def _own_log_streams(resource: Any) -> bool:
    pattern = r"arn:\$\{AWS::Partition\}:logs:\$\{AWS::Region\}:\$\{AWS::AccountId\}:log-group:/aws/lambda/[^*:]+:\*"
    return isinstance(resource, dict) and set(resource) == {"Fn::Sub"} and re.fullmatch(pattern, resource["Fn::Sub"]) is not None


def _uploads(resource: Any) -> bool:
    return resource == {"Fn::Sub": "${UploadsBucket.Arn}/uploads/*"}


def _function_versions(resource: Any) -> bool:
    if not (isinstance(resource, dict) and set(resource) == {"Fn::Join"}):
        return False
    separator, (arn, suffix) = resource["Fn::Join"]
    return separator == "" and suffix == ":*" and set(arn) == {"Fn::GetAtt"} and arn["Fn::GetAtt"][0] in FUNCTION_IDS.values()


def test_each_function_runs_with_a_role_of_its_own(template: dict[str, Any]) -> None:
    roles = {lid: f["Properties"]["Role"]["Fn::GetAtt"][0] for lid, f in of_type(template, "AWS::Serverless::Function").items()}
    assert len(set(roles.values())) == len(roles) == len(FUNCTION_IDS)
    ses = [(rid, s) for rid, s in role_statements(template) if "ses:SendEmail" in listify(s["Action"])]
    assert [rid for rid, _ in ses] == ["LifecycleStepRole"]  # it sends the notifications
    assert ses[0][1]["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "EmailSender"}}}
    dynamo = {rid for rid, s in role_statements(template) if any(a.startswith("dynamodb:") for a in listify(s["Action"]))}
    # not the machine (Integration only reads the stream)
    assert dynamo == {"APIHandlerRole", "LifecycleStepRole", "ImportBatchRole", "AnalyticsRole", "IntegrationRole"}


# The DynamoDB API call -> the IAM action it needs.
DDB_ACTIONS = {
    "put_item": "dynamodb:PutItem", "get_item": "dynamodb:GetItem", "update_item": "dynamodb:UpdateItem",
    "delete_item": "dynamodb:DeleteItem", "query": "dynamodb:Query", "scan": "dynamodb:Scan",
    "batch_get_item": "dynamodb:BatchGetItem", "batch_write_item": "dynamodb:BatchWriteItem",
}
TRANSACT_ACTIONS = {"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem", "Delete": "dynamodb:DeleteItem",
                    "ConditionCheck": "dynamodb:ConditionCheckItem"}


# The shared DynamoDB helpers (chalicelib/adapters/dynamodb.py) -> the API call they make.
DDB_HELPERS = {"query_items": "query", "query_pages": "query", "batch_get": "batch_get_item", "batch_write": "batch_write_item"}


def _store_methods() -> dict[str, ast.FunctionDef]:
    tree = ast.parse((REPO / "chalicelib" / "adapters" / "store.py").read_text(encoding="utf-8"))
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "DynamoDBTicketStore"]
    return {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}


def _needs(method: str, methods: dict[str, ast.FunctionDef], seen: frozenset[str] = frozenset()) -> set[tuple[str, str | None]]:
    """(IAM action, index) a TicketStore method needs, following its calls of self._helpers."""
    needs: set[tuple[str, str | None]] = set()
    node = methods[method]
    index = next((k.value.value for c in ast.walk(node) if isinstance(c, ast.Call) for k in c.keywords
                  if k.arg == "IndexName" and isinstance(k.value, ast.Constant)), None)
    for call in (c for c in ast.walk(node) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)
                 and c.func.id in DDB_HELPERS and c.args and isinstance(c.args[0], ast.Attribute) and c.args[0].attr == "ddb"):
        op = DDB_HELPERS[call.func.id]  # helper(self.ddb, ...): the call it makes on the client
        needs.add((DDB_ACTIONS[op], index if op == "query" else None))
    for call in (c for c in ast.walk(node) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)):
        target, op = call.func.value, call.func.attr
        if isinstance(target, ast.Attribute) and target.attr == "ddb":
            if op == "transact_write_items":
                kinds = {k.value for d in ast.walk(node) if isinstance(d, ast.Dict) for k in d.keys
                         if isinstance(k, ast.Constant) and k.value in TRANSACT_ACTIONS}
                needs |= {(TRANSACT_ACTIONS[k], None) for k in kinds}
            else:
                needs.add((DDB_ACTIONS[op], index if op == "query" else None))
        elif isinstance(target, ast.Name) and target.id == "self" and op in methods and op not in seen:
            # a helper queries the index its caller names: IndexName=... or _page's first argument
            named = [k.value.value for k in call.keywords if k.arg == "IndexName" and isinstance(k.value, ast.Constant)]
            if op == "_page" and call.args and isinstance(call.args[0], ast.Constant):
                named.append(call.args[0].value)
            needs |= {(action, idx or (named[0] if named and action == "dynamodb:Query" else None))
                      for action, idx in _needs(op, methods, seen | {method})}
    return needs


def test_store_permissions_follow_what_the_code_calls() -> None:
    # Every public TicketStore method has its grants declared, and they are what its code calls
    methods = _store_methods()
    public = {name for name in methods if not name.startswith("_")}
    assert set(iam.STORE_METHOD_ACCESS) == public
    for name in public:
        assert _needs(name, methods) == set(iam.STORE_METHOD_ACCESS[name]), name
    # Every module that calls the store belongs to functions that are granted those calls
    calls_by_module: dict[str, set[str]] = {}
    for path in (REPO / "chalicelib").glob("*.py"):
        if path.name == "store.py":
            continue
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
                target = call.func.value
                if (isinstance(target, ast.Name) and target.id == "store") or (
                        isinstance(target, ast.Attribute) and target.attr == "store"):
                    calls_by_module.setdefault(path.stem, set()).add(call.func.attr)
    for module, calls in calls_by_module.items():
        functions = [f for f, modules in iam.FUNCTION_MODULES.items() if module in modules]
        assert functions, f"chalicelib/{module}.py calls the store but no function lists it in infra.iam.FUNCTION_MODULES"
        for function in functions:
            assert calls <= iam.FUNCTION_STORE_METHODS[function], (module, function, calls - iam.FUNCTION_STORE_METHODS[function])


# --- events, auth, configuration ----------------------------------------------------------------


def test_import_mapping_reads_the_stage_queue_and_reports_batch_item_failures(template: dict[str, Any]) -> None:
    (event,) = template["Resources"]["ImportBatch"]["Properties"]["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["Properties"]["Queue"] == {"Fn::Sub": "${ImportQueue.Arn}"}
    queue = template["Resources"]["ImportQueue"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == IMPORT_MAX_RECEIVE_COUNT
    assert queue["VisibilityTimeout"] >= 6 * template["Resources"]["ImportBatch"]["Properties"]["Timeout"]


def test_cognito_has_the_four_groups_and_guards_every_route_but_health_and_the_api_document(
        template: dict[str, Any]) -> None:
    groups = {g["Properties"]["GroupName"] for g in of_type(template, "AWS::Cognito::UserPoolGroup").values()}
    assert groups == set(GROUPS) == {"customers", "agents", "supervisors", "ops"}
    body = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    authorizer = body["securityDefinitions"][AUTHORIZER_NAME]["x-amazon-apigateway-authorizer"]
    assert authorizer["providerARNs"] == [{"Fn::GetAtt": ["UserPool", "Arn"]}]
    for path, operations in body["paths"].items():
        for method, operation in operations.items():
            # CORS preflights carry no token (browsers never send one): API Gateway answers them itself
            public = path in ("/health", "/openapi.json")  # no identity needed (docs/api.md)
            expected = [] if public or method == "options" else [{AUTHORIZER_NAME: []}]
            assert operation.get("security", []) == expected, f"{method.upper()} {path}"


def test_every_function_gets_the_configuration_the_app_reads(template: dict[str, Any], built: Package) -> None:
    required = set(_ENV.values()) - LOCAL_ONLY_ENV
    for lid, function in of_type(template, "AWS::Serverless::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert required <= set(variables), lid
        assert not LOCAL_ONLY_ENV & set(variables)
        assert variables["STAGE"] == built.stage
        for name in required - {"STAGE"}:
            refs = [*re.findall(r"\$\{(\w+)\}", json.dumps(variables[name])), variables[name].get("Ref")]
            for ref in filter(None, refs):
                assert ref in template["Resources"] or ref in template["Parameters"] or ref.startswith("AWS"), (name, ref)
        expected_arn = f"stateMachine:{names(built.stage)['lifecycle_state_machine']}"
        assert json.dumps(variables["LIFECYCLE_STATE_MACHINE_ARN"]).endswith(expected_arn + '"}')


def test_the_local_system_runs_on_exactly_the_template_resources(template: dict[str, Any], built: Package) -> None:
    # local/ creates infra.resources.resources(stage) in moto: the same dicts are in the template
    for lid, resource in resources(built.stage).items():
        assert template["Resources"][lid] == resource, lid


# --- alarms and dashboard -----------------------------------------------------------------------


def _alarm_metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    props = alarm["Properties"]
    if "Metrics" in props:
        return [m["MetricStat"]["Metric"] for m in props["Metrics"] if "MetricStat" in m]
    return [{"Namespace": props["Namespace"], "MetricName": props["MetricName"], "Dimensions": props["Dimensions"]}]


def test_alarms_cover_the_four_conditions_and_page_the_alarm_topic(template: dict[str, Any]) -> None:
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    assert set(alarms) == set(monitoring.ALARMS)
    by_metric = {(m["Namespace"], m["MetricName"]): (lid, m["Dimensions"]) for lid, a in alarms.items() for m in _alarm_metrics(a)
                 if lid != "IntegrationFailureQueueAlarm"}
    _, dims = by_metric[("AWS/States", "ExecutionsFailed")]
    assert dims == [{"Name": "StateMachineArn", "Value": {"Ref": "LifecycleStateMachine"}}]
    _, dims = by_metric[("AWS/SQS", "ApproximateNumberOfMessagesVisible")]
    assert dims == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["ImportDeadLetterQueue", "QueueName"]}}]
    _, dims = by_metric[("AWS/ApiGateway", "5XXError")]
    assert {"Name": "ApiName", "Value": template["Resources"]["RestAPI"]["Properties"]["Name"]} in dims
    _, dims = by_metric[(NAMESPACE, "SlaBreaches")]
    assert {d["Name"] for d in dims} == {"service", "clock", "severity"}  # what steps._emit_metrics emits
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    # the integration events: refused by the bus, falling behind, given up on
    assert [m["MetricName"] for m in _alarm_metrics(alarms["IntegrationEventsFailedAlarm"])] == ["IntegrationEventsFailed"]
    [age] = _alarm_metrics(alarms["IntegrationIteratorAgeAlarm"])
    assert (age["Namespace"], age["MetricName"]) == ("AWS/Lambda", "IteratorAge")
    assert age["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "Integration"}}]
    [given_up] = _alarm_metrics(alarms["IntegrationFailureQueueAlarm"])
    assert given_up["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["IntegrationFailureQueue", "QueueName"]}}]


def test_dashboard_shows_complaint_metrics_the_app_emits(template: dict[str, Any]) -> None:
    emitted = set(re.findall(r'count\("(\w+)"', "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "chalicelib").rglob("*.py"))))
    assert set(monitoring.APP_METRICS) <= emitted, set(monitoring.APP_METRICS) - emitted
    (board,) = of_type(template, "AWS::CloudWatch::Dashboard").values()
    body = json.loads(re.sub(r"\$\{[^}]+\}", "x", board["Properties"]["DashboardBody"]["Fn::Sub"]))
    text = json.dumps(body)
    for metric in ("ComplaintsReceived", "SlaBreaches", "Escalations", "VouchersIssued", "SatisfactionScore"):
        assert metric in text, metric
    shown = set(re.findall(r'MetricName=\\+"(\w+)', text)) | {m[1] for w in body["widgets"] if w["type"] == "metric"
                                                              for m in w["properties"]["metrics"] if isinstance(m, list) and m[0] == NAMESPACE}
    assert shown <= emitted


# --- moto ------------------------------------------------------------------------------------------


def _detached(template: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The template's resources moto can create, with references to the others (functions,
    API, and the types in NOT_IN_MOTO) replaced by what they would be."""
    supported = set(get_model_map())
    removed = {lid for lid, r in template["Resources"].items()
               if r["Type"].startswith(("AWS::Serverless::", "AWS::Lambda::")) or r["Type"] not in supported}

    def value(lid: str) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{lid}" if lid in FUNCTION_IDS.values() else f"not-in-moto-{lid}"

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][0] in removed:
                return value(node["Fn::GetAtt"][0])
            if set(node) == {"Ref"} and node["Ref"] in removed:
                return value(node["Ref"])
            if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
                return {"Fn::Sub": re.sub(r"\$\{(\w+)(\.\w+)?\}",
                                          lambda m: value(m.group(1)) if m.group(1) in removed else m.group(0), node["Fn::Sub"])}
            return {k: walk(v) for k, v in node.items() if k != "DependsOn"}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    kept = {lid: walk(r) for lid, r in template["Resources"].items() if lid not in removed}
    plain = {"AWSTemplateFormatVersion": "2010-09-09", "Parameters": template["Parameters"],
             "Conditions": template["Conditions"], "Resources": kept, "Outputs": walk(template["Outputs"])}
    return plain, {template["Resources"][lid]["Type"] for lid in removed}


def test_non_lambda_resources_are_created_by_motos_cloudformation(template: dict[str, Any], built: Package) -> None:
    from local.moto.cloudformation import state_machines  # DefinitionSubstitutions applied

    plain, removed_types = _detached(template)
    assert {t for t in removed_types if not t.startswith(("AWS::Serverless::", "AWS::Lambda::"))} == NOT_IN_MOTO
    n = names(built.stage)
    with mock_aws(), state_machines(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cfn = boto3.client("cloudformation", region_name=REGION)
        cfn.create_stack(StackName=f"complaints-{built.stage}", TemplateBody=json.dumps(plain), Capabilities=["CAPABILITY_IAM"])
        stack = cfn.describe_stacks(StackName=f"complaints-{built.stage}")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}

        ddb = boto3.client("dynamodb", region_name=REGION)
        table = ddb.describe_table(TableName=n["table"])["Table"]
        indexes = {g["IndexName"]: tuple(k["AttributeName"] for k in g["KeySchema"]) for g in table["GlobalSecondaryIndexes"]}
        assert indexes == TICKET_INDEXES
        assert table["DeletionProtectionEnabled"] is True
        assert ddb.describe_table(TableName=n["idempotency_table"])["Table"]["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
        assert outputs["TicketsTableName"] == n["table"]

        sqs = boto3.client("sqs", region_name=REGION)
        attributes = sqs.get_queue_attributes(QueueUrl=outputs["ImportQueueUrl"], AttributeNames=["All"])["Attributes"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=outputs["ImportDeadLetterQueueUrl"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": IMPORT_MAX_RECEIVE_COUNT}

        boto3.client("s3", region_name=REGION).head_bucket(Bucket=outputs["ConsoleBucketName"])  # the console's bucket

        topics = {t["TopicArn"].rsplit(":", 1)[1] for t in boto3.client("sns", region_name=REGION).list_topics()["Topics"]}
        assert {v for k, v in n.items() if k.startswith(("alerts_", "customer_push"))} | {f"complaints-{built.stage}-ops-alarms"} <= topics
        staff = json.loads(outputs["StaffAlertTopics"])
        assert set(staff) == {"team:product", "team:logistics", "team:service", "level:2", "level:3"}

        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = sfn.describe_state_machine(stateMachineArn=outputs["LifecycleStateMachineArn"])
        expected = state_machine_files()["lifecycle"].read_text(encoding="utf-8")
        for placeholder, function in ASL_FUNCTION_PLACEHOLDERS.items():
            expected = expected.replace("${" + placeholder + "}", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION_IDS[function]}")
        assert machine["definition"] == expected

        groups = {g["logGroupName"] for g in boto3.client("logs", region_name=REGION).describe_log_groups()["logGroups"]}
        assert {f"/aws/lambda/{name}" for name in function_names(built.stage).values()} <= groups
        roles = {r["RoleName"] for r in boto3.client("iam", region_name=REGION).list_roles()["Roles"]}
        assert len([r for r in roles if r.startswith(f"complaints-{built.stage}-")]) == len(FUNCTION_IDS) + 1

        # the alarms moto's CloudFormation skips are accepted by its CloudWatch API
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                    for r in cfn.list_stack_resources(StackName=f"complaints-{built.stage}")["StackResourceSummaries"]}
        for alarm in of_type(template, "AWS::CloudWatch::Alarm").values():
            cloudwatch.put_metric_alarm(**_resolve(alarm["Properties"], template, physical))
        assert len(cloudwatch.describe_alarms()["MetricAlarms"]) == len(monitoring.ALARMS)


def _resolve(node: Any, template: dict[str, Any], physical: dict[str, str]) -> Any:
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            ref = node["Ref"]
            if ref in FUNCTION_IDS.values():  # a Chalice function (not in moto's stack): its logical id
                return ref
            return template["Parameters"][ref]["Default"] if ref in template["Parameters"] else physical[ref]
        if set(node) == {"Fn::GetAtt"}:
            return physical[node["Fn::GetAtt"][0]].rsplit("/", 1)[-1]  # QueueName of a queue URL
        return {k: _resolve(v, template, physical) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, template, physical) for v in node]
    return node


# --- stage differences, checks, deploy ---------------------------------------------------------------


def test_prod_keeps_data_and_users_and_personal_data_out_of_logs(template: dict[str, Any], built: Package) -> None:
    tables = of_type(template, "AWS::DynamoDB::Table").values()
    assert all(t["DeletionPolicy"] == "Retain" and t["Properties"]["DeletionProtectionEnabled"] for t in tables)
    assert all(t["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] for t in tables)
    assert all(t["Properties"]["TimeToLiveSpecification"]["Enabled"] for t in tables)
    pool = template["Resources"]["UserPool"]
    machine = template["Resources"]["LifecycleStateMachine"]["Properties"]["LoggingConfiguration"]
    prod = built.stage == "prod"
    assert (pool["Properties"]["DeletionProtection"] == "ACTIVE") is prod
    assert (pool["DeletionPolicy"] == "Retain") is prod
    assert machine["IncludeExecutionData"] is not prod


def test_runtime_provided_files_are_recognised_by_package_and_metadata_directory() -> None:
    provided = ["botocore/client.py", "botocore-1.44.8.dist-info/RECORD", "python_dateutil-2.9.0.post0.dist-info/METADATA",
                "dateutil/tz/tz.py", "six.py", "urllib3/__init__.py", "jmespath-1.1.0.data/scripts/jp.py", "boto3/session.py"]
    kept = ["app.py", "chalicelib/adapters/store.py", "pydantic/main.py", "botocore_extras/x.py", "sixth.py", "typing_extensions.py",
            "aws_lambda_powertools-3.37.0.dist-info/RECORD"]
    assert [n for n in provided + kept if is_runtime_provided(n)] == provided


def test_the_bundle_is_only_finished_by_the_python_of_the_runtime(tmp_path: Path) -> None:
    bundle = tmp_path / "deployment.zip"
    with zipfile.ZipFile(bundle, "w") as z:
        z.writestr("app.py", "x = 1\n")
    with pytest.raises(PackageError, match=r"build with python3\.12"):
        finish_bundle(bundle, "python3.12")
    finish_bundle(bundle, f"python{sys.version_info.major}.{sys.version_info.minor}")
    with zipfile.ZipFile(bundle) as z:
        assert z.namelist() == ["app.py", f"__pycache__/app.{sys.implementation.cache_tag}.pyc"]


def test_package_check_rejects_what_a_missed_merge_would_leave(template: dict[str, Any]) -> None:
    broken = copy.deepcopy(template)
    event = broken["Resources"]["ImportBatch"]["Properties"]["Events"]["ImportBatchSqsEventSource"]["Properties"]
    event["Queue"]["Fn::GetAtt"] = ["ImportQueue", "Arn"]  # what merging a GetAtt into Chalice's Fn::Sub gives
    del event["FunctionResponseTypes"]
    broken["Resources"]["Typo"] = {"Properties": {}}
    broken["Resources"]["ImportBatch"]["Properties"]["Role"] = "arn:aws:iam::000000000000:role/replaced-by-infra-merge-template"
    with pytest.raises(PackageError) as raised:
        check(broken)
    message = str(raised.value)
    for expected in ("merged intrinsic", "ReportBatchItemFailures", "Typo has no Type", "ImportBatch runs with", "placeholder"):
        assert expected in message


def test_package_refuses_an_invalid_service_level_policy_naming_the_key(tmp_path: Path) -> None:
    # Given ops' edit of the lifecycle with a negative window
    asl = load_asl("lifecycle")
    asl["States"]["ServiceLevelPolicy"]["Result"]["P2"]["resolution_s"] = -60
    edited = tmp_path / "lifecycle.asl.json"
    edited.write_text(json.dumps(asl), encoding="utf-8")
    # When the build checks the definitions / Then it stops before building, naming the key
    with pytest.raises(PackageError, match=r"P2\.resolution_s: must be a positive number of seconds, got -60"):
        check_policies({"lifecycle": edited})
    check_policies()  # the real files pass


def test_deploy_uploads_the_bundle_and_keeps_deployed_parameters(tmp_path: Path) -> None:
    # Given a small template with a function bundle and a parameter
    template = {
        "Parameters": {"Suffix": {"Type": "String", "Default": "a"}, "Other": {"Type": "String", "Default": "x"}},
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "q-${Suffix}-${Other}"}}}},
    }
    bundle = tmp_path / "deployment.zip"
    bundle.write_bytes(b"PK")
    located = deploy.with_code_location(
        {"Resources": {"F": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./deployment.zip"}}}}, "b", "k")
    assert located["Resources"]["F"]["Properties"]["CodeUri"] == {"Bucket": "b", "Key": "k"}
    assert deploy.parameter_list(template, {"Suffix": "b"}, {"Suffix", "Other"}) == [
        {"ParameterKey": "Suffix", "ParameterValue": "b"}, {"ParameterKey": "Other", "UsePreviousValue": True}]
    with pytest.raises(deploy.DeployError):
        deploy.parameter_list(template, {"Nope": "1"}, set())
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        # When it is deployed twice, the second time with a new value for one parameter
        lines: list[str] = []
        for params in ({}, {"Suffix": "b"}):
            deploy.deploy_template(session, stack_name="complaints-test", template=template, bundle=bundle,
                                   bucket="complaints-deploy-test", parameters=params, tags={"stage": "test"}, log=lines.append)
        # Then the artifacts are in the bucket, the stack is updated, the other parameter kept
        keys = [o["Key"] for o in session.client("s3").list_objects_v2(Bucket="complaints-deploy-test")["Contents"]]
        assert any(k.endswith(".zip") for k in keys) and any(k.endswith(".template.json") for k in keys)
        stack = session.client("cloudformation").describe_stacks(StackName="complaints-test")["Stacks"][0]
        assert stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
        assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {"Suffix": "b", "Other": "x"}
        assert any("Queue" in line for line in lines)


# --- the agent console ---------------------------------------------------------------------------------


def test_the_console_is_a_private_bucket_behind_cloudfront_with_origin_access_control(template: dict[str, Any]) -> None:
    res = template["Resources"]
    bucket = res["ConsoleBucket"]["Properties"]
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True} and len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert "WebsiteConfiguration" not in bucket  # never a public website endpoint
    # only CloudFront reads it, and only for this distribution
    allows = [st for st in res["ConsoleBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"] if st["Effect"] == "Allow"]
    assert allows == [{
        "Sid": "CloudFrontReadsThroughOriginAccessControl", "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
        "Resource": {"Fn::Sub": "${ConsoleBucket.Arn}/*"},
        "Condition": {"StringEquals": {"AWS:SourceArn": {
            "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${ConsoleDistribution}"}}}}]
    oac = res["ConsoleOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == ("s3", "always", "sigv4")
    config = res["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    origin = config["Origins"][0]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["ConsoleOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # OAC, not the legacy OAI
    assert origin["DomainName"] == {"Fn::GetAtt": ["ConsoleBucket", "RegionalDomainName"]}
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https" and behaviour["Compress"] is True
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"] and config["DefaultRootObject"] == "index.html"
    assert res["ConsoleCachePolicy"]["Properties"]["CachePolicyConfig"]["MinTTL"] == 0  # no-cache really revalidates
    headers = res["ConsoleResponseHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "https://*.execute-api.${AWS::Region}.${AWS::URLSuffix}" in csp and ".auth.${AWS::Region}.amazoncognito.com" in csp
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000


def test_the_console_signs_in_with_the_hosted_ui_and_is_the_only_cors_origin(template: dict[str, Any]) -> None:
    res = template["Resources"]
    origin = "https://${ConsoleDistribution.DomainName}"
    client = res["UserPoolClient"]["Properties"]
    assert client["AllowedOAuthFlows"] == ["code"] and client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["CallbackURLs"] == client["LogoutURLs"] == [{"Fn::Sub": f"{origin}/"}]
    assert client["GenerateSecret"] is False  # a browser app: PKCE, no secret
    assert res["UserPoolDomain"]["Properties"]["UserPoolId"] == {"Ref": "UserPool"}
    # the preflights Chalice wrote, API Gateway's own errors and the function all name that origin
    body = res["RestAPI"]["Properties"]["DefinitionBody"]
    preflights = [ops["options"] for ops in body["paths"].values() if "options" in ops]
    assert len(preflights) == len([p for p in body["paths"] if p != "/health"]) + 1  # every route, /health too
    for options in preflights:
        params = options["x-amazon-apigateway-integration"]["responses"]["default"]["responseParameters"]
        assert params["method.response.header.Access-Control-Allow-Origin"] == {"Fn::Sub": f"'{origin}'"}
        assert "Idempotency-Key" in params["method.response.header.Access-Control-Allow-Headers"]
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        params = body["x-amazon-apigateway-gateway-responses"][kind]["responseParameters"]
        assert params["gatewayresponse.header.Access-Control-Allow-Origin"] == {"Fn::Sub": f"'{origin}'"}
    assert res["APIHandler"]["Properties"]["Environment"]["Variables"]["CONSOLE_ORIGIN"] == {"Fn::Sub": origin}
    assert "placeholder.invalid" not in json.dumps(template)
    outputs = template["Outputs"]
    assert {"ConsoleUrl", "ConsoleBucketName", "ConsoleDistributionId", "UserPoolDomainUrl", "ConsoleReportUrl"} <= set(outputs)


def test_api_gateways_own_errors_are_in_the_api_error_shape(template: dict[str, Any]) -> None:
    answers = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]
    # an unknown route or method never reaches the function: API Gateway answers, as a 404
    assert answers["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    assert answers["UNAUTHORIZED"]["statusCode"] == "401" and answers["ACCESS_DENIED"]["statusCode"] == "403"
    for kind in ("MISSING_AUTHENTICATION_TOKEN", "UNAUTHORIZED", "ACCESS_DENIED", "THROTTLED", "REQUEST_TOO_LARGE",
                 "DEFAULT_4XX", "DEFAULT_5XX"):
        rendered = answers[kind]["responseTemplates"]["application/json"].replace(
            "$context.error.messageString", json.dumps("API Gateway's message"))
        body = json.loads(rendered)
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, kind
        assert body["error"]["message"] and body["error"]["details"] == []


def test_package_builds_the_console_release(built: Package) -> None:
    manifest = json.loads((built.console_dir / "manifest.json").read_text())
    release = manifest["release"]
    index = (built.console_dir / "index.html").read_text(encoding="utf-8")
    assert f'src="app-{release}/main.js"' in index and '"app/' not in index
    files = manifest["files"]
    assert files["index.html"] == {"content_type": "text/html; charset=utf-8", "cache_control": "no-cache"}
    assert files[f"app-{release}/main.js"] == {"content_type": "text/javascript; charset=utf-8",
                                                "cache_control": "public, max-age=31536000, immutable"}
    assert {f"app-{release}/locales/zh-CN.json", f"app-{release}/locales/en.json", f"app-{release}/console.css"} <= set(files)
    assert all((built.console_dir / key).is_file() for key in files)
    assert not any(key.endswith(".py") for key in files)


def test_deploy_publishes_the_console_release_with_its_config(tmp_path: Path) -> None:
    from console import site
    from infra import console

    release = site.build(tmp_path / "console")
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        s3 = session.client("s3")
        s3.create_bucket(Bucket="console-bucket")
        distribution = session.client("cloudfront").create_distribution(DistributionConfig={
            "CallerReference": "t", "Comment": "", "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "console-bucket.s3.amazonaws.com",
                                                  "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "redirect-to-https"},
        })["Distribution"]["Id"]
        # Given a bucket holding the release before last and the last one (its index.html)
        s3.put_object(Bucket="console-bucket", Key="app-0000000000aa/main.js", Body=b"old")
        s3.put_object(Bucket="console-bucket", Key="app-00000000bbbb/main.js", Body=b"last")
        s3.put_object(Bucket="console-bucket", Key="index.html", Body=b'<script type="module" src="app-00000000bbbb/main.js">')
        outputs = {
            "EndpointURL": "https://abc.execute-api.us-east-1.amazonaws.com/api/", "ConsoleUrl": "https://d1.cloudfront.net/",
            "UserPoolDomainUrl": "https://complaints-dev-1.auth.us-east-1.amazoncognito.com", "UserPoolClientId": "client-1",
            "ConsoleBucketName": "console-bucket", "ConsoleDistributionId": distribution, "ConsoleReportUrl": "",
        }
        lines: list[str] = []
        # When the new release is published
        done = console.publish(session, release.directory, "dev", outputs, log=lines.append)
        # Then every file is there with its type and cache header, the config names the stack
        for key, meta in release.files.items():
            head = s3.head_object(Bucket="console-bucket", Key=key)
            assert (head["ContentType"], head["CacheControl"]) == (meta["content_type"], meta["cache_control"]), key
        config = json.loads(s3.get_object(Bucket="console-bucket", Key="config.json")["Body"].read())
        assert config["api"] == "https://abc.execute-api.us-east-1.amazonaws.com/api"
        assert config["auth"] == {"mode": "cognito", "domain": outputs["UserPoolDomainUrl"], "client_id": "client-1",
                                  "redirect_uri": "https://d1.cloudfront.net/", "scopes": ["openid", "email", "profile"]}
        assert config["report"] is None and config["clock"] is None
        assert s3.head_object(Bucket="console-bucket", Key="config.json")["CacheControl"] == "no-cache"
        # the last release stays for pages loaded before the deploy, the one before goes
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="console-bucket")["Contents"]}
        assert "app-00000000bbbb/main.js" in keys and "app-0000000000aa/main.js" not in keys
        assert done["deleted"] == ["app-0000000000aa/main.js"]
        invalidations = session.client("cloudfront").list_invalidations(DistributionId=distribution)["InvalidationList"]
        assert invalidations["Quantity"] == 1 and lines and release.release in lines[0]
        # And a report location, once ops set one, becomes the supervisors' link
        with_report = {**outputs, "ConsoleReportUrl": "https://bi.example.com/complaints?from={from}&to={to}&lang={lang}"}
        assert console.console_config("dev", with_report).report == site.LinkedReport(url=with_report["ConsoleReportUrl"])
        with pytest.raises(console.PublishError):
            console.publish(session, tmp_path / "nothing", "dev", outputs)
        with pytest.raises(console.PublishError):
            console.console_config("dev", {**outputs, "UserPoolClientId": ""})


def test_the_uploads_bucket_is_private_encrypted_tls_only_and_expires_unattached_uploads(
        template: dict[str, Any]) -> None:
    bucket = template["Resources"]["UploadsBucket"]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert all(props["PublicAccessBlockConfiguration"].values()) and len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert sse["SSEAlgorithm"] == "AES256"
    [expire] = [r for r in props["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in r]
    assert expire["ExpirationInDays"] == 7 and expire["Prefix"] == "uploads/"
    assert expire["TagFilters"] == [{"Key": "state", "Value": "unattached"}]
    [deny] = template["Resources"]["UploadsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # presigned POSTs and GETs are signed by the API's role: it may put (with the tag) and get uploads only
    api_statements = template["Resources"]["APIHandlerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    [uploads] = [s for s in api_statements if s["Sid"] == "SignAndCheckUploads"]
    assert uploads["Resource"] == [{"Fn::Sub": "${UploadsBucket.Arn}/uploads/*"}]
