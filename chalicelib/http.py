"""HTTP plumbing for the Chalice routes: identity from the authorizer's claims, JSON bodies
validated into pydantic models, and every error in the docs/api.md shape with the right status.
Knows Chalice's request/response objects; knows nothing of the domain rules.

``app.py`` imports this module in every function, so it imports the domain (the caller model,
the exceptions it maps to statuses) only when a request needs it."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from chalice import Response
from chalice.app import CORSConfig
from pydantic import BaseModel, ValidationError

from chalicelib.config import settings
from chalicelib.observability import count, logger

if TYPE_CHECKING:
    from chalicelib.models import Caller

M = TypeVar("M", bound=BaseModel)
STAFF = ("agents", "supervisors")
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


class ConsoleCors(CORSConfig):
    """CORS for the agent console's origin only (``settings().console_origin``), read when a
    response is made rather than when ``app.py`` is imported. No origin configured: no CORS
    headers at all, so no other site's page can read an answer."""

    def __init__(self) -> None:
        super().__init__(allow_headers=["Idempotency-Key"], expose_headers=["Date", "Location"], max_age=600)

    def get_access_control_headers(self) -> dict[str, str]:
        origin = settings().console_origin
        if not origin:
            return {}
        return {**super().get_access_control_headers(), "Access-Control-Allow-Origin": origin, "Vary": "Origin"}


class HttpError(Exception):
    def __init__(self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or []


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False, default=_number), status_code=status,
                    headers={**JSON_HEADERS, **(headers or {})})


def _number(value: Any) -> Any:
    """Stored numbers that are not whole come back as exact Decimals: JSON numbers here."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def error_response(err: HttpError) -> Response:
    return json_response({"error": {"code": err.code, "message": err.message, "details": err.details}}, err.status)


# -- identity --------------------------------------------------------------------------------
def _groups(raw: Any) -> frozenset[str]:
    if isinstance(raw, list | tuple):
        return frozenset(str(g) for g in raw)
    if not isinstance(raw, str) or not raw.strip():
        return frozenset()
    text = raw.strip()
    if text.startswith("["):
        try:
            return frozenset(str(g) for g in json.loads(text))
        except ValueError:
            text = text.strip("[]")
    return frozenset(g for g in text.replace(",", " ").split() if g)


def caller_of(request: Any) -> Caller:
    """The caller from the Cognito authorizer's claims: 401 if there are none, 403 if the
    caller is in none of the service's groups (docs/api.md, identity and roles)."""
    context = getattr(request, "context", None) or {}
    claims = (context.get("authorizer") or {}).get("claims") or {}
    username = claims.get("cognito:username") or claims.get("username")
    if not username:
        raise HttpError(401, "unauthorized", "a valid bearer token is required")
    from chalicelib.models import GROUPS, Caller

    groups = _groups(claims.get("cognito:groups")) & set(GROUPS)
    if not groups:  # a user in no group (or only in groups we do not know) may do nothing
        raise HttpError(403, "forbidden", "your account has no role here")
    return Caller(username=str(username), groups=groups)


def require(caller: Caller, groups: Iterable[str]) -> None:
    if not caller.groups & set(groups):
        raise HttpError(403, "forbidden", "your role may not do this")


# -- bodies ----------------------------------------------------------------------------------
def json_body(request: Any) -> dict[str, Any]:
    raw = request.raw_body or b""
    if len(raw) > settings().max_body_bytes:
        raise HttpError(413, "payload_too_large", f"the body is over {settings().max_body_bytes // 1024} KiB")
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise HttpError(415, "unsupported_media_type", "send the body as application/json")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise HttpError(400, "malformed_json", f"the body is not valid JSON: {exc}") from exc
    except RecursionError as exc:  # nesting deeper than the parser's stack
        raise HttpError(400, "malformed_json", "the body is nested too deeply") from exc
    if not isinstance(body, dict):
        raise HttpError(400, "validation_error", "the body must be a JSON object",
                        [{"field": "", "message": "expected a JSON object"}])
    return body


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(p) for p in err["loc"])
        message = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        details.append({"field": field, "message": message})
    return details


def parse(model: type[M], body: dict[str, Any]) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise HttpError(400, "validation_error", "the request is not valid", validation_details(exc)) from exc


def limit_param(request: Any, default: int, maximum: int = 100) -> tuple[int, str | None]:
    params = request.query_params or {}
    raw = params.get("limit", str(default))
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:  # not "²"
        raise HttpError(400, "validation_error", "limit is out of range",
                        [{"field": "limit", "message": f"an integer from 1 to {maximum}"}])
    return int(raw), params.get("next") or None


# -- one decorator that turns domain outcomes into HTTP --------------------------------------
def _unavailable(exc: BaseException) -> str | None:
    """The AWS error code if ``exc`` (or what it wraps) is a retryable AWS answer (throttling,
    a service that is down), else None: such a failure is a 503 the client may retry."""
    from chalicelib.adapters.aws import error_code, is_retryable

    seen: BaseException | None = exc
    for _ in range(5):  # Powertools' idempotency layer wraps the AWS error it got
        if seen is None:
            return None
        if is_retryable(seen):
            return error_code(seen)
        seen = seen.__cause__ or seen.__context__
    return None



def handled(view: Callable[..., Response]) -> Callable[..., Response]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        from chalicelib.adapters.ports import BadCursor, WorkflowUnavailable
        from chalicelib.changes import KeptChanging, NotFound
        from chalicelib.intake import IdempotencyConflict
        from chalicelib.lifecycle import ActionNotAllowed
        from chalicelib.orders import OrderNotFound
        from chalicelib.uploads import AttachmentRejected

        try:
            return view(*args, **kwargs)
        except HttpError as err:
            return error_response(err)
        except OrderNotFound:  # unknown, or another customer's: the same answer
            return error_response(HttpError(404, "not_found", "no such order",
                                            [{"field": "order_id", "message": "no such order of yours"}]))
        except AttachmentRejected as exc:
            return error_response(HttpError(400, "validation_error", f"attachment {exc.key!r} cannot be attached",
                                            [{"field": f"attachments.{exc.index}", "message": exc.reason}]))
        except NotFound:
            return error_response(HttpError(404, "not_found", "no such complaint"))
        except (ActionNotAllowed, IdempotencyConflict, KeptChanging) as exc:
            answer = error_response(HttpError(409, "conflict", str(exc)))
            if isinstance(exc, KeptChanging):
                answer.headers["Retry-After"] = "1"  # a busy ticket, not a refusal: the same request may pass
            return answer
        except BadCursor as exc:
            return error_response(HttpError(400, "validation_error", str(exc), [{"field": "next", "message": str(exc)}]))
        except WorkflowUnavailable:
            return error_response(HttpError(503, "service_unavailable", "the complaint could not be accepted right now; retry with the same Idempotency-Key"))
        except Exception as exc:
            if (code := _unavailable(exc)) is not None:  # AWS said "not now" beyond the SDK's retries
                count("ApiDependencyUnavailable", code=code)
                logger.warning("a dependency is unavailable", extra={"code": code})
                answer = error_response(HttpError(503, "service_unavailable",
                                                  "the service is busy; retry shortly (with the same Idempotency-Key)"))
                answer.headers["Retry-After"] = "1"
                return answer
            logger.exception("unhandled error")
            return error_response(HttpError(500, "internal_error", "something went wrong on our side"))

    return wrapper
