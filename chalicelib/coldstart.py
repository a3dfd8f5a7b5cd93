"""A Lambda process starts without garbage-collector passes.

A cold start makes tens of thousands of objects — modules, classes, pydantic validators — that
live as long as the process: the collector's passes over them while they are being made are
wasted work (a tenth of a cold start here, bench/README.md). So ``app.py`` turns the collector
off before its first import and calls :func:`app_loaded` at its end. Outside Lambda (tests,
the local system, the CLIs) the collector is back on at once. In Lambda it stays off through
the first invocation, whose handler imports the code it runs; then
:func:`end_after_first_invocation` (Chalice middleware, the outermost) freezes everything
loaded so far out of the collector's way (``gc.freeze``: never scanned again) and turns the
collector back on for the life of the process.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from chalicelib.config import in_lambda

_starting = False


def app_loaded(collector_was_on: bool) -> None:
    global _starting
    if collector_was_on and in_lambda():
        _starting = True
    elif collector_was_on:
        gc.enable()


def started() -> None:
    """The cold start is over: what it loaded is frozen, the collector runs as usual."""
    global _starting
    if _starting:
        _starting = False
        gc.freeze()
        gc.enable()


def end_after_first_invocation(event: Any, get_response: Callable[[Any], Any]) -> Any:
    try:
        return get_response(event)
    finally:
        started()
