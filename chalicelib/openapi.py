"""The OpenAPI 3.1 document of the HTTP API (``GET /openapi.json``), made from the Chalice
app's own route table and each route's :class:`~chalicelib.operations.Operation`: every
route and method Chalice serves is in it (a route without a declaration too, marked
``x-undocumented``), with the JSON Schemas pydantic generates from the very models the
routes validate with and answer with. Nothing here is written by hand per route.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalice import Chalice
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from chalicelib.models import path_parameter
from chalicelib.operations import Operation, operation_of, resolve
from chalicelib.responses import ErrorBody

Refs = dict[Any, dict[str, Any]]  # (model, mode) -> its {"$ref": ...}
VERSION = "2.0.0"
SECURITY_SCHEME = "cognito"
REF = "#/components/schemas/{model}"
# what each error status means (docs/api.md, errors): the description of its response
ERRORS: dict[int, tuple[str, tuple[str, ...]]] = {
    400: ("a field, parameter or path segment is missing, wrong or unknown; the body is not JSON; a `next` "
          "token was not issued by us", ("validation_error", "malformed_json")),
    401: ("no valid bearer token", ("unauthorized",)),
    403: ("the caller's groups may not do this (a user in no group may do nothing)", ("forbidden",)),
    404: ("no such complaint (or not the caller's), team or import batch", ("not_found",)),
    409: ("the action no longer applies, or an Idempotency-Key was reused with another body", ("conflict",)),
    413: ("the body is over 64 KiB", ("payload_too_large",)),
    415: ("the body was not sent as application/json", ("unsupported_media_type",)),
    503: ("busy or a dependency unavailable (its workflow did not start, AWS throttled): retry shortly; "
          "a complaint with the same Idempotency-Key", ("service_unavailable",)),
    500: ("our fault; never a stack trace, never for a client's mistake", ("internal_error",)),
}
UNDECLARED_ERRORS = (400, 401, 403, 404, 409, 500, 503)
DESCRIPTION = """The complaint service's HTTP API (docs/api.md). Every route except `/health` and
`/openapi.json` needs `Authorization: Bearer <Cognito ID token>`; the token's `cognito:groups`
decide what the caller may do (each operation's `x-groups`). Every error has one shape:
`{"error": {"code", "message", "details"}}`. A response may carry more fields than listed."""


def document(app: Chalice, server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route of ``app``."""
    routes = [(path, method, entry) for path, methods in sorted(app.routes.items())
              for method, entry in sorted(methods.items())]
    specs = {(path, method): operation_of(entry.view_function) for path, method, entry in routes}
    schemas, refs = _schemas(spec for spec in specs.values() if spec is not None)
    paths: dict[str, dict[str, Any]] = {}
    for path, method, entry in routes:
        spec = specs[(path, method)]
        authorized = entry.authorizer is not None
        item = (_operation(spec, entry.view_name, entry.view_args, authorized, refs) if spec
                else _undeclared(entry.view_name, entry.view_args, authorized))
        paths.setdefault(path, {})[method.lower()] = item
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": f"{app.app_name} API", "version": VERSION, "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {SECURITY_SCHEME: {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "a Cognito user pool ID token (`token_use` id, `aud` the app client); locally "
                               "`python -m local token` mints one (docs/local.md)",
            }},
        },
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc


def _schemas(specs: Iterable[Operation]) -> tuple[dict[str, Any], Refs]:
    """Every model the declarations name -> the components' schemas and a ``$ref`` per model
    and mode (``validation`` for what the API reads, ``serialization`` for what it answers)."""
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(ErrorBody, "serialization"): None}
    for spec in specs:
        if spec.body is not None:
            wanted[(resolve(spec.body), "validation")] = None
        for model in spec.answers.values():
            wanted[(resolve(model), "serialization")] = None
    refs, top = models_json_schema(list(wanted), ref_template=REF)
    return dict(top.get("$defs", {})), dict(refs)


def _operation(spec: Operation, name: str, path_args: list[str], authorized: bool,
               refs: Refs) -> dict[str, Any]:
    item: dict[str, Any] = {"operationId": name, "summary": spec.summary}
    if spec.description:
        item["description"] = spec.description
    if spec.tags:
        item["tags"] = list(spec.tags)
    parameters = _path_parameters(path_args)
    parameters += [{"name": header, "in": "header", "required": False, "description": text, "schema": {"type": "string"}}
                   for header, text in spec.headers.items()]
    if spec.query is not None:
        parameters += _query_parameters(resolve(spec.query))
    if parameters:
        item["parameters"] = parameters
    if spec.body is not None:
        item["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": refs[(resolve(spec.body), "validation")]}}}
    responses: dict[str, Any] = {}
    for status, model in sorted(spec.answers.items()):
        responses[str(status)] = {"description": (resolve(model).__doc__ or "").strip().split("\n")[0] or "OK",
                                  "content": {"application/json": {"schema": refs[(resolve(model), "serialization")]}}}
        if status in (201, 202):
            responses[str(status)]["headers"] = {"Location": {"schema": {"type": "string"}, "description": "the new resource"}}
    for status in spec.error_statuses(authorized, bool(path_args)):
        responses[str(status)] = _error(status, refs)
    item["responses"] = responses
    if authorized:
        item["security"] = [{SECURITY_SCHEME: []}]
        item["x-groups"] = list(spec.groups)
    else:
        item["security"] = []
    return item


def _undeclared(name: str, path_args: list[str], authorized: bool) -> dict[str, Any]:
    """A route nobody declared (``@handled`` only): in the document, without schemas."""
    refs: Refs = dict(models_json_schema([(ErrorBody, "serialization")], ref_template=REF)[0])
    item: dict[str, Any] = {"operationId": name, "summary": name.replace("_", " "), "x-undocumented": True,
                            "responses": {"default": {"description": "not declared yet (chalicelib/operations.py)"}}}
    if path_args:
        item["parameters"] = _path_parameters(path_args)
    for status in UNDECLARED_ERRORS if authorized else (500,):
        item["responses"][str(status)] = _error(status, refs)
    item["security"] = [{SECURITY_SCHEME: []}] if authorized else []
    return item


def _error(status: int, refs: Refs) -> dict[str, Any]:
    description, codes = ERRORS[status]
    return {"description": f"{description} (`{'`, `'.join(codes)}`)",
            "content": {"application/json": {"schema": refs[(ErrorBody, "serialization")]}}}


def _path_parameters(names: list[str]) -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "required": True, "schema": path_parameter(name).json_schema()}
            for name in names]


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(mode="validation", by_alias=True)
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        if "anyOf" in prop:  # an optional parameter is absent, never null
            kinds = [k for k in prop.pop("anyOf") if k != {"type": "null"}]
            prop.update(kinds[0] if len(kinds) == 1 else {"anyOf": kinds})
        if "default" in prop and prop["default"] is None:
            del prop["default"]
        description = prop.pop("description", None)
        prop.pop("title", None)
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters
