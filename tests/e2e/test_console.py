"""The agent console in a real browser (Playwright driving Debian's chromium) against the whole
local system: sign in, a complaint filed through the API shows up in its team's queue by
itself, open it, act on it (each action checked through the API), two agents racing, the API's
refusals shown without losing what was typed, Chinese and English, laptop and tablet, the
supervisors' report link, the Cognito sign-in path, CORS for the console's origin only.
Screenshots go to ``test-artifacts/``; the click-to-updated-view time and the page weight are
measured and printed after the run (never asserted)."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import statistics
import time
import urllib.parse
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, Route, expect, sync_playwright

from chalicelib.clock import iso
from console import site
from tests.e2e.console_browser import (
    FLAGS,
    TABLET,
    StaticSite,
    action_form,
    console_url,
    ensure_chromium,
    new_context,
    pkce_challenge,
    screenshot,
    session_script,
    sign_in,
)
from tests.e2e.helpers import act, file_complaint, staff_view, timeline, wait_status

LOCAL_TIME_SCALE = 600  # an SLA hour in 6 s: a P3's first contact (8 h) is due 48 s after filing


def _routes() -> set[str]:
    from app import app

    return set(app.routes)


ROUTES = _routes()
needs_route = {
    name: pytest.mark.skipif(f"/complaints/{{complaint_id}}/{name}" not in ROUTES,
                             reason=f"POST /complaints/{{id}}/{name} is not in app.py yet (policy work)")
    for name in ("pause", "resume", "triage")
}
ORDER = {"order_amount": {"amount": "129.00", "currency": "CNY"},
         "product": {"sku": "SKU-88", "name": "玻璃水杯", "kind": "home"}}


# -- fixtures -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    ensure_chromium()
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=str(ensure_chromium()), args=FLAGS)
    yield chromium
    chromium.close()


class Holder:
    api_url = ""


@pytest.fixture(scope="module")
def api_holder() -> Holder:
    return Holder()


@pytest.fixture(scope="module")
def console_site(tmp_path_factory: pytest.TempPathFactory, api_holder: Holder) -> Iterator[StaticSite]:
    """The release build on an origin of its own: the one CORS allows."""
    config = lambda: site.ConsoleConfig(api=api_holder.api_url, stage="local", auth=site.LocalSignIn())  # noqa: E731
    with StaticSite(tmp_path_factory.mktemp("console-release"), config).running() as static:
        yield static


@pytest.fixture(scope="module")
def foreign_site(tmp_path_factory: pytest.TempPathFactory, api_holder: Holder) -> Iterator[StaticSite]:
    """The same files on another origin: CORS must not let it read the API."""
    config = lambda: site.ConsoleConfig(api=api_holder.api_url, stage="local", auth=site.LocalSignIn())  # noqa: E731
    with StaticSite(tmp_path_factory.mktemp("console-foreign"), config).running() as static:
        yield static


@pytest.fixture(scope="module")
def local_extra_env(console_site: StaticSite) -> dict[str, str]:
    return {"CONSOLE_ORIGIN": console_site.origin}


@pytest.fixture(scope="module")
def system(local_system: Any, api_holder: Holder) -> Any:
    api_holder.api_url = local_system.api_url
    return local_system


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = new_context(browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def new_complaint(sys: Any, customer: str, **changes: Any) -> str:
    cid = file_complaint(sys, customer, **{**ORDER, **changes})
    wait_status(sys, cid, "awaiting_contact")
    return cid


def import_raised(sys: Any, customer: str, hours_ago: float) -> str:
    """A marketplace record the customer raised ``hours_ago`` (its clocks started then)."""
    now = sys.system.system_now()
    batch = {"source": "generic", "batch_id": f"console-{customer}-{time.time_ns()}", "exported_at": iso(now), "records": [{
        "external_id": f"WS-{customer}", "raised_at": iso(now - timedelta(hours=hours_ago)), "customer_id": customer,
        "order_id": f"O-{customer}", "category": "damaged_in_transit", "desired_outcome": "refund",
        "description": "快递到的时候杯子碎了", **ORDER}]}
    sys.sqs.send_message(QueueUrl=sys.import_queue_url, MessageBody=json.dumps(batch, ensure_ascii=False))
    supervisor = sys.token("S-1", "supervisors")
    items = sys.wait_for(lambda: [i for i in sys.http("GET", "/queues/logistics?limit=100", token=supervisor).json()["items"]
                                  if i["customer_id"] == customer], what=f"the record of {customer} in the queue")
    return str(items[0]["complaint_id"])


def row(page: Page, cid: str) -> Any:
    return page.locator(f'table.queue tbody tr[data-id="{cid}"]')


def open_complaint(page: Page, cid: str) -> None:
    row(page, cid).get_by_role("link", name=cid).click()
    expect(page.locator("#detail-heading")).to_have_text(cid)


def timeline_types(page: Page) -> list[str]:
    return [str(t) for t in page.locator("ol.timeline > li").evaluate_all("items => items.map(i => i.dataset.type)")]


# -- the local site over HTTP -------------------------------------------------------------------------
def test_the_local_system_serves_the_console_with_types_and_cache_headers(system: Any) -> None:
    sys = system
    host, port = urllib.parse.urlsplit(sys.api_url).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", "/console")
    redirect = connection.getresponse()
    assert (redirect.status, redirect.getheader("Location")) == (308, "/console/")
    connection.close()
    index = sys.http("GET", "/console/")
    assert index.status == 200 and index.headers["Content-Type"] == "text/html; charset=utf-8"
    assert index.headers["Cache-Control"] == "no-cache" and "script-src 'self'" in index.headers["Content-Security-Policy"]
    assert index.headers["X-Content-Type-Options"] == "nosniff"
    for path, kind in (("app/main.js", "text/javascript; charset=utf-8"), ("app/console.css", "text/css; charset=utf-8"),
                       ("app/locales/zh-CN.json", "application/json; charset=utf-8")):
        response = sys.http("GET", f"/console/{path}")
        assert response.status == 200 and response.headers["Content-Type"] == kind, path
        again = sys.http("GET", f"/console/{path}", headers={"If-None-Match": response.headers["ETag"]})
        assert again.status == 304 and again.body == b"", path  # revalidated, not downloaded again
    # nothing outside the site, nothing that is not the site's
    for path in ("app/../../app.py", "app/%2e%2e/%2e%2e/app.py", "site.py", "__init__.py", "app/nope.js", "app/.hidden.js"):
        assert sys.http("GET", f"/console/{path}").status == 404, path
    config = sys.http("GET", "/console/config.json").json()
    assert config["auth"] == {"mode": "local", "token_url": "dev-token"} and config["api"] == ""
    assert config["clock"]["scale"] == LOCAL_TIME_SCALE  # countdowns follow the scaled system clock
    assert sys.http("POST", "/console/app/main.js", json_body={}).status == 405


def test_the_dev_sign_in_mints_staff_tokens_only(system: Any) -> None:
    sys = system
    response = sys.http("POST", "/console/dev-token", json_body={"user": "A-7", "group": "agents"})
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    token = response.json()["token"]
    assert sys.http("GET", "/queues/product", token=token).status == 200  # the API accepts it
    refused = sys.http("POST", "/console/dev-token", json_body={"user": "C-1", "group": "customers"})
    assert refused.status == 400 and refused.json()["error"]["details"][0]["field"] == "group"
    assert sys.http("POST", "/console/dev-token", json_body={"user": "x y", "group": "agents"}).json()["error"]["details"][0]["field"] == "user"
    assert sys.http("POST", "/console/dev-token", json_body={"user": "A-7", "group": "agents", "admin": True}).status == 400
    # a plain form post (what another site could send without a preflight) is refused
    assert sys.http("POST", "/console/dev-token", data=b"user=A-7&group=agents",
                    headers={"Content-Type": "application/x-www-form-urlencoded"}).status == 415
    assert sys.http("GET", "/console/dev-token").status == 405


def test_cors_answers_the_console_origin_only(system: Any, console_site: StaticSite) -> None:
    sys = system
    preflight = sys.http("OPTIONS", "/queues/product", headers={
        "Origin": console_site.origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert preflight.status == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == console_site.origin
    assert {"Authorization", "Content-Type", "Idempotency-Key"} <= set(preflight.headers["Access-Control-Allow-Headers"].split(","))
    answer = sys.http("GET", "/queues/product", token=sys.token("A-7", "agents"), headers={"Origin": "http://evil.example"})
    assert answer.headers["Access-Control-Allow-Origin"] == console_site.origin  # never the caller's origin
    assert "Date" in answer.headers["Access-Control-Expose-Headers"]


# -- in the browser -------------------------------------------------------------------------------------
def test_sign_in_is_chinese_by_default_and_the_language_is_remembered(page: Page, system: Any) -> None:
    page.goto(console_url(system.api_url))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    expect(page.get_by_label("用户", exact=True)).to_be_visible()
    expect(page.get_by_label("用户组", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="中文")).to_have_attribute("aria-pressed", "true")
    # When the agent switches to English, Then the form speaks English, also after a reload
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_label("User", exact=True)).to_be_visible()
    expect(page.get_by_label("Group", exact=True)).to_be_visible()
    # A refused sign-in says why and keeps what was typed
    page.get_by_label("User", exact=True).fill("not a user!")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("user")
    expect(page.get_by_label("User", exact=True)).to_have_value("not a user!")
    # And a good one opens the queue, still in English; back to Chinese with one click
    page.get_by_label("User", exact=True).fill("A-7")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Queue Product")).to_be_visible()
    expect(page.get_by_text("A-7 · Agent")).to_be_visible()
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("heading", name="商品队列")).to_be_visible()
    expect(page.get_by_role("link", name="物流")).to_be_visible()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()


def test_a_complaint_filed_through_the_api_appears_in_its_team_queue_by_itself(page: Page, system: Any) -> None:
    sys = system
    sign_in(page, sys.api_url, fragment="#/logistics")
    expect(page.get_by_role("heading", name="Queue Logistics")).to_be_visible()
    expect(page.get_by_role("link", name="Logistics")).to_have_attribute("aria-current", "page")
    # When a customer files a complaint while the agent looks at the queue (no reload)
    cid = new_complaint(sys, "C-Q1", description="快递到的时候杯子碎了，外箱也压坏了")
    # Then it appears, with its severity, category, status and a countdown to first contact
    line = row(page, cid)
    expect(line).to_be_visible()
    expect(line).to_contain_text("P3")
    expect(line).to_contain_text("Damaged in transit")
    expect(line).to_contain_text("Awaiting contact")
    expect(line.locator(".countdown")).to_contain_text("in ")
    expect(line.locator(".clock-name")).to_have_text("First contact")
    # And the API's order is kept: soonest due first
    ids = page.locator("table.queue tbody tr").evaluate_all("rows => rows.map(r => r.dataset.id)")
    api_ids = [i["complaint_id"] for i in sys.http("GET", "/queues/logistics?limit=50", token=sys.token("A-7", "agents")).json()["items"]]
    assert [i for i in api_ids if i in ids] == [i for i in ids if i in api_ids]
    # the countdown moves by itself (the system clock runs x600: a minute of SLA time per 0.1 s)
    before = line.locator(".countdown").inner_text()
    expect(line.locator(".countdown")).not_to_have_text(before)
    # and a complaint for another team is in its queue, not in this one
    other = new_complaint(sys, "C-Q2", description="客服态度很差，直接挂电话", category="service_attitude")
    page.get_by_role("link", name="Service").click()
    expect(row(page, other)).to_be_visible()
    expect(row(page, cid)).to_have_count(0)
    page.get_by_role("link", name="Logistics").click()
    expect(row(page, cid)).to_be_visible()
    screenshot(page, "console-queue.png")


def test_breached_complaints_are_red_and_vip_marked(page: Page, system: Any) -> None:
    sys = system
    supervisor = sys.token("S-1", "supervisors")
    assert sys.http("PUT", "/customers/C-VIP/profile", token=supervisor, json_body={"tier": "vip", "locale": "zh-CN"}).status == 200
    # Given a marketplace record raised 9 h ago (a P3's first contact is due after 8 h) for a VIP
    cid = import_raised(sys, "C-VIP", hours_ago=9)
    sign_in(page, sys.api_url, fragment="#/logistics")
    line = row(page, cid)
    expect(line).to_have_class("state-breached")
    expect(line.locator(".state-word")).to_have_text("breached")
    # red until the clock stops, also once the ladder has moved its due time into the future
    expect(line.locator(".countdown")).to_have_text(re.compile(r"^(next escalation in|overdue) "))
    expect(line.locator(".mark.tier-vip")).to_have_text("VIP")
    level = staff_view(sys, cid)["escalation_level"]  # VIP: maybe a higher severity, so a higher level by now
    assert level >= 1
    expect(line.locator(".mark.level")).to_have_text(f"L{level}")
    assert line.locator("td.due").evaluate("td => getComputedStyle(td).backgroundColor") == "rgb(253, 236, 234)"
    page.get_by_role("button", name="中文").click()
    expect(line.locator(".state-word")).to_have_text("已超时")


def test_open_contact_note_and_resolve_each_land_in_the_api(page: Page, system: Any) -> None:
    sys = system
    text = "快递到的时候杯子碎了 <b>不是粗体</b>"
    cid = new_complaint(sys, "C-D1", description=text, contact={"locale": "zh-CN", "phone": "+8613800000001"})
    sign_in(page, sys.api_url, fragment="#/logistics")
    open_complaint(page, cid)
    # everything staff see
    expect(page.locator(".complaint-text")).to_have_text(text)  # customer text is text, never markup
    assert page.locator(".complaint-text b").count() == 0
    facts = page.locator(".card.facts")
    for shown in ("C-D1", "O-C-D1", "129.00 CNY", "玻璃水杯 · SKU-88 · Home", "Refund", "+8613800000001"):
        expect(facts).to_contain_text(shown)
    expect(page.locator(".card.triage")).to_contain_text("Damaged in transit")
    expect(page.locator(".card.triage .reasons li").first).to_be_visible()
    expect(page.locator("table.clocks")).to_contain_text("First contact")
    expect(page.locator("table.clocks")).to_contain_text("Resolution")
    for name in ("Contact", "Resolve", "Escalate", "Add note", "Pause", "Resume", "Re-triage"):
        expect(page.get_by_role("button", name=name, exact=True)).to_be_visible()
    expect(action_form(page, "Contact").get_by_role("button", name="Contact")).to_have_class("primary")

    # Contact
    action_form(page, "Contact").get_by_label("Note").fill("电话联系了客户，确认破损")
    action_form(page, "Contact").get_by_role("button", name="Contact").click()
    expect(page.get_by_role("status")).to_have_text("First contact recorded.")
    expect(page.locator(".detail-head .badge.status-in_progress")).to_have_text("In progress")
    expect(action_form(page, "Contact").get_by_label("Note")).to_have_value("")
    view = staff_view(sys, cid)
    assert view["status"] == "in_progress"
    contacted = [e for e in view["timeline"] if e["type"] == "contacted"]
    assert contacted[0]["actor"] == "agent:A-7" and contacted[0]["detail"]["note"] == "电话联系了客户，确认破损"

    # Add note: internal, and marked so
    action_form(page, "Add note").get_by_label("Note text").fill("客户要求尽快退款")
    action_form(page, "Add note").get_by_role("button", name="Add note").click()
    expect(page.get_by_role("status")).to_have_text("Note added.")
    newest = page.locator("ol.timeline > li").first
    expect(newest).to_contain_text("客户要求尽快退款")
    expect(newest.locator(".mark.internal")).to_have_text("internal")
    assert [e["detail"]["text"] for e in staff_view(sys, cid)["timeline"] if e["type"] == "note"] == ["客户要求尽快退款"]
    contact_entry = page.locator("ol.timeline > li[data-type=contacted]")
    expect(contact_entry.locator("dd .mark.internal")).to_have_text("internal")  # the customer sees it, not its note

    # Resolve with a refund
    resolve = action_form(page, "Resolve")
    resolve.get_by_label("Resolution").select_option("refund")
    resolve.get_by_label("Note").fill("全额退款")
    resolve.get_by_label("Refund amount (CNY)").fill("129.00")
    resolve.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status")).to_have_text("Complaint resolved.")
    expect(page.locator(".detail-head .badge.status-resolved")).to_have_text("Resolved")
    view = staff_view(sys, cid)
    assert view["status"] == "resolved"
    assert view["resolution"]["resolution"] == "refund" and view["resolution"]["refund"] == {"amount": "129.00", "currency": "CNY"}
    assert timeline(view)[-1] == "resolved" and timeline_types(page)[0] == "resolved"
    screenshot(page, "console-detail.png")
    # resolved complaints leave the queue
    expect(row(page, cid)).to_have_count(0)


def test_a_400_shows_the_field_and_keeps_what_was_typed(page: Page, system: Any) -> None:
    sys = system
    cid = new_complaint(sys, "C-E1")
    sign_in(page, sys.api_url, fragment=f"#/logistics/{cid}")
    expect(page.locator("#detail-heading")).to_have_text(cid)
    resolve = action_form(page, "Resolve")
    resolve.get_by_label("Note").fill("退一部分")
    amount = resolve.get_by_label("Refund amount (CNY)")
    amount.fill("12.345")
    resolve.get_by_role("button", name="Resolve").click()
    expect(resolve.get_by_role("alert")).to_contain_text("refund.amount")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(resolve.locator(".field-error:visible")).to_have_count(1)
    expect(amount).to_have_value("12.345")
    expect(resolve.get_by_label("Note")).to_have_value("退一部分")
    assert staff_view(sys, cid)["status"] == "awaiting_contact"  # nothing happened
    # an empty escalation reason: the API names the field, the form keeps the note elsewhere
    escalate = action_form(page, "Escalate")
    escalate.get_by_label("Reason").fill("   ")
    escalate.get_by_role("button", name="Escalate").click()
    expect(escalate.get_by_role("alert")).to_contain_text("reason")
    expect(escalate.get_by_label("Reason")).to_have_attribute("aria-invalid", "true")
    # When corrected, Then it goes through and the error is gone
    amount.fill("12.34")
    resolve.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status")).to_have_text("Complaint resolved.")
    expect(resolve.get_by_role("alert")).to_be_hidden()
    assert staff_view(sys, cid)["resolution"]["refund"]["amount"] == "12.34"


def test_two_agents_race_and_the_one_who_loses_sees_the_409(browser: Browser, system: Any) -> None:
    sys = system
    cid = new_complaint(sys, "C-R9")
    pages = []

    def no_background_refresh(route: Route) -> None:  # so nothing but the race itself moves the pages
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "refresh_s": {"queue": 300, "detail": 300}})

    for user in ("A-7", "A-8"):
        context = new_context(browser)
        context.route("**/console/config.json", no_background_refresh)
        page = context.new_page()
        sign_in(page, sys.api_url, user=user, fragment=f"#/logistics/{cid}")
        expect(page.locator(".detail-head .badge.status-awaiting_contact")).to_be_visible()
        pages.append(page)
    first, second = pages
    action_form(first, "Contact").get_by_label("Note").fill("我先联系上了")
    action_form(second, "Contact").get_by_label("Note").fill("我也打了电话")
    action_form(first, "Contact").get_by_role("button", name="Contact").click()
    expect(first.get_by_role("status")).to_have_text("First contact recorded.")
    action_form(second, "Contact").get_by_role("button", name="Contact").click()
    alert = action_form(second, "Contact").get_by_role("alert")
    expect(alert).to_contain_text("A colleague acted first")
    expect(alert).to_contain_text("in_progress")
    expect(action_form(second, "Contact").get_by_label("Note")).to_have_value("我也打了电话")  # kept
    expect(second.locator(".detail-head .badge.status-in_progress")).to_be_visible()  # and the page caught up
    contacted = [e for e in staff_view(sys, cid)["timeline"] if e["type"] == "contacted"]
    assert [e["actor"] for e in contacted] == ["agent:A-7"]
    second.get_by_role("button", name="中文").click()
    expect(action_form(second, "联系客户").get_by_label("备注")).to_have_value("我也打了电话")  # a language switch keeps it too
    for page in pages:
        page.context.close()


def test_readable_on_a_tablet(browser: Browser, system: Any) -> None:
    sys = system
    cid = new_complaint(sys, "C-T1")
    context = new_context(browser, viewport=TABLET, has_touch=True, is_mobile=True)
    page = context.new_page()
    sign_in(page, sys.api_url, fragment="#/logistics", lang="zh-CN")
    expect(row(page, cid)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # nothing off-screen sideways
    screenshot(page, "console-queue-tablet.png")
    row(page, cid).get_by_role("link", name=cid).click()
    expect(page.locator("#detail-heading")).to_have_text(cid)
    expect(page.locator(".queue-pane")).to_be_hidden()  # one pane at a time
    expect(page.get_by_role("button", name="联系客户", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "console-detail-tablet.png")
    page.get_by_role("link", name="← 返回队列").click()
    expect(row(page, cid)).to_be_visible()
    context.close()


def test_supervisors_open_the_report_in_their_language(page: Page, system: Any) -> None:
    sys = system
    sign_in(page, sys.api_url, user="S-1", group="supervisors", lang="zh-CN")
    expect(page.get_by_text("S-1 · 主管")).to_be_visible()
    page.get_by_text("报表", exact=True).click()
    with page.expect_popup() as popup:
        page.get_by_role("button", name="打开报表").click()
    report = popup.value
    report.wait_for_load_state()
    expect(report.locator("h1")).to_have_text("投诉报表")
    expect(report.locator("html")).to_have_attribute("lang", "zh-CN")
    # the link is one-time: opened again, it is refused
    assert sys.http("GET", urllib.parse.urlsplit(report.url).path + "?" + urllib.parse.urlsplit(report.url).query).status == 404
    report.close()
    page.get_by_role("button", name="English").click()
    page.get_by_text("Report", exact=True).click()
    with page.expect_popup() as popup:
        page.get_by_role("button", name="Open report").click()
    expect(popup.value.locator("h1")).to_have_text("Complaint report")


def test_agents_have_no_report_link_and_the_link_needs_a_supervisor(page: Page, system: Any) -> None:
    sys = system
    sign_in(page, sys.api_url)
    expect(page.get_by_text("Report", exact=True)).to_have_count(0)
    body = {"from": "2026-11-01", "to": "2026-11-08", "lang": "en"}
    assert sys.http("POST", "/console/report-link", token=sys.token("A-7", "agents"), json_body=body).status == 403
    assert sys.http("POST", "/console/report-link", json_body=body).status == 401
    assert sys.http("POST", "/console/report-link", token=sys.token("S-1", "supervisors"),
                    json_body={**body, "lang": "fr"}).json()["error"]["details"][0]["field"] == "lang"


def test_cognito_hosted_ui_sign_in_with_pkce(page: Page, system: Any) -> None:
    """The AWS sign-in path, with the hosted UI played by the test: authorization code + PKCE,
    the ID token it returns used as the API's bearer token, sign-out through /logout."""
    sys = system
    domain = "https://complaints-test.auth.us-east-1.amazoncognito.com"
    redirect = console_url(sys.api_url)
    seen: dict[str, Any] = {}
    config = site.ConsoleConfig(stage="dev", auth=site.CognitoSignIn(domain=domain, client_id="client-1", redirect_uri=redirect))

    def with_cloudfront_csp(route: Route) -> None:  # what the template's response headers policy sends
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers,
                                                  "content-security-policy": site.content_security_policy([domain])})

    def authorize(route: Route) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(route.request.url).query))
        seen["authorize"] = query
        back = f"{query['redirect_uri']}?code=the-code&state={urllib.parse.quote(query['state'])}"
        # the user signs in on the hosted page, which sends the browser back with a code
        route.fulfill(content_type="text/html", body=f'<meta http-equiv="refresh" content="0;url={back}">')

    def token(route: Route) -> None:
        form = dict(urllib.parse.parse_qsl(route.request.post_data or ""))
        seen["token"] = form
        ok = pkce_challenge(form.get("code_verifier", "")) == seen["authorize"]["code_challenge"] and form.get("code") == "the-code"
        route.fulfill(status=200 if ok else 400, headers={"Access-Control-Allow-Origin": sys.api_url},
                      json={"id_token": sys.token("A-9", "agents"), "refresh_token": "r", "expires_in": 3600} if ok
                      else {"error": "invalid_grant"})

    page.route("**/console/config.json", lambda route: route.fulfill(body=config.body(), content_type="application/json"))
    page.route(lambda url: urllib.parse.urlsplit(url).path == "/console/", with_cloudfront_csp)
    page.route(f"{domain}/oauth2/authorize**", authorize)
    page.route(f"{domain}/oauth2/token", token)
    page.route(f"{domain}/logout**", lambda route: route.fulfill(body="<p>signed out</p>", content_type="text/html"))

    page.goto(redirect + "#/service")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    expect(page.get_by_label("用户", exact=True)).to_have_count(0)  # no dev sign-in outside the local system
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="客服队列")).to_be_visible()  # back where the agent was
    expect(page.get_by_text("A-9 · 坐席")).to_be_visible()
    assert seen["authorize"]["code_challenge_method"] == "S256" and seen["authorize"]["client_id"] == "client-1"
    assert seen["authorize"]["scope"] == "openid email profile" and seen["authorize"]["response_type"] == "code"
    assert seen["token"]["grant_type"] == "authorization_code" and seen["token"]["redirect_uri"] == redirect
    assert "code=" not in page.url  # the code does not stay in the address bar
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(f"{domain}/logout**")
    assert dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query)) == {"client_id": "client-1", "logout_uri": redirect}


def test_the_release_build_works_from_the_console_origin_and_not_from_another(browser: Browser, system: Any,
                                                                             console_site: StaticSite, foreign_site: StaticSite) -> None:
    sys = system
    cid = new_complaint(sys, "C-X1", category="service_attitude", description="客服态度很差")
    token = sys.token("A-7", "agents")
    allowed = new_context(browser)
    allowed.add_init_script(session_script(token))
    page = allowed.new_page()
    page.goto(f"{console_site.origin}/#/service")
    expect(row(page, cid)).to_be_visible()  # cross-origin calls with a bearer token, allowed by CORS
    assert page.evaluate("[...document.scripts].map(s => s.src)")[0].startswith(f"{console_site.origin}/app-{console_site.release.release}/")
    allowed.close()
    foreign = new_context(browser)
    foreign.add_init_script(session_script(token))
    page = foreign.new_page()
    page.goto(f"{foreign_site.origin}/#/service")
    expect(page.locator(".queue-pane [role=alert]")).to_have_text("无法连接接口，请检查网络后重试。")
    expect(row(page, cid)).to_have_count(0)
    foreign.close()


def test_clock_states_the_console_computes(page: Page, system: Any) -> None:
    """Amber once at risk, red once due or breached, paused with the remainder frozen: the
    console's own clock module, in the browser, on documents shaped like the API's."""
    page.goto(console_url(system.api_url))
    states = page.evaluate("""async () => {
        const { nextDue } = await import("./app/clock.js");
        const now = new Date("2026-11-22T10:00:00Z");
        const clock = (c) => ({ status: "in_progress", clocks: { resolution: { due: "2026-11-22T12:00:00Z", level: 0, ...c } } });
        const cases = {
            ok: clock({ at_risk_at: "2026-11-22T11:00:00Z" }),
            at_risk: clock({ at_risk_at: "2026-11-22T09:30:00Z" }),
            due: clock({ due: "2026-11-22T09:59:00Z" }),
            breached: clock({ breached: true, level: 1, due: "2026-11-22T13:00:00Z" }),
            paused: { status: "pending_customer", clocks: { resolution: { due: "2026-11-22T09:00:00Z", paused: true, remaining_s: 5400 } } },
            queue_item: { status: "awaiting_contact", first_contact_due: "2026-11-22T10:30:00Z", resolution_due: "2026-11-25T10:00:00Z" },
            none: { status: "resolved", clocks: { resolution: { due: "2026-11-22T12:00:00Z", stopped_at: "2026-11-22T09:00:00Z" } } },
        };
        return Object.fromEntries(Object.entries(cases).map(([k, doc]) => {
            const next = nextDue(doc, now);
            return [k, next && { state: next.state, left: next.secondsLeft, clock: next.clock.name }];
        }));
    }""")
    assert states == {
        "ok": {"state": "ok", "left": 7200, "clock": "resolution"},
        "at_risk": {"state": "at_risk", "left": 7200, "clock": "resolution"},
        "due": {"state": "breached", "left": -60, "clock": "resolution"},
        "breached": {"state": "breached", "left": 10800, "clock": "resolution"},
        "paused": {"state": "paused", "left": 5400, "clock": "resolution"},
        "queue_item": {"state": "ok", "left": 1800, "clock": "first_contact"},
        "none": None,
    }


# -- the actions of the policy work (they run as soon as their routes are in app.py) ------------------------
@needs_route["pause"]
@needs_route["resume"]
def test_pause_and_resume_from_the_console(page: Page, system: Any) -> None:
    sys = system
    cid = new_complaint(sys, "C-P1")
    assert act(sys, cid, "contact", {"note": "called"}).status == 200
    sign_in(page, sys.api_url, fragment=f"#/logistics/{cid}")
    pause = action_form(page, "Pause")
    pause.get_by_label("Reason").select_option("awaiting_customer")
    pause.get_by_label("Note").fill("请客户补充照片")
    pause.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("status")).to_contain_text("Paused")
    assert staff_view(sys, cid)["status"] == "pending_customer"
    expect(page.locator(".detail-head .badge.status-pending_customer")).to_be_visible()
    expect(row(page, cid)).to_have_class("state-paused")
    expect(row(page, cid).locator(".countdown")).to_contain_text("paused")
    expect(action_form(page, "Resume").get_by_role("button", name="Resume")).to_have_class("primary")
    action_form(page, "Resume").get_by_label("Note").fill("客户已电话补充")
    action_form(page, "Resume").get_by_role("button", name="Resume").click()
    expect(page.get_by_role("status")).to_have_text("Clock resumed.")
    assert staff_view(sys, cid)["status"] == "in_progress"
    expect(row(page, cid)).not_to_have_class("state-paused")
    # pausing a complaint that is not in progress is refused plainly
    other = new_complaint(sys, "C-P2")
    page.goto(console_url(sys.api_url, f"#/logistics/{other}"))
    action_form(page, "Pause").get_by_label("Note").fill("too early")
    action_form(page, "Pause").get_by_role("button", name="Pause").click()
    expect(action_form(page, "Pause").get_by_role("alert")).to_contain_text("A colleague acted first, or this action no longer applies")
    expect(action_form(page, "Pause").get_by_label("Note")).to_have_value("too early")


@needs_route["triage"]
def test_retriage_from_the_console(page: Page, system: Any) -> None:
    sys = system
    cid = new_complaint(sys, "C-G1")
    sign_in(page, sys.api_url, fragment=f"#/logistics/{cid}")
    form = action_form(page, "Re-triage")
    form.get_by_role("button", name="Re-triage").click()  # neither category nor severity: the API says so
    expect(form.get_by_role("alert")).to_be_visible()
    form.get_by_label("Category").select_option("lost_parcel")
    form.get_by_label("Severity").select_option("P1")
    form.get_by_label("Reason").fill("包裹其实丢了，客户是VIP")
    form.get_by_role("button", name="Re-triage").click()
    expect(page.get_by_role("status")).to_have_text("Triage corrected.")
    view = staff_view(sys, cid)
    assert (view["category"], view["severity"], view["team"]) == ("lost_parcel", "P1", "logistics")
    assert "retriaged" in timeline(view)
    expect(page.locator(".card.triage")).to_contain_text("Lost parcel")
    expect(page.locator("ol.timeline > li[data-type=retriaged] .mark.internal").first).to_be_visible()


@needs_route["pause"]
def test_at_risk_complaints_are_amber(page: Page, system: Any) -> None:
    sys = system
    cid = import_raised(sys, "C-AMBER", hours_ago=6.5)  # at risk after 6 h of a P3's 8 h first contact: 9 s of wall time left
    sign_in(page, sys.api_url, fragment="#/logistics")
    line = row(page, cid)
    expect(line).to_have_class("state-at_risk")
    expect(line.locator(".state-word")).to_have_text("at risk")


# -- measured, not asserted ------------------------------------------------------------------------------
def test_measure_click_to_updated_view_and_page_weight(browser: Browser, system: Any, record_property: Any) -> None:
    sys = system
    # page weight: every byte of the first load (sign-in page: HTML, CSS, modules, messages, config)
    context = new_context(browser)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    sizes: dict[str, int] = {}
    urls: dict[str, str] = {}
    cdp.on("Network.responseReceived", lambda e: urls.__setitem__(e["requestId"], e["response"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    page.goto(console_url(sys.api_url))
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    page.wait_for_load_state("networkidle")
    transferred = sum(sizes.values())
    files = site.source_files()
    raw = sum((site.SITE_DIR / f).stat().st_size for f in files if not f.endswith("en.json"))
    compressed = sum(len(gzip.compress((site.SITE_DIR / f).read_bytes(), 9)) for f in files if not f.endswith("en.json"))
    context.close()

    # click -> updated detail view: "Add note" 20 times, from the click to the new entry on screen
    cid = new_complaint(sys, "C-M1")
    context = new_context(browser)
    page = context.new_page()
    sign_in(page, sys.api_url, fragment=f"#/logistics/{cid}")
    form = action_form(page, "Add note")
    for i in range(20):
        form.get_by_label("Note text").fill(f"measure {i}")
        form.get_by_role("button", name="Add note").click()
        expect(page.locator("ol.timeline > li").first).to_contain_text(f"measure {i}")
    durations = page.evaluate("performance.getEntriesByName('console:note').map(e => e.duration)")
    context.close()
    # the same two API calls without a browser (POST the note, GET the complaint): what the page adds
    agent = sys.token("A-7", "agents")
    bare = []
    for i in range(20):
        started = time.perf_counter()
        assert sys.http("POST", f"/complaints/{cid}/notes", token=agent, json_body={"text": f"bare {i}"}).status == 201
        assert sys.http("GET", f"/complaints/{cid}", token=agent).status == 200
        bare.append((time.perf_counter() - started) * 1000)
    assert len(durations) == 20
    notes = [e["detail"]["text"] for e in staff_view(sys, cid)["timeline"] if e["type"] == "note"]
    assert notes == [f"measure {i}" for i in range(20)] + [f"bare {i}" for i in range(20)]
    median = statistics.median(durations)
    bare_median = statistics.median(bare)
    figures = {
        "click_to_updated_detail_ms": {"median": round(median, 1), "p90": round(sorted(durations)[17], 1),
                                       "min": round(min(durations), 1), "max": round(max(durations), 1), "n": 20,
                                       "api_only_median": round(bare_median, 1), "ratio_to_api_only": round(median / bare_median, 2)},
        "first_load": {"requests": len(sizes), "bytes_transferred": transferred,
                       "site_bytes": raw, "site_bytes_gzip": compressed,
                       "by_url": {urls.get(k, k).removeprefix(sys.api_url): v for k, v in sorted(sizes.items())}},
    }
    Path("test-artifacts").mkdir(exist_ok=True)
    Path("test-artifacts/console-metrics.json").write_text(json.dumps(figures, indent=1))
    record_property("measured: console click -> updated detail (Add note, median of 20)",
                    f"{median:.0f} ms (p90 {figures['click_to_updated_detail_ms']['p90']:.0f} ms); "
                    f"{median / bare_median:.2f}x the same POST + GET without a browser ({bare_median:.0f} ms)")
    record_property("measured: console first load",
                    f"{transferred / 1024:.1f} KiB transferred in {len(sizes)} requests "
                    f"(site files {raw / 1024:.1f} KiB, {compressed / 1024:.1f} KiB gzipped as CloudFront serves them)")
    print(json.dumps(figures, indent=1))
