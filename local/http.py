"""The Chalice app over HTTP, in a thread, with the dev tokens *verified*.

Chalice's local server only decodes the JWT of a Cognito-authorized route (it never checks
the signature). Here every request that carries an ``Authorization`` header is checked
first: a tampered, foreign or expired token gets ``401 {"error": {"code": "unauthorized"}}``
before the app sees it. A request without the header goes through with no claims and the
app answers 401 itself, as behind API Gateway's Cognito authorizer.

Requests under ``/console`` never reach the app: :mod:`local.console` serves the agent console
there (static files, its config, the local-only dev sign-in and the ops report link).
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from pathlib import Path
from typing import Any

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import ChaliceRequestHandler, LocalChalice, LocalDevServer

from local.console import LocalConsole
from local.tokens import InvalidToken, TokenIssuer

LOG = logging.getLogger(__name__)


def unauthorized_body(message: str) -> bytes:
    return json.dumps({"error": {"code": "unauthorized", "message": message, "details": []}}).encode()


class VerifyingRequestHandler(ChaliceRequestHandler):
    """Chalice's request handler behind a signature check of the bearer token."""

    def __init__(self, *args: Any, issuer: TokenIssuer, console: LocalConsole | None = None, **kwargs: Any) -> None:
        self._issuer = issuer
        self._console = console
        super().__init__(*args, **kwargs)

    def _verified_handle(self) -> None:
        if self._console is not None and self._console.handles(self.path):
            self._console.serve(self)
            return
        authorization = self.headers.get("Authorization")
        if authorization is not None:
            try:
                self._issuer.verify(authorization)
            except InvalidToken as exc:
                self._reject(f"invalid token: {exc}")
                return
        self._generic_handle()

    def _reject(self, message: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > 0:
            self.rfile.read(length)  # keep the connection usable for the next request
        body = unauthorized_body(message)
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
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
        self._server = LocalDevServer(_as_local_app(app), config, host, port, handler_cls=handler)
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
