"""Dev JWTs for the local system: the claims of a Cognito user-pool ID token, signed HS256.

The secret is random, per checkout, in ``.local-secret`` at the repository root (created on
first use, mode 0600, never committed). Random rather than derived from something in the
checkout, because anything derivable from the checkout (a path, a commit) can be derived by
anyone else too: then "the local API accepts only tokens it minted" would mean nothing.
Per checkout rather than per process, so ``TOKEN=$(python -m local token ...)`` minted in one
shell works against ``python -m local serve`` running in another.
"""

from __future__ import annotations

import os
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_PATH = REPO_ROOT / ".local-secret"
GROUPS = ("customers", "agents", "supervisors", "ops")
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_LOCALDEV"
AUDIENCE = "complaints-local"
ALGORITHM = "HS256"
DEFAULT_TTL_SECONDS = 24 * 3600  # wall-clock; a dev session, not the scaled system clock
_SUB_NAMESPACE = uuid.UUID("6f1c2b9e-5d0a-4c1e-9a57-1c0de0c0ffee")


class InvalidToken(Exception):
    """The token is malformed, tampered with, foreign, expired or not a dev ID token."""


def load_secret(path: Path = DEFAULT_SECRET_PATH) -> bytes:
    """The checkout's signing secret, created on first use (safe against concurrent creators)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text(encoding="ascii").strip().encode()
        if len(secret) < 32:
            raise InvalidToken(f"{path} holds no usable secret; delete it to create a new one") from None
        return secret
    value = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value.encode()


@dataclass(frozen=True)
class TokenIssuer:
    """Mints and verifies dev tokens with one secret."""

    secret: bytes

    @classmethod
    def for_checkout(cls, path: Path = DEFAULT_SECRET_PATH) -> TokenIssuer:
        return cls(load_secret(path))

    def mint(self, user: str, groups: list[str] | tuple[str, ...] | str, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> str:
        group_list = [groups] if isinstance(groups, str) else list(groups)
        unknown = [g for g in group_list if g not in GROUPS]
        if unknown:
            raise ValueError(f"unknown group(s) {unknown}; groups are {', '.join(GROUPS)}")
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": str(uuid.uuid5(_SUB_NAMESPACE, user)),
            "cognito:username": user,
            "cognito:groups": group_list,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "token_use": "id",
            "auth_time": now,
            "iat": now,
            "exp": now + ttl_seconds,
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a token this issuer minted; :class:`InvalidToken` otherwise."""
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        try:  # the signature (this checkout's secret, HS256 only: never "none"), expiry, issuer
            claims: dict[str, Any] = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        # then what API Gateway's Cognito authorizer (no OAuth scopes) accepts: an ID token
        # (token_use "id") whose audience is the app client. An access token says
        # token_use "access" and names the client in client_id, with no aud.
        if claims["token_use"] != "id":
            raise InvalidToken(f"a {claims['token_use']!r} token; send the ID token (token_use 'id')")
        if claims.get("aud") != AUDIENCE:
            raise InvalidToken(f"not issued for this app client (aud must be {AUDIENCE!r})")
        if not isinstance(claims.get("cognito:username"), str) or not claims["cognito:username"]:
            raise InvalidToken("no cognito:username")
        return claims
