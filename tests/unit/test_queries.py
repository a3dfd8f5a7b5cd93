"""The API's read side on the in-memory adapters: who sees what, queues in due order."""

from __future__ import annotations

import pytest

from chalicelib import queries
from chalicelib.changes import NotFound
from chalicelib.models import Caller, ProfileIn
from tests.unit.conftest import AGENT, CUSTOMER, Fakes


def test_a_customer_sees_their_own_complaint_without_staff_details(fakes: Fakes) -> None:
    cid = fakes.file()
    fakes.triage(cid)
    mine = queries.complaint(fakes.services, cid, CUSTOMER)
    staff = queries.complaint(fakes.services, cid, AGENT)
    assert [e["type"] for e in mine["timeline"]] == ["received", "acknowledged"]
    assert [e["type"] for e in staff["timeline"]] == ["received", "triaged", "acknowledged"]
    assert "clocks" not in mine and "clocks" in staff and "reasons" in staff["triage"]


def test_someone_elses_complaint_does_not_exist_for_a_customer(fakes: Fakes) -> None:
    cid = fakes.file()
    with pytest.raises(NotFound):
        queries.complaint(fakes.services, cid, Caller(username="C-9999", groups=frozenset({"customers"})))


def test_listings_page_through_in_their_order(fakes: Fakes) -> None:
    ids = []
    for n in range(3):
        ids.append(fakes.file(order_id=f"O-{n}"))  # one order each: same severity, same window
        fakes.triage(ids[-1])
        fakes.clock.advance(minutes=1)
    page = queries.customer_complaints(fakes.services, "C-1001", 2, None)
    rest = queries.customer_complaints(fakes.services, "C-1001", 2, page["next"])
    assert [i["complaint_id"] for i in page["items"] + rest["items"]] == ids[::-1]
    queue = queries.team_queue(fakes.services, "logistics", 10, None)
    assert [i["complaint_id"] for i in queue["items"]] == ids  # the soonest due first
    assert all(i["first_contact_due"] and i["description"] for i in queue["items"])


def test_a_profile_is_stamped_with_the_system_time(fakes: Fakes) -> None:
    profile = queries.put_profile(fakes.services, "C-1001", ProfileIn(tier="gold", locale="en"))
    assert profile == {"customer_id": "C-1001", "tier": "gold", "locale": "en", "updated_at": "2026-11-22T08:00:00Z"}
    assert fakes.store.get_profile("C-1001") == profile
    assert queries.import_report(fakes.services, "b-none") is None
