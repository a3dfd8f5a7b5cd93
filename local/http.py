"""The Chalice app over HTTP, in a thread, with the dev tokens *verified*.

Chalice's local server only decodes the JWT of a Cognito-authorized route (it never checks
the signature). Here every request that carries an ``Authorization`` header is checked
first: a tampered, foreign or expired token gets ``401 {"error": {"code": "unauthorized"}}``
before the app sees it. A request without the header goes through with no claims and the
app answers 401 itself, as behind API Gateway's Cognito authorizer.

Requests under ``/console`` never reach the app: :mod:`local.console` serves the agent console
there (static files, its config, the local-only dev sign-in and the ops report link).

What API Gateway does before a request reaches the function is done here too, in the API's
error shape (docs/api.md): an unknown route is a 404 and an unknown method a 405 (API
Gateway's own answers are mapped to the same shape in the template, ``infra/console.py``); a
``Content-Length`` that is not a number is a 400 and one over the body limit a 413, answered
without reading the body. The server holds 50+ concurrent clients (listen backlog) and a
client that stops sending mid-request times out instead of holding its thread.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import threading
from pathlib import Path
from typing import Any

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import ChaliceRequestHandler, LocalChalice, LocalDevServer, RouteMatcher, ThreadedHTTPServer

from chalicelib.config import settings
from local.console import LocalConsole
from local.tokens import InvalidToken, TokenIssuer

LOG = logging.getLogger(__name__)


LISTEN_BACKLOG = 128  # connections waiting to be accepted (socketserver's default is 5)
READ_TIMEOUT_SECONDS = 30  # a client silent this long mid-request is disconnected


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "details": []}}).encode()


def unauthorized_body(message: str) -> bytes:
    return error_body("unauthorized", message)


class ApiHttpServer(ThreadedHTTPServer):
    """Chalice's threaded server with a listen backlog for many concurrent clients."""

    request_queue_size = LISTEN_BACKLOG

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up before its answer was written is a line in the debug log, not
        a traceback on the console (socketserver prints every handler error to stderr)."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):  # BrokenPipe, ConnectionReset, a read timeout
            LOG.debug("client %s gone before its answer: %s", client_address, type(error).__name__)
            return
        super().handle_error(request, client_address)


class VerifyingRequestHandler(ChaliceRequestHandler):
    """Chalice's request handler behind what API Gateway checks first: the route and method,
    the body's length, and the bearer token's signature and claims."""

    timeout = READ_TIMEOUT_SECONDS  # socketserver sets it on the connection's socket

    def __init__(self, request: Any, client_address: Any, server: Any, *, issuer: TokenIssuer,
                 app_object: Chalice, config: Config, console: LocalConsole | None = None) -> None:
        self._issuer = issuer
        self._console = console
        self._routes = app_object.routes
        self._matcher = RouteMatcher(list(app_object.routes))
        self._body: bytes | None = None
        super().__init__(request, client_address, server, app_object, config)  # handles the connection

    def _verified_handle(self) -> None:
        if self._console is not None and self._console.handles(self.path):
            self._console.serve(self)
            return
        length = self._content_length()
        if length is None:
            return
        try:
            route = self._matcher.match_route(self.path).route
        except ValueError:
            self._answer(404, error_body("not_found", f"no route {self.path.split('?')[0]}"), length)
            return
        methods = self._routes[route]
        if self.command not in methods and self.command != "OPTIONS":
            self._answer(405, error_body("method_not_allowed", f"{self.command} is not allowed here"), length,
                         {"Allow": ", ".join(sorted(methods))})
            return
        authorization = self.headers.get("Authorization")
        entry = methods.get(self.command)
        if authorization is not None and entry is not None and entry.authorizer is not None:  # as API Gateway
            try:
                self._issuer.verify(authorization)
            except InvalidToken as exc:
                self._answer(401, unauthorized_body(f"invalid token: {exc}"), length,
                             {"WWW-Authenticate": 'Bearer error="invalid_token"'})
                return
        try:
            self._body = self.rfile.read(length) if length else None
        except TimeoutError:
            self.close_connection = True  # the client stopped sending: nothing to answer
            return
        self._generic_handle()

    def _content_length(self) -> int | None:
        """The declared body length; None once a 400/413 is answered (the connection closed,
        its body unread)."""
        raw = self.headers.get("Content-Length")
        if raw is None:
            return 0
        if not (raw.strip().isascii() and raw.strip().isdigit()):
            self._answer(400, error_body("validation_error", "Content-Length is not a number"), None)
            return None
        length = int(raw.strip())
        if length > settings().max_body_bytes:
            self._answer(413, error_body("payload_too_large", f"the body is over {settings().max_body_bytes // 1024} KiB"),
                         None)
            return None
        return length

    def _parse_payload(self) -> tuple[dict[str, Any], bytes | None]:
        return dict(self.headers), self._body  # read (and checked) by _verified_handle

    def _answer(self, status: int, body: bytes, unread: int | None, headers: dict[str, str] | None = None) -> None:
        """An answer of ours before the app; the connection stays usable only if the body
        could be skipped (``unread``: its length, None when unknown or too large)."""
        if unread:
            try:
                self.rfile.read(unread)
            except TimeoutError:
                unread = None
        if unread is None:
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _verified_handle

    def log_message(self, format: str, *args: Any) -> None:
        LOG.debug("%s - %s", self.address_string(), format % args)


def read_chalice_config(project_dir: Path) -> dict[str, Any]:
    config_file = project_dir / ".chalice" / "config.json"
    return json.loads(config_file.read_text(encoding="utf-8")) if config_file.is_file() else {}


def config_stage(from_disk: dict[str, Any], stage: str) -> str:
    """The stage of ``.chalice/config.json`` whose settings apply: ``stage`` if declared there,
    else ``dev`` (the local system runs what dev runs)."""
    stages = from_disk.get("stages", {})
    return stage if stage in stages or "dev" not in stages else "dev"


def chalice_config(app: Chalice, stage: str, project_dir: Path, function_name: str = "api_handler") -> Config:
    """Chalice's config of one function (timeouts, memory) from ``.chalice/config.json``."""
    from_disk = read_chalice_config(project_dir)
    return Config(
        chalice_stage=config_stage(from_disk, stage),
        function_name=function_name,
        user_provided_params={"chalice_app": app, "project_dir": str(project_dir)},
        config_from_disk=from_disk,
        default_params={"lambda_timeout": 60, "lambda_memory_size": 128},
    )


def _as_local_app(app: Chalice) -> Chalice:
    """What ``chalice.local.create_local_server`` does to the app (thread-local
    ``current_request``), without mutating Chalice's shared ``CustomLocalChalice`` class."""
    if not isinstance(app, LocalChalice):
        app.__class__ = type(f"Local{type(app).__name__}", (LocalChalice, type(app)), {})
    return app


class ApiServer:
    """Chalice's ``LocalDevServer`` for ``app`` on ``host:port`` (0 = any free port)."""

    def __init__(self, app: Chalice, config: Config, issuer: TokenIssuer, host: str, port: int) -> None:
        handler = functools.partial(VerifyingRequestHandler, issuer=issuer, console=LocalConsole(issuer))
        self._server = LocalDevServer(_as_local_app(app), config, host, port, handler_cls=handler,
                                      server_cls=ApiHttpServer)
        self.host, self.port = self._server.server.server_address[:2]
        self._thread = threading.Thread(target=self._server.server.serve_forever, name="api-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout)
        self._server.server.server_close()
