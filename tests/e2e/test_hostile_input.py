"""The five kinds of client input that once answered 500 (issue 12), kept as regression
tests through the whole local system: each is a precise 4xx in the docs/api.md error shape,
and nothing is written."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.e2e.helpers import file_complaint

CUSTOMER = "C-HOSTILE"
JSON_ROUTES = [  # every route that reads a JSON body, and the group that may call it
    ("POST", "/complaints", "customers"),
    ("POST", "/complaints/{cid}/satisfaction", "customers"),
    ("POST", "/complaints/{cid}/contact", "agents"),
    ("POST", "/complaints/{cid}/resolve", "agents"),
    ("POST", "/complaints/{cid}/escalate", "agents"),
    ("POST", "/complaints/{cid}/notes", "agents"),
    ("PUT", "/customers/C-HOSTILE/profile", "ops"),
]
UNICODE_DIGITS = ["²", "³", "١٠", "１０", "߁", "𝟙"]  # str.isdigit() is true for all of them


def error(resp: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert resp.status == status, (resp.status, resp.body[:300])
    data = resp.json()
    assert set(data) == {"error"} and set(data["error"]) == {"code", "message", "details"}, data
    assert data["error"]["code"] == code, data
    assert b"Traceback" not in resp.body and b".py" not in resp.body
    if field is not None:
        assert field in [d["field"] for d in data["error"]["details"]], data
    return dict(data["error"])


@pytest.fixture(scope="module")
def cid(local_system: Any) -> str:
    return file_complaint(local_system, CUSTOMER)


def as_user(sys: Any, group: str) -> str:
    return sys.token({"customers": CUSTOMER, "agents": "A-7", "ops": "O-1", "supervisors": "S-1"}[group], group)


def stored_complaints(sys: Any) -> list[str]:
    resp = sys.http("GET", f"/customers/{CUSTOMER}/complaints?limit=100", token=as_user(sys, "customers"))
    assert resp.status == 200
    return [i["complaint_id"] for i in resp.json()["items"]]


# -- 1. deep JSON nesting (RecursionError in the parser) --------------------------------------
@pytest.mark.parametrize(("method", "path", "group"), JSON_ROUTES)
@pytest.mark.parametrize("nested", ["[" * 20000 + "]" * 20000, '{"a":' * 10000 + "1" + "}" * 10000])
def test_deeply_nested_json_is_a_400_on_every_json_route(local_system: Any, cid: str, method: str, path: str,
                                                         group: str, nested: str) -> None:
    before = stored_complaints(local_system)
    resp = local_system.http(method, path.format(cid=cid), token=as_user(local_system, group),
                             data=nested.encode(), headers={"Content-Type": "application/json"})
    error(resp, 400, "malformed_json")
    assert stored_complaints(local_system) == before


def test_nested_json_inside_a_valid_complaint_is_refused_whole(local_system: Any) -> None:
    body = json.dumps({"customer_id": CUSTOMER, "order_id": "O-1", "channel": "app", "desired_outcome": "refund",
                       "description": "x"})[:-1] + ', "product": ' + "[" * 5000 + "]" * 5000 + "}"
    before = stored_complaints(local_system)
    resp = local_system.http("POST", "/complaints", token=as_user(local_system, "customers"), data=body.encode(),
                             headers={"Content-Type": "application/json"})
    assert resp.status == 400 and resp.json()["error"]["code"] in {"malformed_json", "validation_error"}
    assert stored_complaints(local_system) == before


# -- 2. digits that are digits to str.isdigit() but not to int() ---------------------------------
@pytest.mark.parametrize("digits", UNICODE_DIGITS)
@pytest.mark.parametrize(("path", "group", "field"), [
    (f"/customers/{CUSTOMER}/complaints?limit={{d}}", "customers", "limit"),
    ("/queues/logistics?limit={d}", "agents", "limit"),
    ("/reports/summary?from=2026-11-01&to=2026-11-30&top={d}", "ops", "top"),
    ("/reports/hotspots?from=2026-11-01&to=2026-11-30&limit={d}", "ops", "limit"),
    ("/reports/hotspots?from=2026-11-01&to=2026-11-30&min_complaints={d}", "supervisors", "min_complaints"),
])
def test_unicode_digits_in_numbers_are_a_400_naming_the_parameter(local_system: Any, path: str, group: str,
                                                                  field: str, digits: str) -> None:
    from urllib.parse import quote

    resp = local_system.http("GET", path.format(d=quote(digits)), token=as_user(local_system, group))
    error(resp, 400, "validation_error", field)


# -- 3. crafted pagination cursors ----------------------------------------------------------------
def b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


CRAFTED = [
    b64({"pk": {"S": "x"}}),  # a key the index does not have
    b64({"pk": {"N": "1"}, "sk": {"S": "TICKET"}, "customer_pk": {"S": CUSTOMER}, "created_sk": {"S": "x"}}),
    b64({"pk": {"S": ""}, "sk": {"S": "TICKET"}, "customer_pk": {"S": CUSTOMER}, "created_sk": {"S": "x"}}),
    b64({"pk": {"S": "C#x"}, "sk": {"S": "TICKET"}, "customer_pk": {"S": "C-OTHER"}, "created_sk": {"S": "x"}}),
    b64({"pk": {"S": "C#x" * 1000}, "sk": {"S": "TICKET"}, "customer_pk": {"S": CUSTOMER}, "created_sk": {"S": "x"}}),
    b64({"pk": {"S": "C#x"}, "sk": {"S": "TICKET"}, "customer_pk": {"S": CUSTOMER}, "created_sk": {"M": {}}}),
    b64([1, 2]), b64({}), b64("x"), b64(None), "bm9wZQ", "!!!", "%%%", "A" * 4000,
    base64.urlsafe_b64encode(b"[" * 3000 + b"]" * 3000).decode(),
]


@pytest.mark.parametrize("cursor", CRAFTED)
def test_crafted_cursors_are_a_400(local_system: Any, cursor: str) -> None:
    from urllib.parse import quote

    for path, group in ((f"/customers/{CUSTOMER}/complaints", "customers"), ("/queues/logistics", "supervisors")):
        resp = local_system.http("GET", f"{path}?next={quote(cursor)}", token=as_user(local_system, group))
        error(resp, 400, "validation_error", "next")


def test_a_cursor_of_one_list_is_refused_by_another(local_system: Any) -> None:
    for _ in range(2):
        file_complaint(local_system, "C-PAGER")
    staff = as_user(local_system, "supervisors")
    page = local_system.http("GET", "/customers/C-PAGER/complaints?limit=1", token=staff).json()
    assert page["next"]
    follow = local_system.http("GET", f"/customers/C-PAGER/complaints?limit=1&next={page['next']}", token=staff)
    assert follow.status == 200 and follow.json()["items"][0]["complaint_id"] != page["items"][0]["complaint_id"]
    elsewhere = local_system.http("GET", f"/customers/{CUSTOMER}/complaints?next={page['next']}", token=staff)
    error(elsewhere, 400, "validation_error", "next")
    queue = local_system.http("GET", f"/queues/logistics?next={page['next']}", token=staff)
    error(queue, 400, "validation_error", "next")


# -- 4. report dates at the calendar's edges -----------------------------------------------------
@pytest.mark.parametrize(("start", "end", "field"), [
    ("0001-01-01", "0001-01-05", "from"),
    ("9999-12-30", "9999-12-31", "from"),
    ("2026-11-01", "9999-12-31T23:59:59", "to"),
    ("0001-01-01T00:00:00+14:00", "2026-11-30", "from"),
    ("2026-11-01", "9999-12-31T23:59:59-12:00", "to"),
    ("1999-12-31", "2000-01-02", "from"),
    ("2099-12-31", "2100-01-02", "to"),
])
@pytest.mark.parametrize("kind", ["summary", "hotspots"])
def test_report_dates_beyond_the_horizon_are_a_400(local_system: Any, kind: str, start: str, end: str,
                                                   field: str) -> None:
    from urllib.parse import urlencode

    resp = local_system.http("GET", f"/reports/{kind}?{urlencode({'from': start, 'to': end})}",
                             token=as_user(local_system, "ops"))
    error(resp, 400, "validation_error", field)


def test_report_dates_at_the_horizon_itself_work(local_system: Any) -> None:
    ops = as_user(local_system, "ops")
    assert local_system.http("GET", "/reports/hotspots?from=2000-01-01&to=2000-01-08", token=ops).status == 200
    assert local_system.http("GET", "/reports/summary?from=2099-12-01&to=2100-01-01", token=ops).status == 200


# -- 5. path ids DynamoDB refuses --------------------------------------------------------------
@pytest.mark.parametrize(("method", "path", "group", "field"), [
    ("GET", "/complaints/" + "C" * 5000, "customers", "complaint_id"),
    ("GET", "/complaints/" + "C" * 5000, "agents", "complaint_id"),
    ("POST", "/complaints/" + "C" * 5000 + "/notes", "agents", "complaint_id"),
    ("GET", "/customers/" + "C" * 5000 + "/complaints", "agents", "customer_id"),
    ("PUT", "/customers/" + "C" * 5000 + "/profile", "ops", "customer_id"),
    ("GET", "/imports/" + "B" * 5000, "ops", "batch_id"),
    ("GET", "/queues/" + "q" * 5000, "agents", "team"),
    ("GET", "/customers/%00/complaints", "agents", "customer_id"),
    ("GET", "/complaints/%FF%FE", "agents", "complaint_id"),
])
def test_path_ids_out_of_shape_are_a_400_naming_them(local_system: Any, method: str, path: str, group: str,
                                                     field: str) -> None:
    body = {"text": "x"} if method == "POST" else {"tier": "vip"} if method == "PUT" else None
    resp = local_system.http(method, path, token=as_user(local_system, group), json_body=body)
    error(resp, 400, "validation_error", field)


@pytest.mark.parametrize("path", ["/customers//complaints", "/complaints/", "/customers//profile", "/imports/"])
def test_empty_path_ids_are_a_4xx_in_our_shape(local_system: Any, path: str) -> None:
    method = "PUT" if path.endswith("profile") else "GET"
    resp = local_system.http(method, path, token=as_user(local_system, "supervisors"),
                             json_body={"tier": "vip"} if method == "PUT" else None)
    assert resp.status in (400, 404, 405), resp.status
    data = resp.json()
    assert set(data) == {"error"} and data["error"]["code"] in {"validation_error", "not_found", "method_not_allowed"}


def test_a_percent_encoded_id_is_the_id(local_system: Any, cid: str) -> None:
    token = as_user(local_system, "customers")
    encoded = "".join(f"%{b:02X}" for b in cid.encode())
    resp = local_system.http("GET", f"/complaints/{encoded}", token=token)
    assert resp.status == 200 and resp.json()["complaint_id"] == cid
    listed = local_system.http("GET", "/customers/C%2DHOSTILE/complaints", token=token)
    assert listed.status == 200 and cid in [i["complaint_id"] for i in listed.json()["items"]]


# -- what API Gateway answers before the function: unknown routes and methods, bad lengths ------
@pytest.mark.parametrize(("method", "path", "status", "code"), [
    ("GET", "/no/such/route", 404, "not_found"),
    ("POST", "/complaints/x/y/z", 404, "not_found"),
    ("DELETE", "/complaints", 405, "method_not_allowed"),
    ("PATCH", "/health", 405, "method_not_allowed"),
    ("GET", "/complaints", 405, "method_not_allowed"),
])
def test_unknown_routes_and_methods_answer_in_our_shape(local_system: Any, method: str, path: str, status: int,
                                                        code: str) -> None:
    resp = local_system.http(method, path, token=as_user(local_system, "agents"))
    error(resp, status, code)
    if status == 405:
        assert resp.headers["Allow"]


def raw_exchange(sys: Any, request: bytes, timeout: float = 10) -> bytes:
    import socket
    from urllib.parse import urlparse

    url = urlparse(sys.api_url)
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


@pytest.mark.parametrize(("length", "status", "code"), [
    ("abc", 400, "validation_error"), ("-5", 400, "validation_error"), ("1e3", 400, "validation_error"),
    (str(10**12), 413, "payload_too_large"), (str(64 * 1024 + 1), 413, "payload_too_large"),
])
def test_a_bad_or_oversized_content_length_is_answered_at_once(local_system: Any, length: str, status: int,
                                                               code: str) -> None:
    token = as_user(local_system, "customers")
    answer = raw_exchange(local_system, (
        f"POST /complaints HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{{}}").encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == str(status).encode(), head
    assert json.loads(body)["error"]["code"] == code


def test_a_client_that_stops_sending_holds_no_one_up(local_system: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket
    import time
    from urllib.parse import urlparse

    from local.http import VerifyingRequestHandler

    monkeypatch.setattr(VerifyingRequestHandler, "timeout", 1.0)
    url = urlparse(local_system.api_url)
    stalled = [socket.create_connection((url.hostname, url.port), timeout=10) for _ in range(5)]
    try:
        for conn in stalled:  # promise 100 bytes, send 2
            conn.sendall(b"POST /complaints HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100\r\n\r\n{}")
        assert local_system.http("GET", "/health").status == 200  # others are served meanwhile
        deadline = time.monotonic() + 10
        for conn in stalled:  # and each stalled connection is closed by the server, unanswered
            conn.settimeout(max(0.1, deadline - time.monotonic()))
            assert conn.recv(1024) == b""
    finally:
        for conn in stalled:
            conn.close()


def test_an_address_ses_would_refuse_is_a_400_and_files_nothing(local_system: Any) -> None:
    before = stored_complaints(local_system)
    body = {"customer_id": CUSTOMER, "order_id": "O-X", "channel": "app", "desired_outcome": "refund",
            "description": "broken", "contact": {"locale": "en", "email": "<script>@x.y"}}
    resp = local_system.http("POST", "/complaints", token=as_user(local_system, "customers"), json_body=body)
    error(resp, 400, "validation_error", "contact.email")
    assert stored_complaints(local_system) == before


@pytest.mark.parametrize(("method", "path", "group", "status"), [
    ("GET", "/health", None, 200), ("GET", "/queues/logistics", "agents", 200),
    ("POST", "/complaints/{cid}/notes", "agents", 415),
])
def test_any_content_type_is_answered_in_our_shape(local_system: Any, cid: str, method: str, path: str,
                                                   group: str | None, status: int) -> None:
    token = as_user(local_system, group) if group else None
    resp = local_system.http(method, path.format(cid=cid), token=token, data=b"<x/>" if method == "POST" else None,
                             headers={"Content-Type": "text/xml"})
    assert resp.status == status
    if status >= 400:
        error(resp, status, "unsupported_media_type")
