"""bench.triage_speed --baseline-rules: a rule edit's cost against another rule file, in one run."""

from __future__ import annotations

from pathlib import Path

from bench.triage_speed import compare_rules
from chalicelib.triage import RULES_PATH
from chalicelib.triage.replay import LabelledCase

CASES = [
    LabelledCase(id="1", source="t", text="收到的杯子碎了", category="damaged_in_transit", severity="P3"),
    LabelledCase(id="2", source="t", text="The refund has not arrived", category="after_sales", severity="P3"),
]


def test_the_deployed_rules_are_compared_with_another_rule_file(tmp_path: Path) -> None:
    text = RULES_PATH.read_text(encoding="utf-8")
    baseline = tmp_path / "other.toml"  # the deployed file plus two phrases
    baseline.write_text(text.replace("strong = [", 'strong = [\n    "zzq一", "zzq二",', 1), encoding="utf-8")
    result = compare_rules(baseline, CASES, rounds=1, builds=1)
    assert result["baseline"]["phrases"] == result["current"]["phrases"] + 2
    assert result["build_ratio"] > 0 and result["triage_ratio"] > 0
