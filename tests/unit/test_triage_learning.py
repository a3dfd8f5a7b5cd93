"""Learning from corrections (issue 15): the correction record, the triage report of api.md, the
proposals mined from corrected complaints, and the replay check (``make triage-check``)."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bench import triage_check
from chalicelib.triage import build_rules, load_rule_data, load_rules, merge, triage
from chalicelib.triage.corrections import Correction, CorrectionFileError, fold, read_jsonl
from chalicelib.triage.proposals import MinerSettings, mine_proposals, phrase_candidates, render_snippet
from chalicelib.triage.replay import LabelledCase, read_examples, replay
from chalicelib.triage.report import triage_report
from chalicelib.triage.rules import without_model

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# three complaints about money "hanging in mid-air" (slang for a refund that never lands) that the
# rules do not recognise: staff moved them to after_sales
REFUND_LIMBO = [
    "那笔钱还挂在半空中",
    "钱挂在半空中两周了",
    "问了几次都说钱挂在半空中",
]
LIMBO = "挂在半空中"


RULES_ALONE = without_model(load_rules())  # these tests are about what the rule file itself misses


def correction(cid: str, text: str, predicted: tuple[str, str], corrected: tuple[str, str], **more: Any) -> Correction:
    fields: dict[str, Any] = {
        "complaint_id": cid, "text": text,
        "predicted_category": predicted[0], "predicted_severity": predicted[1],
        "corrected_category": corrected[0], "corrected_severity": corrected[1],
        "actor": "A-7", "at": T0, "reason": "re-triaged by the agent",
    } | more
    return Correction.model_validate(fields)


def limbo_corrections() -> list[Correction]:
    return [
        correction(f"CMP-L{i}", text, (triage_category(text), "P3"), ("after_sales", "P3"))
        for i, text in enumerate(REFUND_LIMBO, start=1)
    ]


def triage_category(text: str) -> str:
    from chalicelib.triage import TriageInput

    return triage(TriageInput(text=text), RULES_ALONE).category


# -- the correction record --------------------------------------------------------------------
def test_a_correction_carries_both_teams_derived_from_the_categories() -> None:
    c = correction("CMP-1", "退款还没到", ("delivery_delay", "P3"), ("after_sales", "P2"))
    assert (c.predicted_team, c.corrected_team) == ("logistics", "service")
    assert (c.category_changed, c.severity_changed, c.team_changed) == (True, True, True)
    dumped = c.model_dump(mode="json")
    assert dumped["predicted_team"] == "logistics" and dumped["corrected_team"] == "service"


def test_a_correction_with_an_unknown_category_is_rejected() -> None:
    with pytest.raises(ValidationError, match="corrected_category"):
        correction("CMP-1", "x", ("delivery_delay", "P3"), ("weather", "P3"))


def test_fold_keeps_what_triage_first_said_and_what_staff_set_last() -> None:
    first = correction("CMP-1", "t", ("delivery_delay", "P3"), ("lost_parcel", "P3"))
    second = correction("CMP-1", "t", ("lost_parcel", "P3"), ("after_sales", "P2"), at=T0 + timedelta(hours=1),
                        actor="S-1")
    [folded] = fold([second, first])
    assert (folded.predicted_category, folded.corrected_category) == ("delivery_delay", "after_sales")
    assert (folded.predicted_severity, folded.corrected_severity, folded.actor) == ("P3", "P2", "S-1")


def test_a_correction_changed_back_is_no_correction() -> None:
    there = correction("CMP-1", "t", ("delivery_delay", "P3"), ("lost_parcel", "P3"))
    back = correction("CMP-1", "t", ("lost_parcel", "P3"), ("delivery_delay", "P3"), at=T0 + timedelta(minutes=5))
    report = triage_report(10, [there, back])
    assert report.corrected == 0
    assert report.accuracy.category == 1.0


def test_a_corrections_export_with_a_bad_line_names_the_line(tmp_path: Path) -> None:
    good = correction("CMP-1", "t", ("delivery_delay", "P3"), ("after_sales", "P3")).model_dump(mode="json")
    path = tmp_path / "corrections.jsonl"
    path.write_text(json.dumps(good) + "\n\n" + json.dumps(good | {"corrected_severity": "P9"}) + "\n")
    with pytest.raises(CorrectionFileError, match=r"corrections.jsonl:3: .*corrected_severity"):
        list(read_jsonl(path))
    path.write_text(json.dumps(good) + "\n{not json\n")
    with pytest.raises(CorrectionFileError, match=r"corrections.jsonl:2: not a valid correction"):
        list(read_jsonl(path))


# -- GET /reports/triage ----------------------------------------------------------------------
def test_the_report_has_the_shape_of_the_api() -> None:
    corrections = [
        *limbo_corrections(),
        correction("CMP-S1", "客服态度不好", ("service_attitude", "P3"), ("service_attitude", "P2")),
        correction("CMP-S2", "物流慢", ("delivery_delay", "P3"), ("delivery_delay", "P2")),
    ]
    body = triage_report(120, corrections).to_json()
    assert set(body) == {"triaged", "corrected", "accuracy", "confusion", "proposals"}
    assert (body["triaged"], body["corrected"]) == (120, 5)
    # other → after_sales stays with the service team
    assert body["accuracy"] == {"category": round(117 / 120, 4), "severity": round(118 / 120, 4), "team": 1.0}
    assert body["confusion"]["severity"] == [{"predicted": "P3", "corrected": "P2", "count": 2}]
    pairs = body["confusion"]["category"]
    assert sum(p["count"] for p in pairs) == 3 and all(p["corrected"] == "after_sales" for p in pairs)
    [proposal] = [p for p in body["proposals"] if p.get("category") == "after_sales"]
    assert set(proposal) == {"category", "rule", "phrases", "support", "complaints", "elsewhere"}
    assert LIMBO in proposal["phrases"]
    assert (proposal["support"], proposal["complaints"]) == (3, ["CMP-L1", "CMP-L2", "CMP-L3"])


def test_confusion_pairs_are_counted_and_ordered_most_frequent_first() -> None:
    corrections = [
        correction("C1", "a", ("delivery_delay", "P3"), ("after_sales", "P3")),
        correction("C2", "b", ("delivery_delay", "P3"), ("after_sales", "P3")),
        correction("C3", "c", ("other", "P3"), ("promotion_rules", "P3")),
    ]
    pairs = triage_report(3, corrections).confusion.category
    assert [(p.predicted, p.corrected, p.count) for p in pairs] == [
        ("delivery_delay", "after_sales", 2), ("other", "promotion_rules", 1)]


def test_a_category_change_within_one_team_keeps_team_accuracy() -> None:
    report = triage_report(4, [correction("C1", "a", ("delivery_delay", "P3"), ("lost_parcel", "P3"))])
    assert (report.accuracy.category, report.accuracy.team, report.accuracy.severity) == (0.75, 1.0, 1.0)


def test_nothing_triaged_gives_no_accuracy_and_inconsistent_counts_are_an_error() -> None:
    empty = triage_report(0, []).to_json()
    assert empty["accuracy"] == {"category": None, "severity": None, "team": None}
    assert (empty["corrected"], empty["proposals"]) == (0, [])
    with pytest.raises(ValueError, match="2 corrected complaints but only 1 triaged"):
        triage_report(1, [correction("C1", "a", ("other", "P3"), ("after_sales", "P3")),
                          correction("C2", "b", ("other", "P3"), ("after_sales", "P3"))])


# -- proposals --------------------------------------------------------------------------------
def test_phrase_candidates_are_han_ngrams_and_english_words_and_pairs() -> None:
    grams = phrase_candidates("退款卡住了. The refund is NOT processed")
    assert {"退款", "卡住了", "退款卡住了"} <= grams
    assert {"refund", "processed", "not processed"} <= grams
    assert not {"the", "the refund", "is", "卡住了."} & grams


def test_a_phrase_common_in_other_categories_is_not_proposed() -> None:
    # "半空中" also appears in two promotion complaints: not rare elsewhere
    others = [correction(f"CMP-P{i}", f"返的积分{i}一直在半空中", ("other", "P3"), ("promotion_rules", "P3"))
              for i in (1, 2)]
    proposals = mine_proposals([*limbo_corrections(), *others])
    after_sales = [phrase for p in proposals if p.category == "after_sales" for phrase in p.phrases]
    assert LIMBO in after_sales
    assert not any(phrase in "半空中" for phrase in after_sales)


def test_a_phrase_needs_the_minimum_support() -> None:
    [one] = limbo_corrections()[:1]
    assert mine_proposals([one]) == []
    assert mine_proposals([one], settings=MinerSettings(min_support=1))


def test_phrases_the_rules_already_get_right_are_not_proposed() -> None:
    # the rules already classify these complaints correctly: nothing to learn from them
    right = [correction(f"C{i}", "退货寄回去一个月了还没退款", ("delivery_delay", "P3"), ("after_sales", "P3"))
             for i in range(3)]
    assert triage_category(right[0].text) == "after_sales"
    assert mine_proposals(right) == []


def test_missed_safety_complaints_propose_p1_phrases_but_not_amount_or_tier_raises() -> None:
    # "变成了蓝精灵": turned blue (a child short of air), in no safety list
    texts = ["孩子玩了一会儿变成了蓝精灵", "戴了半天耳朵变成了蓝精灵", "嘴唇变成了蓝精灵一样"]
    missed = [correction(f"CMP-P1-{i}", t, ("product_quality", "P3"), ("product_quality", "P1"))
              for i, t in enumerate(texts)]
    assert all(triage(c.to_input(), RULES_ALONE).severity != "P1" for c in missed)  # the rule file misses them
    [p1] = [p for p in mine_proposals(missed) if p.severity == "P1"]
    assert (p1.rule, p1.support) == ("severity.safety.always", 3)
    assert "变成了蓝精灵" in p1.phrases
    raised = [c.model_copy(update={"tier": "vip"}) for c in missed]
    assert not [p for p in mine_proposals(raised) if p.severity == "P1"]


def test_the_snippet_is_the_rule_files_syntax_and_teaches_the_rules() -> None:
    corrections = limbo_corrections()
    assert all(triage(c.to_input(), RULES_ALONE).category != "after_sales" for c in corrections)
    snippet = render_snippet(mine_proposals(corrections))
    assert "[categories.after_sales]" in snippet and "CMP-L1" in snippet
    taught = without_model(build_rules(merge(load_rule_data(), tomllib.loads(snippet))))
    assert all(triage(c.to_input(), taught).category == "after_sales" for c in corrections)
    assert render_snippet([]).startswith("# no proposals")


# -- the replay check -------------------------------------------------------------------------
def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


EXAMPLES = [
    {"text": "付款五天了还没发货", "amount": "79.00", "kind": "other", "category": "delivery_delay", "severity": "P3"},
    {"text": "快递一直不到，已经等了十天", "amount": "50.00", "kind": "other", "category": "delivery_delay",
     "severity": "P3"},
]


def test_replay_tells_what_a_rule_fixes_and_what_it_breaks() -> None:
    cases = [LabelledCase.from_correction(c) for c in limbo_corrections()]
    cases += [LabelledCase(id=f"E{i}", source="examples", text=row["text"], category=row["category"],
                           severity=row["severity"]) for i, row in enumerate(EXAMPLES)]
    greedy = build_rules(merge(load_rule_data(), {"categories": {"after_sales": {"strong": ["半空", "一直不到"]}}}))
    result = replay(cases, load_rules(), greedy)
    assert {c.case.id for c in result.fixed} == {"CMP-L1", "CMP-L2", "CMP-L3"}
    assert [c.case.id for c in result.broken] == ["E1"]
    assert result.before["corrections"].category == 0.0 and result.after["corrections"].category == 1.0
    assert result.after["examples"].category == 0.5


def test_triage_check_prints_before_after_and_what_breaks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    examples = write_jsonl(tmp_path / "examples.jsonl", EXAMPLES)
    corrections = write_jsonl(tmp_path / "corrections.jsonl",
                              [c.model_dump(mode="json") for c in limbo_corrections()])
    proposal = tmp_path / "proposal.toml"
    proposal.write_text('[categories.after_sales]\nstrong = ["半空", "一直不到"]\n', encoding="utf-8")
    args = ["--examples", str(examples), "--corrections", str(corrections), "--proposal", str(proposal)]
    assert triage_check.main(args) == 0
    out = capsys.readouterr().out
    assert "corrections" in out and "examples.jsonl" in out
    assert "would fix (3)" in out and "would BREAK (1)" in out and "已经等了十天" in out
    assert triage_check.main([*args, "--strict"]) == 1


def test_triage_check_mines_and_replays_when_no_proposal_is_given(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    examples = write_jsonl(tmp_path / "examples.jsonl", EXAMPLES)
    mined = tmp_path / "mined.toml"
    code = triage_check.main(["--examples", str(examples), "--write-proposal", str(mined)],
                             corrections=limbo_corrections())
    assert code == 0
    assert LIMBO in mined.read_text(encoding="utf-8")
    assert "would fix (3)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("proposal", "message"),
    [
        ('[categories.after_sales]\nstrng = ["x"]\n', "categories.after_sales.strng: Extra inputs are not permitted"),
        ('[categories.aftersales]\nstrong = ["x"]\n', "exactly the categories"),
        ("[categories.after_sales\n", "not valid TOML"),
    ],
)
def test_triage_check_rejects_a_bad_proposal_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], proposal: str, message: str
) -> None:
    path = tmp_path / "proposal.toml"
    path.write_text(proposal, encoding="utf-8")
    examples = write_jsonl(tmp_path / "examples.jsonl", EXAMPLES)
    assert triage_check.main(["--examples", str(examples), "--proposal", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_triage_check_names_a_missing_file_and_a_bad_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert triage_check.main(["--corrections", str(tmp_path / "nope.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = write_jsonl(tmp_path / "bad.jsonl", [EXAMPLES[0] | {"category": "weather"}])
    assert triage_check.main(["--examples", str(bad)]) == 2
    assert "bad.jsonl:1: category" in capsys.readouterr().err


def test_example_files_read_with_ids_and_sources(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "ex.jsonl", EXAMPLES)
    cases = read_examples(path)
    assert [(c.id, c.source, c.category) for c in cases] == [
        ("ex.jsonl:1", "ex.jsonl", "delivery_delay"), ("ex.jsonl:2", "ex.jsonl", "delivery_delay")]


def test_common_english_words_are_not_proposed_but_rare_ones_are() -> None:
    texts = ["every night the thingamajig wobbles", "every night my thingamajig squeals", "every night the thingamajig hums"]
    corrections = [correction(f"CMP-E{i}", t, ("other", "P3"), ("product_quality", "P3")) for i, t in enumerate(texts)]
    phrases = {p for proposal in mine_proposals(corrections) for p in proposal.phrases}
    assert "thingamajig" in phrases
    assert not {"every", "night", "every night"} & phrases
