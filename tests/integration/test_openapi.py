"""GET /openapi.json: the OpenAPI 3.1 document made from the route table and the routes'
pydantic models — valid, complete (every Chalice route and method, nothing else), and
describing what the handlers really validate with."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from openapi_spec_validator import validate
from openapi_spec_validator.versions.shortcuts import get_spec_version

import app as app_module
from chalicelib import openapi
from chalicelib.models import ComplaintIn
from chalicelib.operations import operation_of, resolve

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return openapi.document(app_module.app)


def chalice_routes() -> set[tuple[str, str]]:
    return {(path, method.lower()) for path, methods in app_module.app.routes.items() for method in methods}


def documented(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def deref(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema["$ref"]
    assert ref.startswith("#/components/schemas/")
    return dict(doc["components"]["schemas"][ref.rsplit("/", 1)[1]])


def test_the_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    assert get_spec_version(doc).major == "3" and get_spec_version(doc).minor == "1"
    validate(doc)  # raises on any violation of the OpenAPI 3.1 schema and its JSON Schema dialect


def test_every_chalice_route_is_in_the_document_and_nothing_else(doc: dict[str, Any]) -> None:
    assert {(path, method) for path, method, _ in documented(doc)} == chalice_routes()


def test_every_route_is_declared_with_its_models() -> None:
    undeclared = sorted(f"{m} {p}" for p, methods in app_module.app.routes.items()
                        for m, entry in methods.items() if operation_of(entry.view_function) is None)
    assert not undeclared, f"declare these routes with Operations.route (chalicelib/operations.py): {undeclared}"


def test_security_error_statuses_and_shapes(doc: dict[str, Any]) -> None:
    assert doc["components"]["securitySchemes"]["cognito"] == {**doc["components"]["securitySchemes"]["cognito"],
                                                               "type": "http", "scheme": "bearer"}
    for path, method, op in documented(doc):
        entry = app_module.app.routes[path][method.upper()]
        spec = operation_of(entry.view_function)
        assert spec is not None
        if entry.authorizer is None:
            assert op["security"] == [] and "401" not in op["responses"], path
        else:
            assert op["security"] == [{"cognito": []}] and {"401", "403"} <= set(op["responses"]), path
            assert op["x-groups"] == list(spec.groups) and spec.groups
        assert "500" in op["responses"]
        for status, response in op["responses"].items():
            schema = deref(doc, response["content"]["application/json"]["schema"])
            if int(status) >= 400:
                assert schema["title"] == "ErrorBody", (path, method, status)
            else:
                assert schema["title"] == resolve(spec.answers[int(status)]).__name__
        if spec.body is not None:
            assert {"400", "413", "415"} <= set(op["responses"])
            body = deref(doc, op["requestBody"]["content"]["application/json"]["schema"])
            assert body["title"] == resolve(spec.body).__name__


def test_request_schemas_are_the_models_the_handlers_validate_with(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/complaints"]["post"]
    schema = deref(doc, op["requestBody"]["content"]["application/json"]["schema"])
    own = ComplaintIn.model_json_schema(ref_template="#/components/schemas/{model}")
    assert schema["required"] == own["required"] and schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(ComplaintIn.model_fields)
    assert schema["properties"]["description"] == own["properties"]["description"]


def test_query_and_path_parameters_carry_their_constraints(doc: dict[str, Any]) -> None:
    params = {p["name"]: p for p in doc["paths"]["/customers/{customer_id}/complaints"]["get"]["parameters"]}
    assert params["customer_id"]["in"] == "path" and params["customer_id"]["schema"]["maxLength"] == 200
    assert params["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
    assert params["next"]["required"] is False and params["next"]["schema"]["type"] == "string"
    report = {p["name"]: p for p in doc["paths"]["/reports/summary"]["get"]["parameters"]}
    assert report["from"]["required"] and report["to"]["required"] and report["top"]["schema"]["maximum"] == 100


def test_the_document_is_served_without_a_token() -> None:
    with Client(app_module.app, stage_name="dev") as client:
        resp = client.http.get("/openapi.json")
    assert resp.status_code == 200
    assert json.loads(resp.body) == json.loads(json.dumps(openapi.document(app_module.app)))


def test_an_undeclared_route_is_still_documented_and_flagged() -> None:
    from chalice import Chalice, CognitoUserPoolAuthorizer

    from chalicelib.http import handled, json_response

    other = Chalice(app_name="other")
    auth = CognitoUserPoolAuthorizer("pool", provider_arns=["arn:aws:cognito-idp:us-east-1:0:userpool/x"])

    @other.route("/things/{thing_id}", methods=["DELETE"], authorizer=auth)
    @handled
    def delete_thing(thing_id: str) -> Any:
        return json_response({})

    doc = openapi.document(other)
    validate(doc)
    op = doc["paths"]["/things/{thing_id}"]["delete"]
    assert op["x-undocumented"] is True and op["security"] == [{"cognito": []}]
    assert {"401", "403", "500"} <= set(op["responses"]) and op["parameters"][0]["name"] == "thing_id"
