"""The HTML report of ``python -m local report`` (local/report.py), rendered from the
hand-computed fixture: one self-contained page, every chart, the numbers of the summary."""

from __future__ import annotations

import argparse
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

    out = report.make_report(fetch, "2026-11-01", "2026-11-30", tmp_path / "r.html", min_complaints=1)
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


def test_durations_read_like_people_say_them() -> None:
    assert [report.human(s) for s in (None, 45, 600, 7200, 5400 * 2, 86400 * 3)] == ["–", "45 s", "10 min", "2 h", "3 h", "3 d"]
    assert report.percent(2 / 3) == "66.7 %" and report.percent(None) == "–"


def test_the_command_needs_a_token_for_a_remote_api(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(report.TOKEN_VARIABLE, raising=False)
    parser = argparse.ArgumentParser()
    report.register(parser.add_subparsers())
    args = parser.parse_args(["report", "--from", "2026-11-01", "--to", "2026-11-30",
                              "--endpoint", "https://abc.execute-api.us-east-1.amazonaws.com/api"])
    assert args.handler(args) == 2
    assert report.TOKEN_VARIABLE in capsys.readouterr().err
