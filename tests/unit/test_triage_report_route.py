"""``GET /reports/triage`` on the fakes: staff's re-triages judged against what was triaged."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib import actions
from chalicelib.models import TriageIn
from chalicelib.reports import handlers
from chalicelib.reports.figures import ReportParamError
from chalicelib.triage.proposals import Proposal, render_snippet
from tests.unit.conftest import AGENT, Fakes


def _window(fakes: Fakes) -> dict[str, str]:
    today = fakes.clock.now.date()
    return {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()}


def test_a_retriage_is_a_correction_the_report_counts_and_names(fakes: Fakes) -> None:
    # Given two complaints triaged to logistics, one of them corrected to counterfeit by an agent
    corrected, untouched = fakes.file(), fakes.file()
    for cid in (corrected, untouched):
        fakes.wait(cid, fakes.triage(cid))
    actions.retriage(fakes.services, corrected, AGENT, TriageIn(category="counterfeit", reason="a fake cup"))
    # When ops read the day's triage report
    body = handlers.serve(fakes.services, "triage", _window(fakes))
    # Then the correction is counted and named, and accuracy is judged by it
    assert body["corrected"] == 1 and body["triaged"] >= 1  # the fakes feed no aggregates: at least the corrected one
    assert body["confusion"]["category"] == [{"predicted": "damaged_in_transit", "corrected": "counterfeit", "count": 1}]
    assert body["accuracy"]["category"] == round((body["triaged"] - 1) / body["triaged"], 4)
    assert body["accuracy"]["severity"] == 1.0
    assert body["from"].startswith(_window(fakes)["from"])
    # And its proposals read back as the rule file's own syntax (what the CLI prints)
    snippet = render_snippet([Proposal.model_validate(p) for p in body["proposals"]])
    assert isinstance(snippet, str)


def test_a_day_without_corrections_reports_nothing_corrected(fakes: Fakes) -> None:
    cid = fakes.file()
    fakes.wait(cid, fakes.triage(cid))
    body = handlers.serve(fakes.services, "triage", _window(fakes))
    assert body["corrected"] == 0 and body["confusion"] == {"category": [], "severity": []} and body["proposals"] == []


def test_a_bad_window_is_a_parameter_error_naming_the_field(fakes: Fakes) -> None:
    with pytest.raises(ReportParamError) as raised:
        handlers.serve(fakes.services, "triage", {"from": "2026-11-02", "to": "2026-11-01"})
    assert raised.value.field == "to"
