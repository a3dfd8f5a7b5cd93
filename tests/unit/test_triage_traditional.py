"""Complaints in traditional characters are triaged like the same complaint in simplified ones
(chalicelib/triage/traditional.json, built from zhconv by ``python -m local.triage_tables``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.triage import RULES_PATH, TriageInput, normalize, triage
from chalicelib.triage.text import TRADITIONAL_TABLE_PATH
from local import triage_tables


def test_the_shipped_table_is_what_the_build_produces(capsys: pytest.CaptureFixture[str]) -> None:
    assert triage_tables.main(["--check"]) == 0, capsys.readouterr().err


def test_a_stale_table_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "traditional.json"
    stale.write_text('{"門":"门"}\n', encoding="utf-8")
    assert triage_tables.main(["--check", "--out", str(stale)]) == 1
    assert "run make triage-train" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("traditional", "simplified", "kind"),
    [
        ("門衛說沒看到快遞員來過，系統卻顯示已放門衛室", "门卫说没看到快递员来过，系统却显示已放门卫室", None),
        ("這是假貨，專櫃說不是正品", "这是假货，专柜说不是正品", "cosmetics"),
        ("孩子吃了以後過敏了，臉上起了紅疹", "孩子吃了以后过敏了，脸上起了红疹", "food"),
        ("退貨寄回去一個月了還沒退款", "退货寄回去一个月了还没退款", None),
        ("杯子沒有碎，但是快遞晚了三天", "杯子没有碎，但是快递晚了三天", "home"),
    ],
)
def test_a_traditional_complaint_is_triaged_like_its_simplified_form(traditional: str, simplified: str, kind: str | None) -> None:
    assert normalize(traditional) == normalize(simplified)
    a = triage(TriageInput(text=traditional, product_kind=kind))
    b = triage(TriageInput(text=simplified, product_kind=kind))
    assert (a.category, a.team, a.severity, a.reasons) == (b.category, b.team, b.severity, b.reasons)
    assert a.category != "other"


def test_simplified_chinese_and_english_pass_unchanged() -> None:
    text = "收到的杯子碎了 the parcel arrived damaged, 客服不回消息"
    assert normalize(text) == text


def test_no_rule_phrase_holds_a_traditional_character() -> None:
    # texts are simplified before matching: a phrase in traditional characters could never match
    table = json.loads(TRADITIONAL_TABLE_PATH.read_text(encoding="utf-8"))
    assert {char for char in RULES_PATH.read_text(encoding="utf-8") if char in table} == set()
