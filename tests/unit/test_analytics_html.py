"""The HTML report of ``python -m local report`` (local/report.py), rendered from the
hand-computed fixture: one self-contained page, every chart, the numbers of the summary."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import pytest

from chalicelib.reports import figures
from chalicelib.reports.dynamodb import AggregateReader
from local import report
from tests.unit.test_analytics import TABLE, WINDOW, fixture, stream_records, streamed


@pytest.fixture(scope="module")
def bodies() -> tuple[dict[str, Any], dict[str, Any]]:
    table = streamed(stream_records(fixture()))
    return (figures.report("summary", WINDOW, AggregateReader(table, TABLE)),
            figures.report("hotspots", {**WINDOW, "min_complaints": "1"}, AggregateReader(table, TABLE)))


def test_the_page_is_self_contained_with_every_chart(bodies: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path) -> None:
    summary, hotspots = bodies
    calls: list[tuple[str, dict[str, str]]] = []

    def fetch(kind: str, params: dict[str, str]) -> dict[str, Any]:
        calls.append((kind, params))
        return summary if kind == "summary" else hotspots

    out = report.make_report(fetch, "2026-11-01", "2026-11-30", tmp_path / "r.html", min_complaints=1, lang="en")
    page = out.read_text(encoding="utf-8")
    assert calls == [("summary", {"from": "2026-11-01", "to": "2026-11-30"}),
                     ("hotspots", {"from": "2026-11-01", "to": "2026-11-30", "min_complaints": "1"})]
    # plotly.js inlined once, nothing loaded from elsewhere
    assert page.count("Plotly.newPlot") == 6 and len(page) > 3_000_000
    assert not re.search(r"<script[^>]+src=", page) and not re.search(r"<link[^>]+href=\"http", page)
    for title in ("Complaints per day, by category", "SLA compliance per team", "Time to first contact",
                  "Time to resolution", "Satisfaction", "Hotspots"):
        assert title in page, title
    # the key figures of the fixture
    assert "Complaints created 2026-11-01 – 2026-11-29" in page
    for figure in (">6<", ">60.0 %<", ">10 min<", ">15.00 CNY<", ">3.00 / 5<", "SKU-88", "O-1"):
        assert figure in page, figure


def test_the_page_speaks_chinese_by_default_with_the_consoles_words(bodies: tuple[dict[str, Any], dict[str, Any]]) -> None:
    summary, hotspots = bodies
    page = report.report_html(lambda kind, _params: summary if kind == "summary" else hotspots, "2026-11-01", "2026-11-30")
    assert '<html lang="zh-CN">' in page and "<h1>投诉报表</h1>" in page
    for text in ("创建于 2026-11-01 – 2026-11-29 的投诉", "各团队时限达标率", "首次联系用时", "解决用时", "满意度", "热点",
                 "投诉最多的商品", ">10 分钟<", "达标 3 · 超时 2"):
        assert text in page, text
    # categories, teams and statuses are named as the console names them
    zh = report.Words("zh-CN")
    assert zh.label("category", "damaged_in_transit") == "运输破损" and zh.label("team", "logistics") == "物流"
    def in_chart(text: str, html: str) -> bool:  # plotly writes its JSON ASCII-only
        return json.dumps(text)[1:-1] in html

    assert in_chart("运输破损", page) and in_chart("物流", page) and "Complaints per day" not in page
    # and the same page in English names them in English
    en = report.report_html(lambda kind, _params: summary if kind == "summary" else hotspots, "2026-11-01", "2026-11-30", lang="en")
    assert '<html lang="en">' in en and in_chart("Damaged in transit", en) and not in_chart("运输破损", en)


def test_the_command_takes_the_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        bodies: tuple[dict[str, Any], dict[str, Any]]) -> None:
    summary, hotspots = bodies
    monkeypatch.setattr(report, "http_source", lambda endpoint, token: lambda kind, _p: summary if kind == "summary" else hotspots)
    parser = argparse.ArgumentParser()
    report.register(parser.add_subparsers())
    for lang, heading in ((None, "<h1>投诉报表</h1>"), ("en", "<h1>Complaint report</h1>")):
        out = tmp_path / f"{lang}.html"
        argv = ["report", "--from", "2026-11-01", "--to", "2026-11-30", "--token", "t", "--out", str(out)]
        args = parser.parse_args(argv + (["--lang", lang] if lang else []))
        assert args.handler(args) == 0
        assert heading in out.read_text(encoding="utf-8")
    with pytest.raises(SystemExit):
        parser.parse_args(["report", "--from", "2026-11-01", "--to", "2026-11-30", "--lang", "fr"])


def test_durations_read_like_people_say_them() -> None:
    assert [report.human(s) for s in (None, 45, 600, 7200, 5400 * 2, 86400 * 3)] == ["–", "45 s", "10 min", "2 h", "3 h", "3 d"]
    assert report.percent(2 / 3) == "66.7 %" and report.percent(None) == "–"
    assert [report.human(s, "zh-CN") for s in (45, 600, 7200, 86400 * 3)] == ["45 秒", "10 分钟", "2 小时", "3 天"]


def test_the_command_needs_a_token_for_a_remote_api(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(report.TOKEN_VARIABLE, raising=False)
    parser = argparse.ArgumentParser()
    report.register(parser.add_subparsers())
    args = parser.parse_args(["report", "--from", "2026-11-01", "--to", "2026-11-30",
                              "--endpoint", "https://abc.execute-api.us-east-1.amazonaws.com/api"])
    assert args.handler(args) == 2
    assert report.TOKEN_VARIABLE in capsys.readouterr().err
