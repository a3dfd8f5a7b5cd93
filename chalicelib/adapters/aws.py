"""boto3 clients, created lazily on first use and shared by the adapters of one process, and
the one list of AWS error codes worth retrying.

boto3 is provided by the Lambda runtime (not in requirements.txt); importing it is deferred
to the first call so cold start pays only for the clients a function really uses.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.config import settings

# Answers of AWS that mean "not now": the same call may succeed a moment later.
RETRYABLE_ERRORS = frozenset({
    "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "TransactionConflictException", "InternalServerError", "ServiceUnavailable", "TooManyRequestsException",
})


# Messaging is retried per message by the step that sends it (chalicelib/outbox.py: 3 tries),
# so the SDK tries once, and briefly: a hung SNS/SES endpoint cannot eat the step's time.
SEND_ONCE_SERVICES = frozenset({"sns", "ses"})


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    cfg = settings()
    if service in SEND_ONCE_SERVICES:
        config = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2, read_timeout=5)
    else:
        config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)
    return boto3.client(service, endpoint_url=cfg.aws_endpoint_url, config=config)


@cache
def presigner(service: str) -> Any:
    """A client that only signs URLs (no call is made with it), for the endpoint customers'
    apps reach: ``settings().uploads_endpoint_url`` (path-style, so a local endpoint works)."""
    import boto3
    from botocore.config import Config

    cfg = settings()
    endpoint = cfg.uploads_endpoint_url or cfg.aws_endpoint_url
    return boto3.client(service, endpoint_url=endpoint,
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path" if endpoint else "auto"}))


class LazyClient:
    """Stands for ``client(service)`` and creates it on the first attribute used, so wiring
    every adapter up front costs nothing until one of them really calls AWS."""

    def __init__(self, service: str) -> None:
        self.service = service

    def __getattr__(self, name: str) -> Any:
        return getattr(client(self.service), name)

    def __repr__(self) -> str:
        return f"LazyClient({self.service!r})"


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` ('' for anything else)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    return str((response.get("Error") or {}).get("Code", ""))


def is_retryable(exc: BaseException) -> bool:
    return error_code(exc) in RETRYABLE_ERRORS


def reset() -> None:
    """Forget the clients (tests that change the environment call this)."""
    client.cache_clear()
    presigner.cache_clear()
