"""The live API against its own OpenAPI document: schemathesis generates requests for every
operation of ``GET /openapi.json`` — valid ones and, from the same schemas, invalid ones —
with the dev token of each group, and checks each answer: no 5xx, the status, content type,
headers and body as documented. Bounded: a fixed number of examples per operation and group,
derandomized (the same inputs every run), no shrinking, no example database. Afterwards
nothing is half-written: every complaint stored has its workflow execution and every 202
named a stored complaint."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.helpers import file_complaint

# inputs per operation and group: POSITIVE + NEGATIVE examples (see the module's docstring)
POSITIVE, NEGATIVE = 6, 3
USERS = {"customers": "C-FUZZ", "agents": "A-FUZZ", "supervisors": "S-FUZZ", "ops": "O-FUZZ"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@dataclass
class Tally:
    tried: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def schema(local_system: Any) -> Any:
    loaded = schemathesis.openapi.from_url(local_system.api_url + "/openapi.json")
    loaded.config.base_url = local_system.api_url
    return loaded


@pytest.fixture(scope="module")
def real_ids(local_system: Any) -> list[str]:
    """Complaints that exist, so that generated calls on ``{complaint_id}`` reach real ones too."""
    return [file_complaint(local_system, USERS["customers"]) for _ in range(2)]


def run_operation(sys: Any, operation: Any, group: str, ids: list[str], tally: Tally) -> None:
    user = USERS[group]
    headers = {"Authorization": f"Bearer {sys.token(user, group)}"}
    strategies = [operation.as_strategy(GenerationMode.POSITIVE)]
    if "complaint_id" in operation.path:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters={"complaint_id": st.sampled_from(ids)}))
    if operation.path == "/customers/{customer_id}/complaints":
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters={"customer_id": user}))
    positive = st.one_of(strategies)
    negative = operation.as_strategy(GenerationMode.NEGATIVE)
    label = f"{operation.method.upper()} {operation.path} as {group}"

    def one(case: Any, checks: list[Any]) -> None:
        if operation.path == "/complaints" and isinstance(case.body, dict) and case.body.get("customer_id"):
            case.body["customer_id"] = user  # a customer files for themselves (else: a documented 403)
        response = case.call(headers=headers, timeout=30)
        tally.tried[label] += 1
        tally.statuses[response.status_code] += 1
        if operation.path == "/complaints" and response.status_code == 202:
            tally.accepted.add(response.json()["complaint_id"])
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except (Failure, FailureGroup) as exc:
            tally.problems.append(f"{label}: {exc}\n    {case.as_curl_command(headers=headers)}"[:2000])

    common = {"deadline": None, "derandomize": True, "database": None, "phases": [Phase.generate],
              "suppress_health_check": list(HealthCheck)}

    @settings(max_examples=POSITIVE, **common)
    @given(case=positive)
    def valid_inputs(case: Any) -> None:
        one(case, CHECKS)

    @settings(max_examples=NEGATIVE, **common)
    @given(case=negative)
    def invalid_inputs(case: Any) -> None:
        one(case, [*CHECKS, negative_data_rejection])

    valid_inputs()
    declared = operation.schema.raw_schema["paths"][operation.path][operation.method.lower()]
    if declared.get("parameters") or declared.get("requestBody"):  # else nothing can be made invalid
        invalid_inputs()


def test_every_operation_conforms_for_every_group(local_system: Any, schema: Any, real_ids: list[str]) -> None:
    tally = Tally()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    for group in USERS:
        for operation in operations:
            run_operation(local_system, operation, group, real_ids, tally)
    total = sum(tally.tried.values())
    print(f"\nschemathesis: {total} inputs over {len(operations)} operations x {len(USERS)} groups; "
          f"statuses {dict(sorted(tally.statuses.items()))}")
    assert not [s for s in tally.statuses if s >= 500], tally.problems
    assert not tally.problems, "\n".join(tally.problems[:20])
    assert all(tally.tried[f"{o.method.upper()} {o.path} as {g}"] for o in operations for g in USERS)
    assert_nothing_half_written(local_system, tally.accepted | set(real_ids))


def assert_nothing_half_written(sys: Any, accepted: set[str]) -> None:
    """Every complaint of the fuzzing customer is stored whole and has its execution; every
    202 named one of them."""
    ddb = sys.dynamodb
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": sys.env["TABLE_NAME"], "IndexName": "by_customer",
                              "KeyConditionExpression": "customer_pk = :c",
                              "ExpressionAttributeValues": {":c": {"S": USERS["customers"]}}}
    items += [i for page in ddb.get_paginator("query").paginate(**kwargs) for i in page["Items"]]
    stored = {item["pk"]["S"].removeprefix("C#") for item in items}
    pages = sys.sfn.get_paginator("list_executions").paginate(stateMachineArn=sys.env["LIFECYCLE_STATE_MACHINE_ARN"])
    executions = {e["name"] for page in pages for e in page["executions"]}
    assert accepted <= stored, accepted - stored
    assert stored <= executions, stored - executions
    for cid in stored:  # each one readable whole through the API
        resp = sys.http("GET", f"/complaints/{cid}", token=sys.token("S-1", "supervisors"))
        assert resp.status == 200 and resp.json()["timeline"][0]["type"] == "received"
