"""Small helpers for tests that drive the local system (e2e fixtures, runtime tests)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

POLL_INTERVAL_SECONDS = 0.03  # never busy-poll: moto's interpreter threads need the CPU


def wait_until(
    condition: Callable[[], T], timeout: float = 10.0, interval: float = POLL_INTERVAL_SECONDS, what: str = ""
) -> T:
    """Call ``condition`` every ``interval`` seconds until it returns something truthy (which
    is returned); ``AssertionError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {timeout:g} s waiting for {what or condition!r} (last: {value!r})")
        time.sleep(interval)


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes = field(repr=False)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def http(
    method: str,
    url: str,
    *,
    token: str | None = None,
    json_body: Any = None,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> HttpResponse:
    """One HTTP request (stdlib only); 4xx/5xx are returned, not raised."""
    all_headers = dict(headers or {})
    if token is not None:
        all_headers.setdefault("Authorization", f"Bearer {token}")
    if json_body is not None:
        data = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        all_headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpResponse(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return HttpResponse(error.code, dict(error.headers.items()), error.read())
