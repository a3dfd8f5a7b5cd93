"""boto3 clients, created lazily on first use and shared by the adapters of one process.

boto3 is provided by the Lambda runtime (not in requirements.txt); importing it is deferred
to the first call so cold start pays only for the clients a function really uses.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.config import settings


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    cfg = settings()
    return boto3.client(
        service,
        endpoint_url=cfg.aws_endpoint_url,
        config=Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10),
    )


def reset() -> None:
    """Forget the clients (tests that change the environment call this)."""
    client.cache_clear()
