"""The agent console in the local system, on the API's port under ``/console/``.

- ``GET /console/…``: the source site (``console/``) with the content types and security
  headers of :mod:`console.site`, ``Cache-Control: no-cache`` and an ETag (files change while
  you work on them, so every load revalidates; a release build caches its assets for a year).
- ``GET /console/config.json``: local sign-in, the same-origin API, the scaled clock.
- ``POST /console/dev-token`` ``{"user": "A-7", "group": "agents"}``: the sign-in form's dev
  token (staff groups only). It exists only here: in AWS the console signs in with Cognito.
  A JSON body is required, so another site open in the same browser cannot use it without a
  CORS preflight, which this endpoint never answers.
- ``POST /console/report-link`` (bearer token of a supervisor or ops) ``{"from", "to",
  "lang"}`` -> ``{"url": "report?ticket=…"}``: a one-time link, valid a minute, to
  ``GET /console/report?ticket=…``, the ops report of ``python -m local report`` rendered with
  the caller's token from the API's ``/reports/*`` (no back door).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from collections import OrderedDict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from console import site
from local.tokens import InvalidToken, TokenIssuer

PREFIX = "/console"
MAX_BODY_BYTES = 4096
REPORT_GROUPS = frozenset({"supervisors", "ops"})
REPORT_LINK_TTL_S = 60.0
MAX_REPORT_LINKS = 64
Date = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}(T[0-9:]+Z)?$")]


class DevSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")]
    group: Literal["agents", "supervisors", "ops"]


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: Date  # "from" in the body
    end: Date  # "to" in the body, exclusive
    lang: Literal["zh-CN", "en"] = "zh-CN"

    @classmethod
    def of(cls, body: dict[str, Any]) -> ReportRequest:
        renamed = {("start" if k == "from" else "end" if k == "to" else k): v for k, v in body.items()}
        return cls.model_validate(renamed)


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    headers: dict[str, str]


class ReportLinks:
    """One-time report links: ticket -> (token, request), a minute each, at most a few dozen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._links: OrderedDict[str, tuple[float, str, ReportRequest]] = OrderedDict()

    def issue(self, token: str, request: ReportRequest) -> str:
        ticket = secrets.token_urlsafe(24)
        with self._lock:
            self._links[ticket] = (time.monotonic() + REPORT_LINK_TTL_S, token, request)
            while len(self._links) > MAX_REPORT_LINKS:
                self._links.popitem(last=False)
        return ticket

    def redeem(self, ticket: str) -> tuple[str, ReportRequest] | None:
        with self._lock:
            found = self._links.pop(ticket, None)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1], found[2]


class LocalConsole:
    """Answers every request under ``/console`` for the local HTTP server."""

    def __init__(self, issuer: TokenIssuer) -> None:
        self._issuer = issuer
        self._links = ReportLinks()

    @staticmethod
    def handles(path: str) -> bool:
        route = urllib.parse.urlsplit(path).path
        return route == PREFIX or route.startswith(PREFIX + "/")

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        try:
            reply = self._route(handler)
        except Exception as exc:  # a bug here must not kill the server thread nor leak a trace
            reply = _error(500, "internal_error", f"the local console failed: {type(exc).__name__}")
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(reply.body)

    def _route(self, handler: BaseHTTPRequestHandler) -> _Reply:
        url = urllib.parse.urlsplit(handler.path)
        route = urllib.parse.unquote(url.path)
        method = handler.command
        if route == PREFIX:
            return _Reply(308, b"", {"Location": f"{PREFIX}/" + (f"?{url.query}" if url.query else "")})
        relative = route.removeprefix(PREFIX + "/")
        if relative in ("dev-token", "report-link"):
            if method != "POST":
                _drain(handler)
                return _error(405, "method_not_allowed", "use POST", {"Allow": "POST"})
            body = _json_body(handler)
            if isinstance(body, _Reply):
                return body
            return self._dev_token(body) if relative == "dev-token" else self._report_link(handler, body)
        if method not in ("GET", "HEAD"):
            _drain(handler)
            return _error(405, "method_not_allowed", "the console is read-only", {"Allow": "GET, HEAD"})
        if relative == site.CONFIG:
            return self._config()
        if relative == "report":
            return self._report(handler, urllib.parse.parse_qs(url.query).get("ticket", [""])[0])
        path = site.source_file(relative or site.INDEX)
        if path is None:
            return _Reply(404, b"not found\n", {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"})
        return _static(handler, path.read_bytes(), str(site.content_type(path.name)))

    def _config(self) -> _Reply:
        from chalicelib.config import settings

        cfg = settings()
        clock = (site.ScaledClock(scale=cfg.time_scale, epoch=cfg.clock_epoch)
                 if cfg.time_scale != 1.0 and cfg.clock_epoch is not None else None)
        config = site.ConsoleConfig(stage=cfg.stage, auth=site.LocalSignIn(), report=site.LocalReport(), clock=clock)
        return _Reply(200, config.body(), {"Content-Type": site.CONTENT_TYPES[".json"], "Cache-Control": "no-store",
                                           "X-Content-Type-Options": "nosniff"})

    def _dev_token(self, body: dict[str, Any]) -> _Reply:
        try:
            request = DevSignIn.model_validate(body)
        except ValidationError as exc:
            return _invalid(exc)
        token = self._issuer.mint(request.user, request.group)
        return _json(200, {"token": token, "user": request.user, "groups": [request.group]})

    def _report_link(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> _Reply:
        authorization = handler.headers.get("Authorization") or ""
        try:
            claims = self._issuer.verify(authorization)
        except InvalidToken as exc:
            return _error(401, "unauthorized", f"a valid bearer token is required: {exc}")
        if not REPORT_GROUPS & set(claims.get("cognito:groups") or []):
            return _error(403, "forbidden", "the report is for supervisors and ops")
        try:
            request = ReportRequest.of(body)
        except ValidationError as exc:
            return _invalid(exc)
        ticket = self._links.issue(authorization.removeprefix("Bearer ").strip(), request)
        return _json(200, {"url": f"report?ticket={ticket}"})

    def _report(self, handler: BaseHTTPRequestHandler, ticket: str) -> _Reply:
        from local.report import ReportError, http_source, report_html

        redeemed = self._links.redeem(ticket)
        if redeemed is None:
            return _page(404, "This report link has expired or was used already: open the report again from the console. "
                              "报表链接已失效，请在工作台中重新打开报表。")
        token, request = redeemed
        host, port = handler.connection.getsockname()[:2]  # this server: the API is on the same port
        try:
            page = report_html(http_source(f"http://{host}:{port}", token), request.start, request.end,
                               lang=request.lang, source="local system")
        except ReportError as exc:
            return _page(502, f"No report: {exc}")
        return _Reply(200, page.encode("utf-8"), {"Content-Type": site.CONTENT_TYPES[".html"], "Cache-Control": "no-store",
                                                  "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})


def _static(handler: BaseHTTPRequestHandler, data: bytes, content_type: str) -> _Reply:
    etag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
    headers = {"Content-Type": content_type, "Cache-Control": site.REVALIDATE, "ETag": etag, **site.security_headers()}
    if etag in [t.strip() for t in (handler.headers.get("If-None-Match") or "").split(",")]:
        return _Reply(304, b"", {k: v for k, v in headers.items() if k != "Content-Type"})
    return _Reply(200, data, headers)


def _drain(handler: BaseHTTPRequestHandler) -> None:
    length = int(handler.headers.get("Content-Length") or 0)
    if 0 < length <= 1 << 20:
        handler.rfile.read(length)


def _json_body(handler: BaseHTTPRequestHandler) -> dict[str, Any] | _Reply:
    length = int(handler.headers.get("Content-Length") or 0)
    if length > MAX_BODY_BYTES:
        _drain(handler)
        return _error(413, "payload_too_large", f"the body is over {MAX_BODY_BYTES} bytes")
    raw = handler.rfile.read(length) if length > 0 else b""
    kind = (handler.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if kind != "application/json":
        return _error(415, "unsupported_media_type", "send the body as application/json")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return _error(400, "malformed_json", f"the body is not valid JSON: {exc}")
    if not isinstance(body, dict):
        return _error(400, "validation_error", "the body must be a JSON object", details=[{"field": "", "message": "expected a JSON object"}])
    return body


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> _Reply:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return _Reply(status, data, {"Content-Type": site.CONTENT_TYPES[".json"], "Cache-Control": "no-store", **(headers or {})})


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None,
           details: list[dict[str, str]] | None = None) -> _Reply:
    return _json(status, {"error": {"code": code, "message": message, "details": details or []}}, headers)


def _invalid(exc: ValidationError) -> _Reply:
    aliases = {"start": "from", "end": "to"}
    details = [{"field": ".".join(aliases.get(str(p), str(p)) for p in e["loc"]),
                "message": "unknown field" if e["type"] == "extra_forbidden" else e["msg"]}
               for e in exc.errors(include_url=False)]
    return _error(400, "validation_error", "the request is not valid", details=details)


def _page(status: int, message: str) -> _Reply:
    import html

    body = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{status}</title></head>'
            f"<body><p>{html.escape(message)}</p></body></html>").encode()
    return _Reply(status, body, {"Content-Type": site.CONTENT_TYPES[".html"], "Cache-Control": "no-store"})
