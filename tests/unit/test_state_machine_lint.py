"""Every ASL file passes AWS's own linter and a second, independent validator, so no edit
can land that Step Functions would reject.

1. ``statelint`` (PyPI port of awslabs/statelint, the linter AWS publishes for the Amazon
   States Language): hand-written rules — field types (``BackoffRate`` must be a float),
   allowed fields per state type, that every ``Next`` names a state and every state is
   reachable.
2. cfn-lint's rule E3601: the JSON schema of a state-machine definition that the
   CloudFormation linter (maintained by AWS) checks ``AWS::StepFunctions::StateMachine``
   resources with — types, ranges, allowed fields, ``StartAt`` targets. Already pinned for
   the template checks, so a fresh clone's ``make`` installs it with pip; the npm
   ``asl-validator`` would add a Node toolchain to ``make test`` for the same kind of check.

Both see the definition as deployed: the ``${...}`` placeholders replaced by Lambda ARNs,
as ``DefinitionSubstitutions`` does.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from cfnlint.api import lint
from statelint.linter import Linter

from infra.resources import ASL_FUNCTION_PLACEHOLDERS, asl_placeholders, function_names, load_asl, state_machine_files

REGION = "us-east-1"
ACCOUNT = "123456789012"


def substitutions(asl: dict[str, Any]) -> dict[str, str]:
    functions = function_names("dev")
    return {p: f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{functions[ASL_FUNCTION_PLACEHOLDERS[p]]}"
            for p in asl_placeholders(json.dumps(asl))}


def as_deployed(asl: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(asl)
    for placeholder, arn in substitutions(asl).items():
        text = text.replace(f"${{{placeholder}}}", arn)
    return dict(json.loads(text))


def statelint_errors(asl: dict[str, Any]) -> list[str]:
    return list(Linter.validate(as_deployed(asl)))


def cfn_lint_errors(asl: dict[str, Any]) -> list[str]:
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "Definition": asl, "DefinitionSubstitutions": substitutions(asl),
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/machine"}}},
    }
    matches = lint(json.dumps(template), regions=[REGION])
    return [f"{m.rule.id} {m.message} at {'/'.join(map(str, m.path))}" for m in matches if m.rule.id.startswith("E")]


@pytest.fixture(params=sorted(state_machine_files()))
def asl(request: pytest.FixtureRequest) -> dict[str, Any]:
    return load_asl(request.param)


def test_statelint_finds_no_error(asl: dict[str, Any]) -> None:
    assert statelint_errors(asl) == []


def test_cfn_lint_finds_no_error_in_the_definition(asl: dict[str, Any]) -> None:
    assert cfn_lint_errors(asl) == []


# -- the linters do catch what AWS would reject ------------------------------------------------------
def test_statelint_rejects_an_integer_backoff_rate_and_a_dangling_next() -> None:
    # Given the lifecycle with the two mistakes the file used to / could have
    broken = copy.deepcopy(load_asl("lifecycle"))
    broken["States"]["Triage"]["Retry"][0]["BackoffRate"] = 2
    broken["States"]["Timeout"]["Next"] = "Nowhere"
    # Then statelint names both
    errors = statelint_errors(broken)
    assert "State Machine.States.Triage.Retry[0].BackoffRate is 2 but should be a Float" in errors
    assert 'No state found named "Nowhere", referenced at State Machine.States.Timeout.Next' in errors


def test_cfn_lint_rejects_unknown_fields_types_and_ranges() -> None:
    broken = copy.deepcopy(load_asl("lifecycle"))
    broken["States"]["Triage"]["Retries"] = []
    broken["States"]["Triage"]["Retry"][0]["BackoffRate"] = -1.0
    broken["States"]["Closed"]["Type"] = "Sleep"
    errors = cfn_lint_errors(broken)
    assert any("'Retries' was unexpected" in e for e in errors), errors
    assert any("-1.0 is less than the minimum of 0" in e for e in errors), errors
    assert any("'Sleep' is not one of" in e for e in errors), errors
