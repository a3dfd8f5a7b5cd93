"""The local API server's console: a client that hangs up early is no traceback there; any
other handler error still is."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from local.http import ApiHttpServer


@pytest.fixture
def server() -> Iterator[ApiHttpServer]:
    srv = ApiHttpServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    yield srv
    srv.server_close()


@pytest.mark.parametrize("gone", [BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset"), TimeoutError()])
def test_a_client_gone_before_its_answer_prints_nothing(server: ApiHttpServer, gone: Exception,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    try:
        raise gone
    except OSError:
        server.handle_error(None, ("127.0.0.1", 40800))
    assert capsys.readouterr().err == ""


def test_a_handler_that_fails_otherwise_is_still_reported(server: ApiHttpServer, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        raise ValueError("a bug in a handler")
    except ValueError:
        server.handle_error(None, ("127.0.0.1", 40800))
    err = capsys.readouterr().err
    assert "ValueError: a bug in a handler" in err and "Traceback" in err
