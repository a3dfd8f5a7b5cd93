"""What each HTTP route is, declared once next to it: who may call it, the pydantic models of
its query, body and answers, and the errors it can give. The same declaration runs the route
(the caller checked, the path, query and body validated before the view runs) and describes
it (``chalicelib/openapi.py`` walks ``app.routes`` and reads it), so the OpenAPI document
cannot drift from what the handlers validate with.

    api = Operations(app, authorizer)

    @api.route("POST", "/complaints/{complaint_id}/escalate", "Escalate a complaint", groups=STAFF,
               body="chalicelib.models:EscalateIn", answers={200: "chalicelib.responses:Summary"},
               errors=(404, 409))
    def escalate(complaint_id: str, caller: Caller, body: EscalateIn) -> Response: ...

``Operations.route`` registers the Chalice route itself (with the authorizer when the route
has groups, and any content type: ``json_body`` answers a wrong one with a 415 in our error
shape).

Models are named ``"module:Class"`` (or given as classes) and imported on the first request
that needs them, so declaring a route costs a function's cold start nothing (app.py imports
per-handler code lazily). The view gets the path parameters, plus ``caller`` (routes with
groups), ``body`` (routes with a body model) and ``query`` (routes with a query model) as
keyword arguments. A route with no ``@operation`` (only ``@handled``) still runs and is still
in the document, without schemas; ``tests/integration/test_openapi.py`` names it.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote

from chalice import Chalice, Response
from chalice.app import Authorizer

from chalicelib.http import HttpError, caller_of, handled, json_body, validation_details

if TYPE_CHECKING:
    from pydantic import BaseModel

PUBLIC: tuple[str, ...] = ()  # no identity needed (routes without an authorizer)
ATTRIBUTE = "__operation__"


@dataclass(frozen=True)
class Operation:
    summary: str
    groups: tuple[str, ...]
    answers: Mapping[int, Any]  # status -> model (ref) of its JSON body
    body: Any = None  # model (ref) of the JSON body, or None
    query: Any = None  # model (ref) of the query parameters, or None
    errors: tuple[int, ...] = ()  # statuses beyond those the declaration implies
    description: str = ""
    tags: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)  # request header -> description

    def error_statuses(self, authorized: bool, path_params: bool) -> list[int]:
        """Every error status the route can answer with (the docs/api.md error shape)."""
        statuses = set(self.errors) | {500}
        if authorized:  # and it reads or writes the store: AWS may say "not now" (503)
            statuses |= {401, 403, 503}
        if self.body is not None:
            statuses |= {400, 413, 415}
        if self.query is not None or path_params:
            statuses.add(400)
        return sorted(statuses)


def resolve(ref: Any) -> type[BaseModel]:
    """A model from its ``"module:Class"`` name (imported once) or the model itself."""
    return _import(ref) if isinstance(ref, str) else cast("type[BaseModel]", ref)


@functools.cache
def _import(ref: str) -> type[BaseModel]:
    module, _, name = ref.partition(":")
    model: type[BaseModel] = getattr(importlib.import_module(module), name)
    return model


class Operations:
    """The routes of one Chalice app, each declared with its :class:`Operation`."""

    def __init__(self, app: Chalice, authorizer: Authorizer) -> None:
        self.app, self.authorizer = app, authorizer

    def route(
        self,
        method: str,
        path: str,
        summary: str,
        *,
        groups: tuple[str, ...] | list[str],
        answers: Mapping[int, Any],
        body: Any = None,
        query: Any = None,
        errors: tuple[int, ...] = (),
        description: str = "",
        tags: tuple[str, ...] = (),
        headers: Mapping[str, str] | None = None,
    ) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
        """Register ``method path`` on the app, run by its declaration (see the module)."""
        spec = Operation(summary=summary, groups=tuple(groups), answers=dict(answers), body=body, query=query,
                         errors=tuple(errors), description=description, tags=tuple(tags),
                         headers=dict(headers or {}))
        # any content type: json_body answers a wrong one with a 415 in our shape (Chalice's own
        # check would answer in its shape, even for a GET that carries no body)
        options: dict[str, Any] = {"methods": [method], "content_types": ["*/*"]}
        if spec.groups:
            options["authorizer"] = self.authorizer

        def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
            @functools.wraps(view)
            def run(**path_params: str) -> Response:
                request = self.app.current_request
                assert request is not None  # Chalice sets it before it calls a view
                arguments: dict[str, Any] = {}
                if spec.groups:  # who first: nothing about the input is revealed to a stranger
                    caller = caller_of(request)
                    if not caller.groups & set(spec.groups):
                        raise HttpError(403, "forbidden", "your role may not do this")
                    arguments["caller"] = caller
                arguments.update({name: _path_param(name, value) for name, value in path_params.items()})
                if spec.query is not None:
                    arguments["query"] = _validated(resolve(spec.query), dict(request.query_params or {}), "query")
                if spec.body is not None:
                    arguments["body"] = _validated(resolve(spec.body), json_body(request), "body")
                return view(**arguments)

            wrapper = handled(run)
            setattr(wrapper, ATTRIBUTE, spec)
            self.app.route(path, **options)(wrapper)
            return wrapper

        return decorate


def operation_of(view: Callable[..., Any]) -> Operation | None:
    """The declaration of a route's view function (None for an undeclared route)."""
    spec = getattr(view, ATTRIBUTE, None)
    return spec if isinstance(spec, Operation) else None


def _validated(model: type[BaseModel], data: dict[str, Any], where: str) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        message = "the request is not valid" if where == "body" else "a query parameter is not valid"
        raise HttpError(400, "validation_error", message, validation_details(exc)) from exc


def _path_param(name: str, value: str) -> str:
    """A path parameter, percent-decoded (API Gateway and Chalice hand it over as sent), checked
    against its declared shape (``chalicelib.models.PATH_PARAMETERS``): a value DynamoDB could
    never hold as a key (empty, 5,000 characters) is a 400 naming it."""
    from chalicelib.models import path_parameter

    try:
        return path_parameter(name).validate_python(unquote(value, errors="strict"))
    except UnicodeDecodeError as exc:
        raise HttpError(400, "validation_error", f"{name} is not valid",
                        [{"field": name, "message": "not UTF-8 once percent-decoded"}]) from exc
    except ValueError as exc:
        raise HttpError(400, "validation_error", f"{name} is not valid",
                        [{"field": name, "message": _first_message(exc)}]) from exc


def _first_message(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        found = errors(include_url=False)
        if found:
            return str(found[0]["msg"])
    return str(exc)
