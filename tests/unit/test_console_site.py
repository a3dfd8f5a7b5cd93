"""The agent console as a static site (console/site.py): its files and their headers, the
messages of both languages, config.json, the release build; and what the staff view tells the
console about the timeline (what customers never see)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.models import ComplaintIn, Event
from chalicelib.ticket import Ticket
from console import site


def keys(messages: dict[str, Any], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for key, value in messages.items():
        found |= keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
    return found


def test_both_languages_say_everything_and_every_placeholder_matches() -> None:
    zh, en = site.messages("zh-CN"), site.messages("en")
    assert keys(zh) == keys(en)
    for key in keys(en):
        node_en: Any = en
        node_zh: Any = zh
        for part in key.split("."):
            node_en, node_zh = node_en[part], node_zh[part]
        assert sorted(set(re.findall(r"\{(\w+)\}", node_en))) == sorted(set(re.findall(r"\{(\w+)\}", node_zh))), key
    # the seven actions and the sign-in form carry the names agents are told about
    assert [en["actions"][a] for a in ("contact", "resolve", "escalate", "note", "pause", "resume", "retriage")] == [
        "Contact", "Resolve", "Escalate", "Add note", "Pause", "Resume", "Re-triage"]
    assert (en["signin"]["user"], en["signin"]["group"], en["signin"]["submit"]) == ("User", "Group", "Sign in")
    with pytest.raises(ValueError, match="language"):
        site.messages("fr")


def test_every_domain_value_has_a_name_in_both_languages() -> None:
    from typing import get_args

    from chalicelib.models import CATEGORIES, TEAMS, Channel, DesiredOutcome, ProductKind, Resolution, Status, Tier

    for lang in site.LANGUAGES:
        labels = site.messages(lang)["labels"]
        assert set(labels["category"]) == set(CATEGORIES), lang
        assert set(labels["team"]) == set(TEAMS), lang
        assert {s.value for s in Status} <= set(labels["status"]), lang
        assert set(get_args(Channel)) == set(labels["channel"]), lang
        assert set(get_args(DesiredOutcome)) | set(get_args(Resolution)) == set(labels["outcome"]), lang
        assert set(get_args(ProductKind)) == set(labels["kind"]), lang
        assert set(get_args(Tier)) == set(labels["tier"]), lang


def test_only_the_sites_own_files_are_served_with_their_types() -> None:
    assert site.source_file("index.html") == site.SITE_DIR / "index.html"
    assert site.source_file("app/main.js") == site.SITE_DIR / "app" / "main.js"
    for name in ("site.py", "__init__.py", "app/../site.py", "app/../../app.py", "app/.x.js", "app", "app/", "",
                 "app/nope.js", "app\\main.js", "../README.md", "app/__pycache__/x.js"):
        assert site.source_file(name) is None, name
    files = site.source_files()
    assert files[0] == "index.html" and "app/main.js" in files and not any(f.endswith(".py") for f in files)
    assert {site.content_type(f) for f in files} <= set(site.CONTENT_TYPES.values())
    assert site.cache_control("index.html") == site.cache_control("config.json") == "no-cache"
    assert site.cache_control("app-0123abcd/main.js") == "public, max-age=31536000, immutable"
    assert site.cache_control("app/main.js") == "no-cache"  # the unhashed source is revalidated


def test_the_modules_import_each_other_relatively_so_a_release_directory_works() -> None:
    for name in site.source_files():
        if name.endswith(".js"):
            text = (site.SITE_DIR / name).read_text(encoding="utf-8")
            for target in re.findall(r'from "([^"]+)"', text):
                assert target.startswith("./") and (site.SITE_DIR / "app" / target).is_file(), (name, target)
            assert not re.search(r"\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write", text), name  # text never becomes markup


def test_config_is_validated() -> None:
    local = site.ConsoleConfig(stage="local", auth=site.LocalSignIn(), report=site.LocalReport(),
                               clock=site.ScaledClock(scale=60, epoch=1.0))
    assert json.loads(local.body())["auth"] == {"mode": "local", "token_url": "dev-token"}
    with pytest.raises(ValidationError):
        site.CognitoSignIn(domain="http://not-https.example", client_id="c", redirect_uri="https://x/")
    with pytest.raises(ValidationError):
        site.ConsoleConfig.model_validate({"stage": "dev", "auth": {"mode": "password"}})
    with pytest.raises(ValidationError):
        site.ScaledClock(scale=0, epoch=1.0)


def test_the_release_build_is_content_addressed(tmp_path: Path) -> None:
    first = site.build(tmp_path / "a")
    second = site.build(tmp_path / "b")
    assert first.release == second.release == site.release_id()  # same files, same release
    index = (first.directory / "index.html").read_text(encoding="utf-8")
    assert f'href="app-{first.release}/console.css"' in index and 'src="app/' not in index
    assert json.loads((first.directory / "manifest.json").read_text())["release"] == first.release
    assert first.files["index.html"]["cache_control"] == "no-cache"
    assert all(v["cache_control"].endswith("immutable") for k, v in first.files.items() if k != "index.html")


def test_the_staff_timeline_marks_what_customers_never_see() -> None:
    at = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    body = ComplaintIn(customer_id="C-1", order_id="O-1", channel="app", desired_outcome="refund", description="碎了")
    ticket = Ticket(complaint_id="CMP-1", complaint=body, created_at=at, raised_at=at, updated_at=at)
    events = [Event(at=at, type="contacted", actor="agent:A-7", detail={"note": "called"}),
              Event(at=at, type="note", actor="agent:A-7", detail={"text": "internal"}),
              Event(at=at, type="resolved", actor="agent:A-7", detail={"resolution": "refund"})]
    staff = {e["type"]: e for e in ticket.public(events, staff=True)["timeline"]}
    assert staff["note"]["internal"] is True
    assert staff["contacted"]["internal"] is False and staff["contacted"]["internal_detail"] == ["note"]
    assert staff["resolved"]["internal"] is False and "internal_detail" not in staff["resolved"]
    customer = ticket.public(events, staff=False)["timeline"]
    assert all("internal" not in e and "internal_detail" not in e for e in customer)
    assert [e["type"] for e in customer] == ["received", "contacted", "resolved"]
