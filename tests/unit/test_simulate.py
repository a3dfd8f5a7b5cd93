"""``python -m local simulate`` on small loads: sanity a fake could not pass (no agents, ample
agents, a tighter window, identical policies, the same seed twice) and clear errors for bad
input. The simulation runs the real definition, steps and policy on in-memory adapters."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib.policy import from_definition
from local.cli import main
from local.simulate.command import ROOT
from local.simulate.load import make_load, write_load

DEFINITION = ROOT / "state_machines" / "lifecycle.asl.json"
NO_AGENTS = "product=0,logistics=0,service=0"
AMPLE = "product=40,logistics=40,service=40"


@pytest.fixture(scope="module")
def load(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sim") / "load.jsonl"
    write_load(make_load(days=1, per_day=24, seed=3, start=datetime.fromisoformat("2026-11-30T00:00:00+08:00")), path)
    return path


def simulate(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["simulate", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def fails(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["simulate", *args]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.err


def edited(tmp_path: Path, name: str, change: Any) -> Path:
    definition = json.loads(DEFINITION.read_text(encoding="utf-8"))
    change(definition["States"]["ServiceLevelPolicy"]["Result"])
    path = tmp_path / name
    path.write_text(json.dumps(definition), encoding="utf-8")
    return path


def test_without_agents_nothing_is_met_and_every_complaint_climbs_the_whole_ladder(
        capsys: pytest.CaptureFixture[str], load: Path) -> None:
    figures = simulate(capsys, "--load", str(load), "--staff", NO_AGENTS, "--drain-days", "2")
    policy = figures["policies"][0]
    assert figures["complaints"] == policy["complaints"] == 24
    assert policy["first_contact"]["compliance"] == 0.0
    assert policy["first_contact"]["breached"] == 24
    assert policy["first_contact"]["median_s"] is None  # nobody was ever contacted
    levels = [str(level.level) for level in from_definition(json.loads(DEFINITION.read_text())).escalation.levels]
    for level in levels:  # each complaint's first-contact clock reached every level
        assert policy["escalations"][level] >= 24, level
    assert policy["vouchers"]["count"] >= 24
    assert policy["closed"] == 0


def test_ample_agents_meet_every_promise(capsys: pytest.CaptureFixture[str], load: Path) -> None:
    policy = simulate(capsys, "--load", str(load), "--staff", AMPLE, "--handle-minutes",
                      "product=5,logistics=5,service=5")["policies"][0]
    assert policy["first_contact"]["compliance"] == 1.0
    assert policy["resolution"]["compliance"] == 1.0
    assert policy["escalations"] == {} and policy["vouchers"] == {"count": 0, "cny": "0.00"}
    assert policy["closed"] == 24  # rated, or closed when the survey expired
    assert policy["transitions"] > 24 * 5 and policy["lambda_invocations"] > 24 * 3


def test_a_tighter_window_never_raises_compliance(capsys: pytest.CaptureFixture[str], load: Path,
                                                  tmp_path: Path) -> None:
    def halve(result: dict[str, Any]) -> None:
        for severity in ("P1", "P2", "P3"):
            result[severity]["first_contact_s"] //= 4
            result[severity]["resolution_s"] //= 4

    tight = edited(tmp_path, "tight.asl.json", halve)
    figures = simulate(capsys, "--load", str(load), "--staff", "product=1,logistics=1,service=1",
                       "--compare", str(tight))
    first, second = figures["policies"]
    assert first["first_contact"]["breached"] < 24  # the default is not hopeless with these agents ...
    assert second["first_contact"]["breached"] > first["first_contact"]["breached"]  # ... the tight one is worse
    for clock in ("first_contact", "resolution"):
        assert second[clock]["compliance"] <= first[clock]["compliance"]
        assert figures["difference"][clock]["compliance"] <= 0
    assert figures["difference"]["vouchers"]["count"] >= 0


def test_comparing_a_policy_with_itself_differs_in_nothing(capsys: pytest.CaptureFixture[str], load: Path) -> None:
    figures = simulate(capsys, "--load", str(load), "--staff", "product=1,logistics=1,service=1",
                       "--compare", str(DEFINITION))
    first, second = figures["policies"]
    assert {**first, "name": ""} == {**second, "name": ""}
    difference = figures["difference"]
    assert difference["first_contact"]["compliance"] == 0 and difference["resolution"]["compliance"] == 0
    assert set(difference["escalations"].values()) <= {0}
    assert difference["vouchers"] == {"count": 0, "cny": "0.00"} and difference["cost_usd"] == "0.00"
    assert difference["transitions"] == 0


def test_a_git_revision_of_the_definition_is_a_policy_to_compare(capsys: pytest.CaptureFixture[str],
                                                                 load: Path) -> None:
    committed = subprocess.run(["git", "show", "HEAD:state_machines/lifecycle.asl.json"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout
    figures = simulate(capsys, "--load", str(load), "--compare", "HEAD")
    assert figures["policies"][1]["name"] == "HEAD:state_machines/lifecycle.asl.json"
    if json.loads(committed) == json.loads(DEFINITION.read_text(encoding="utf-8")):
        assert figures["difference"]["transitions"] == 0


def test_the_same_seed_gives_the_same_json(capsys: pytest.CaptureFixture[str], load: Path) -> None:
    args = ("--load", str(load), "--staff", "product=1,logistics=1,service=1", "--seed", "7")
    assert main(["simulate", *args, "--json"]) == 0
    once = capsys.readouterr().out
    assert main(["simulate", *args, "--json"]) == 0
    assert capsys.readouterr().out == once
    # two policies side by side (a process each) or one after the other: the same figures
    assert main(["simulate", *args, "--compare", str(DEFINITION), "--json"]) == 0
    side_by_side = capsys.readouterr().out
    assert main(["simulate", *args, "--compare", str(DEFINITION), "--jobs", "1", "--json"]) == 0
    assert capsys.readouterr().out == side_by_side
    assert json.loads(side_by_side)["policies"][0] == json.loads(once)["policies"][0]
    assert main(["simulate", *args[:-1], "8", "--json"]) == 0
    other = json.loads(capsys.readouterr().out)
    assert other["policies"][0]["resolution"]["median_s"] != json.loads(once)["policies"][0]["resolution"]["median_s"]


def test_its_store_figures_what_the_test_fake_storing_like_the_table_figures(
        capsys: pytest.CaptureFixture[str], load: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulator's store copies tickets without the JSON round trip the fake makes (as
    DynamoDB would give them back): on the same load, the same figures to the last digit."""
    from chalicelib.adapters.memory import MemoryTicketStore
    from local.simulate.store import SimulationStore

    args = ("--load", str(load), "--staff", "product=1,logistics=0,service=1", "--drain-days", "2")  # logistics climbs
    fast = simulate(capsys, *args)
    monkeypatch.setattr(SimulationStore, "_stored", MemoryTicketStore._stored)
    assert simulate(capsys, *args) == fast
    policy = fast["policies"][0]
    assert policy["escalations"] and policy["vouchers"]["count"] and policy["resolution"]["met"] and policy["reopens"]

def test_make_load_writes_the_mix_of_the_seeds(tmp_path: Path) -> None:
    out = tmp_path / "week.jsonl"
    assert main(["simulate", "--make-load", "--days", "2", "--per-day", "150", "--out", str(out), "--seed", "5"]) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 300
    assert [line["at"] for line in lines] == sorted(line["at"] for line in lines)
    english = sum(1 for line in lines if line["contact"]["locale"] == "en")
    assert 0.1 < english / 300 < 0.4  # Chinese and English
    answers = {(line["customer"]["rates"], line["customer"]["replies"]) for line in lines}
    assert {(True, True), (False, False)} <= answers  # customers who rate and who never answer
    again = tmp_path / "again.jsonl"
    main(["simulate", "--make-load", "--days", "2", "--per-day", "150", "--out", str(again), "--seed", "5"])
    assert again.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")


def test_bad_inputs_are_named(capsys: pytest.CaptureFixture[str], load: Path, tmp_path: Path) -> None:
    assert "cannot read the load" in fails(capsys, "--load", str(tmp_path / "missing.jsonl"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(load.read_text(encoding="utf-8").splitlines()[0] + "\n{not json\n", encoding="utf-8")
    assert f"{bad}:2: not JSON" in fails(capsys, "--load", str(bad))
    bad.write_text('{"at": "2026-12-01T08:00:00Z", "customer_id": "C-1"}\n', encoding="utf-8")
    assert f"{bad}:1: not a POST /complaints body" in fails(capsys, "--load", str(bad))
    assert "neither a file nor a git revision" in fails(capsys, "--load", str(load), "--compare", "no-such-rev-xyz")
    negative = edited(tmp_path, "negative.asl.json", lambda r: r["P2"].update(first_contact_s=-5))
    assert "P2.first_contact_s" in fails(capsys, "--load", str(load), "--policy", str(negative))
    assert "--staff" in fails(capsys, "--load", str(load), "--staff", "warehouse=3")


def test_out_writes_a_page_with_both_policies_and_their_charts(capsys: pytest.CaptureFixture[str], load: Path,
                                                                 tmp_path: Path) -> None:
    page = tmp_path / "sim.html"
    tight = edited(tmp_path, "tight.asl.json", lambda r: r["P1"].update(first_contact_s=600))
    assert main(["simulate", "--load", str(load), "--compare", str(tight), "--out", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert text.count("Plotly.newPlot") == 4  # compliance x2, escalations, times
    assert str(tight) in text and "state_machines/lifecycle.asl.json" in text
    assert "Difference (second − first)" in text
    assert "first-contact compliance" in capsys.readouterr().out  # the summary still goes to stdout



def test_agents_take_tickets_in_the_store_s_queue_order(load: Path) -> None:
    """The simulator's indexed queue lists what the in-memory store's team_queue lists (and
    its by_order index counts what the in-memory store counts)."""
    from datetime import timedelta

    from chalicelib.adapters.memory import MemoryTicketStore
    from local.simulate.engine import Simulation
    from local.simulate.load import read_load
    from local.simulate.people import Customers, Staffing

    arrivals = read_load(load, datetime.fromisoformat("2026-11-30T00:00:00+08:00"))
    simulation = Simulation(json.loads(DEFINITION.read_text(encoding="utf-8")), arrivals,
                            staffing=Staffing(agents={"product": 0, "logistics": 0, "service": 0}),
                            customers=Customers(), horizon=arrivals[-1].at + timedelta(hours=1))
    simulation.run()
    store = simulation.store
    for team in ("product", "logistics", "service"):
        listed = [t.complaint_id for t in MemoryTicketStore.team_queue(store, team, limit=100, cursor=None)[0]]
        assert listed and store.queue_order(team) == listed
    for ticket in store.get_tickets(simulation.workflow.starts).values():  # and the by_order index
        order = ticket.complaint.order_id
        assert store.open_on_order(order) == MemoryTicketStore.open_on_order(store, order) >= 1
        assert store.open_on_order(order, exclude=ticket.complaint_id) == MemoryTicketStore.open_on_order(
            store, order, exclude=ticket.complaint_id)


def test_shifts_put_agents_on_duty_by_calendar(capsys: pytest.CaptureFixture[str], load: Path,
                                               tmp_path: Path) -> None:
    def shifts(week: dict[str, list[str]]) -> Path:
        path = tmp_path / "shifts.json"
        path.write_text(json.dumps({"shifts": [
            {"team": team, "agents": 40, "calendar": {"timezone": "Asia/Shanghai", "week": week}}
            for team in ("product", "logistics", "service")]}), encoding="utf-8")
        return path

    common = ("--load", str(load), "--handle-minutes", "product=5,logistics=5,service=5", "--drain-days", "2")
    always = simulate(capsys, *common, "--shifts", str(shifts({"mon-sun": ["00:00-24:00"]})))["policies"][0]
    assert always["first_contact"]["compliance"] == 1.0
    # the load arrives on a Monday: agents who only work on Tuesdays from 09:00 come too late
    # for every first contact (8 h at most), in time for some resolutions
    tuesdays = simulate(capsys, *common, "--shifts", str(shifts({"tue": ["09:00-18:00"]})))["policies"][0]
    assert tuesdays["first_contact"]["compliance"] == 0.0
    assert tuesdays["resolution"]["met"] > 0


def test_a_bad_shift_file_is_named(capsys: pytest.CaptureFixture[str], load: Path, tmp_path: Path) -> None:
    path = tmp_path / "shifts.json"
    path.write_text(json.dumps({"shifts": [{"team": "warehouse", "agents": 2, "calendar": {
        "timezone": "Asia/Shanghai", "week": {"mon-fri": ["09:00-18:00"]}}}]}), encoding="utf-8")
    assert "unknown team 'warehouse'" in fails(capsys, "--load", str(load), "--shifts", str(path))
    path.write_text(json.dumps({"shifts": [{"team": "product", "agents": 2, "calendar": {
        "timezone": "Mars/Olympus", "week": {"mon-fri": ["09:00-18:00"]}}}]}), encoding="utf-8")
    assert "shifts.0.calendar.timezone" in fails(capsys, "--load", str(load), "--shifts", str(path))


def test_marketplace_records_are_imported_once_each(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    batch = json.loads((ROOT / "tests" / "data" / "imports" / "jd.json").read_text(encoding="utf-8"))
    record = batch["records"][0]
    line = json.dumps({**record, "source": "jd", "at": "2026-11-22T02:00:00Z"}, ensure_ascii=False)
    load = tmp_path / "jd.jsonl"
    load.write_text(f"{line}\n{line}\n", encoding="utf-8")  # the same dispute exported twice
    policy = simulate(capsys, "--load", str(load), "--staff", AMPLE)["policies"][0]
    assert policy["complaints"] == 1
    contact = policy["first_contact"]
    assert (contact["met"] + contact["breached"], contact["open"]) == (1, 0)  # worked once, whatever its severity
    bad = tmp_path / "bad-jd.jsonl"
    bad.write_text(json.dumps({"source": "jd", "at": 0, "orderId": 1}) + "\n", encoding="utf-8")
    assert f"{bad}:1: jd record:" in fails(capsys, "--load", str(bad))


def test_executions_that_fail_are_reported_not_hidden(capsys: pytest.CaptureFixture[str], load: Path,
                                                      tmp_path: Path) -> None:
    definition = json.loads(DEFINITION.read_text(encoding="utf-8"))
    first = definition["States"]["ServiceLevelPolicy"]["Next"]
    definition["States"][first]["Parameters"]["action"] = "no_such_step"  # an edit the step dispatcher refuses
    broken = tmp_path / "broken.asl.json"
    broken.write_text(json.dumps(definition), encoding="utf-8")
    assert main(["simulate", "--load", str(load), "--policy", str(broken), "--json"]) == 0
    captured = capsys.readouterr()
    policy = json.loads(captured.out)["policies"][0]
    assert policy["failed_executions"] == 24
    assert any("no_such_step" in reason for reason in policy["failures"])
    assert "WARNING" in captured.err and "24 executions failed" in captured.err


def test_at_is_an_iso_time_or_seconds_after_the_start(tmp_path: Path) -> None:
    from datetime import UTC, timedelta

    from local.simulate.load import LoadError, parse_line

    start = datetime(2026, 12, 1, tzinfo=UTC)
    body = {"customer_id": "C-1", "order_id": "O-1", "channel": "app", "desired_outcome": "refund",
            "description": "杯子碎了"}
    assert parse_line(json.dumps({**body, "at": 5400}), 1, start, "x").at == start + timedelta(seconds=5400)
    assert parse_line(json.dumps({**body, "at": "2026-12-01T10:00:00+08:00"}), 1, start, "x").at == start + timedelta(hours=2)
    with pytest.raises(LoadError, match="x:3: at: 'tomorrow'"):
        parse_line(json.dumps({**body, "at": "tomorrow"}), 3, start, "x")
    with pytest.raises(LoadError, match="x:4: missing 'at'"):
        parse_line(json.dumps(body), 4, start, "x")
    with pytest.raises(LoadError, match=r"agent\.resolve_after_s"):
        parse_line(json.dumps({**body, "at": 0, "agent": {"resolve_after_s": -1}}), 5, start, "x")
