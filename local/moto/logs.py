"""Quiet consoles: what moto, werkzeug and chalice log that says nothing to a developer of
this app while the local system runs."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

# logger -> level while the local system runs: werkzeug's per-request lines of the moto
# server, and the ASL interpreter's ERROR line (with a page-long repr) for every error a
# Retry/Catch handles - the execution history records those anyway.
QUIET_LOGGERS = {
    "werkzeug": logging.WARNING,
    "moto.stepfunctions.parser.asl.component.eval_component": logging.CRITICAL,
}

# Warnings that say nothing to a developer of this app, once per process: chalice's local
# server on every Cognito-authorized route (the local system verifies the token itself), and
# Powertools' "no metrics" on every invocation of a function whose metrics are all single ones.
QUIET_WARNINGS = (
    r"CognitoUserPoolAuthorizer is not a supported in local mode",
    r"No application metrics to publish",
)


@contextmanager
def quiet() -> Iterator[None]:
    """Silence the noisy loggers and warnings above; restore everything afterwards."""
    previous = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    for name, level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    with warnings.catch_warnings():
        for message in QUIET_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=UserWarning)
        try:
            yield
        finally:
            for name, level in previous.items():
                logging.getLogger(name).setLevel(level)
