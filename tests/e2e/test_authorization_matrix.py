"""The authorization matrix: every route × every kind of caller — each group, another
customer, a user in no group or an unknown one, and the tokens a hostile client would try
(expired, tampered, ``alg: none``, signed with another key, for another audience or issuer,
an access token instead of the ID token, garbage) — each with its expected status, generated
from the two tables below (docs/api.md, identity and roles). Requests that an allowed caller
would make change nothing (an invalid body is a 400 after the role check, a denied one a 403
before it), so the matrix can run in any order."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import pytest

from local.tokens import ALGORITHM, AUDIENCE, ISSUER
from tests.e2e.helpers import file_complaint

OWNER = "C-MATRIX"
GROUPS = ("customers", "agents", "supervisors", "ops")
STAFF = ("agents", "supervisors")
READERS = ("customers", *STAFF, "ops")
INVALID = {"unknown": 1}  # a body every JSON route refuses with a 400 — after the role check


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # {cid}: the owner's complaint
    allowed: tuple[str, ...]  # () = public
    answer: int  # what an allowed caller gets
    body: Any = None
    other_customer: int | None = None  # what another customer gets (owner-only routes)


ROUTES = [
    Route("GET", "/health", (), 200),
    Route("GET", "/openapi.json", (), 200),
    Route("POST", "/complaints", ("customers",), 400, INVALID),
    Route("GET", "/complaints/{cid}", READERS, 200, other_customer=404),
    Route("GET", f"/customers/{OWNER}/complaints", READERS, 200, other_customer=403),
    Route("POST", "/complaints/{cid}/satisfaction", ("customers",), 400, INVALID),
    Route("POST", "/complaints/uploads", ("customers",), 400, INVALID),
    Route("GET", "/orders/O-NO-SUCH-ORDER/prefill", ("customers",), 404),
    Route("POST", "/complaints/{cid}/reply", ("customers",), 400, INVALID),
    Route("GET", "/queues/logistics", STAFF, 200),
    Route("POST", "/complaints/{cid}/pause", STAFF, 400, INVALID),
    Route("POST", "/complaints/{cid}/resume", STAFF, 400, INVALID),
    Route("POST", "/complaints/{cid}/triage", STAFF, 400, INVALID),
    Route("POST", "/complaints/{cid}/contact", STAFF, 400, INVALID),
    Route("POST", "/complaints/{cid}/resolve", STAFF, 400, INVALID),
    Route("POST", "/complaints/{cid}/escalate", STAFF, 400, INVALID),
    Route("POST", "/complaints/{cid}/notes", STAFF, 400, INVALID),
    Route("PUT", f"/customers/{OWNER}/profile", ("supervisors", "ops"), 400, INVALID),
    Route("GET", "/imports/no-such-batch", ("supervisors", "ops"), 404),
    Route("GET", "/reports/summary?from=2026-11-01&to=2026-11-30", ("supervisors", "ops"), 200),
    Route("GET", "/reports/hotspots?from=2026-11-01&to=2026-11-08", ("supervisors", "ops"), 200),
    Route("GET", "/reports/triage?from=2026-11-01&to=2026-11-08", ("supervisors", "ops"), 200),
]


def claims(user: str, groups: list[str] | None, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {"sub": str(uuid.uuid4()), "cognito:username": user, "iss": ISSUER, "aud": AUDIENCE,
                            "token_use": "id", "auth_time": now, "iat": now, "exp": now + 3600}
    if groups is not None:
        base["cognito:groups"] = groups
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def signed(secret: bytes, payload: dict[str, Any]) -> str:
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def tampered(secret: bytes) -> str:
    """A customer's token with its groups rewritten to supervisors, signature kept."""
    header, _, signature = signed(secret, claims(OWNER, ["customers"])).split(".")
    payload = base64.urlsafe_b64encode(json.dumps(claims(OWNER, ["supervisors"])).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"


def access_token(secret: bytes) -> str:
    """What Cognito issues as an access token: token_use access, client_id, no aud."""
    return signed(secret, claims(OWNER, ["supervisors"], aud=None, token_use="access", client_id=AUDIENCE,
                                 username=OWNER, scope="aws.cognito.signin.user.admin"))


# caller -> (how to make its Authorization header from the checkout's secret, expected kind)
# kinds: "group:<g>" = a valid caller in group g; "other" = another customer; "nogroup";
# "anonymous" = no header; "invalid" = a token API Gateway rejects
CALLERS: dict[str, tuple[Callable[[bytes], str | None], str]] = {
    **{g: ((lambda s, g=g: "Bearer " + signed(s, claims(USER_OF[g], [g]))), f"group:{g}") for g in GROUPS},
    "another customer": (lambda s: "Bearer " + signed(s, claims("C-SOMEONE-ELSE", ["customers"])), "other"),
    "no group": (lambda s: "Bearer " + signed(s, claims(OWNER, None)), "nogroup"),
    "empty groups": (lambda s: "Bearer " + signed(s, claims(OWNER, [])), "nogroup"),
    "unknown group": (lambda s: "Bearer " + signed(s, claims(OWNER, ["admins"])), "nogroup"),
    "groups as a string": (lambda s: "Bearer " + signed(s, claims(OWNER, "root,admins")), "nogroup"),  # type: ignore[arg-type]
    "no token": (lambda s: None, "anonymous"),
    "expired": (lambda s: "Bearer " + signed(s, claims(OWNER, ["supervisors"], exp=int(time.time()) - 60)), "invalid"),
    "tampered": (lambda s: "Bearer " + tampered(s), "invalid"),
    "alg none": (lambda s: "Bearer " + jwt.encode(claims(OWNER, ["supervisors"]), None, algorithm="none"), "invalid"),
    "other key": (lambda s: "Bearer " + signed(b"k" * 48, claims(OWNER, ["supervisors"])), "invalid"),
    "wrong audience": (lambda s: "Bearer " + signed(s, claims(OWNER, ["supervisors"], aud="another-client")), "invalid"),
    "wrong issuer": (lambda s: "Bearer " + signed(s, claims(OWNER, ["supervisors"], iss="https://evil.example")), "invalid"),
    "access token": (lambda s: "Bearer " + access_token(s), "invalid"),
    "no username": (lambda s: "Bearer " + signed(s, claims(OWNER, ["supervisors"], **{"cognito:username": None})),
                    "invalid"),
    "garbage": (lambda s: "Bearer not.a.jwt", "invalid"),
}
USER_OF = {"customers": OWNER, "agents": "A-MATRIX", "supervisors": "S-MATRIX", "ops": "O-MATRIX"}


def expected(route: Route, kind: str) -> int:
    if not route.allowed:
        return route.answer  # public: a token, good or bad, is not even looked at
    if kind in ("anonymous", "invalid"):
        return 401
    if kind == "nogroup":
        return 403
    if kind == "other":
        return route.other_customer or (route.answer if "customers" in route.allowed else 403)
    return route.answer if kind.removeprefix("group:") in route.allowed else 403


MATRIX = [(route, caller) for route in ROUTES for caller in CALLERS]


@pytest.fixture(scope="module")
def cid(local_system: Any) -> str:
    return file_complaint(local_system, OWNER)


@pytest.fixture(scope="module")
def secret(local_system: Any) -> bytes:
    return bytes(local_system.system.issuer.secret)


def test_the_matrix_covers_every_route_the_app_serves() -> None:
    import app

    served = {(m, p) for p, methods in app.app.routes.items() for m in methods}
    templated = {(r.method, _route_of(r.path.split("?")[0].replace("{cid}", "CMP-X"), list(app.app.routes)))
                 for r in ROUTES}
    assert served == templated, f"add these routes to ROUTES: {sorted(served - templated)}"


def _route_of(path: str, templates: list[str]) -> str:
    """The route a concrete path is served by (a literal segment wins over a parameter)."""
    from chalice.local import RouteMatcher

    return RouteMatcher(templates).match_route(path).route


@pytest.mark.parametrize(("route", "caller"), MATRIX, ids=[f"{r.method} {r.path} | {c}" for r, c in MATRIX])
def test_authorization(local_system: Any, cid: str, secret: bytes, route: Route, caller: str) -> None:
    make, kind = CALLERS[caller]
    authorization = make(secret)
    headers = {"Authorization": authorization} if authorization else {}
    resp = local_system.http(route.method, route.path.format(cid=cid), headers=headers, json_body=route.body)
    assert resp.status == expected(route, kind), (resp.status, resp.body[:300])
    if resp.status >= 400:
        data = resp.json()
        assert set(data) == {"error"} and data["error"]["code"] in {
            401: {"unauthorized"}, 403: {"forbidden"}, 400: {"validation_error"}, 404: {"not_found"}}[resp.status]


def test_nothing_changed_on_the_owners_complaint(local_system: Any, cid: str) -> None:
    view = local_system.http("GET", f"/complaints/{cid}", token=local_system.token("S-1", "supervisors")).json()
    staff_made = [e["type"] for e in view["timeline"] if e["actor"].startswith(("agent:", "supervisor:", "ops:"))]
    assert staff_made == [] and view["status"] in ("received", "awaiting_contact")  # (the SLA clock may escalate)

