"""Load on the local system (loopback only, bounded loops): 50 concurrent clients, each
filing complaints without an Idempotency-Key and with one sent twice at the same time — no
connection error, nothing lost, nothing duplicated, one execution per complaint. The figures
are printed (``-s``). Time x60: no SLA window runs out while the test runs, so the system
does only what the load asks of it (and the faults of test_faults.py run on a quiet system)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.e2e.helpers import COMPLAINT, stored

CLIENTS = 50
PER_CLIENT = 1  # complaints per client without a key, and again with a key (sent twice at once); 2 in the report
MAX_TRIES = 10  # a client retries a 409 "still in progress" at most this often


def post(sys: Any, customer: str, order: str, key: str | None = None) -> tuple[int, str | None]:
    body = {**COMPLAINT, "customer_id": customer, "order_id": order}
    headers = {"Idempotency-Key": key} if key else None
    resp = sys.http("POST", "/complaints", token=sys.token(customer, "customers"), json_body=body,
                    headers=headers, timeout=60)
    return resp.status, (resp.json() or {}).get("complaint_id") if resp.status == 202 else None


def executions(sys: Any) -> set[str]:
    pages = sys.sfn.get_paginator("list_executions").paginate(stateMachineArn=sys.env["LIFECYCLE_STATE_MACHINE_ARN"])
    return {e["name"] for page in pages for e in page["executions"]}


LOCAL_TIME_SCALE = 60.0


def test_fifty_concurrent_clients_lose_nothing_and_duplicate_nothing(local_system: Any) -> None:
    sys = local_system
    customers = [f"C-LOAD-{i:02d}" for i in range(CLIENTS)]
    errors: list[str] = []
    statuses: Counter[int] = Counter()
    keyed: dict[str, set[str]] = {}  # key -> the ids its two parallel requests answered
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def keyed_post(customer: str, order: str, key: str) -> str:
        """A keyed request, retried with its key while the other one is still in progress (409)."""
        for _ in range(MAX_TRIES):
            status, cid = post(sys, customer, order, key)
            with lock:
                statuses[status] += 1
            if status == 202 and cid:
                return cid
            assert status == 409, status
        raise AssertionError(f"{key} not answered after {MAX_TRIES} tries")

    def client(customer: str) -> None:
        start.wait(timeout=60)  # all 50 at once
        for n in range(PER_CLIENT):
            try:
                status, _ = post(sys, customer, f"O-{customer}-plain-{n}")
                with lock:
                    statuses[status] += 1
                key = f"{customer}-key-{n}"
                with ThreadPoolExecutor(2) as twice:  # the same key twice at the same time
                    order = f"O-{customer}-keyed-{n}"
                    answers = list(twice.map(lambda _, o=order, k=key: keyed_post(customer, o, k), range(2)))
                with lock:
                    for cid in answers:
                        keyed.setdefault(key, set()).add(cid)
            except OSError as exc:  # a reset, a refused or timed-out connection
                with lock:
                    errors.append(f"{customer}: {exc!r}")

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, customers))
    per_customer = stored(sys, customers)
    tickets = [cid for ids in per_customer.values() for cid in ids]
    print(f"\nload: {CLIENTS} concurrent clients, {sum(statuses.values())} requests, statuses {dict(statuses)}, "
          f"connection errors {len(errors)}, tickets {len(tickets)}")
    assert errors == []
    # the second of two parallel requests waits for the first's answer (10 s at most: then a 409 "still in
    # progress" the client retries with the same key); never a 5xx
    assert set(statuses) <= {202, 409} and statuses[202] == CLIENTS * PER_CLIENT * 3, statuses
    assert all(len(ids) == 1 for ids in keyed.values()) and len(keyed) == CLIENTS * PER_CLIENT  # same key: one id
    assert all(len(ids) == 2 * PER_CLIENT for ids in per_customer.values()), per_customer  # 0 lost, 0 duplicated
    assert len(set(tickets)) == len(tickets) == CLIENTS * PER_CLIENT * 2
    assert set(tickets) <= executions(sys)  # one execution per ticket, named after it
