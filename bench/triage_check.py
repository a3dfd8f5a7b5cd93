"""``make triage-check``: what would a proposed rule change? (issue 15, item 3)

    python -m bench.triage_check [--corrections export.jsonl ...] [--proposal snippet.toml]
                                 [--examples labelled.jsonl ...] [--rules rules.toml]
                                 [--write-proposal mined.toml] [--show 20] [--strict]

Runs the labelled examples (by default every data set of ``bench.triage_accuracy`` that
exists) plus every recorded correction (a JSON-lines export of
``chalicelib.triage.corrections.Correction``; what staff set is the label) through the current
rules and through the rules with the proposal merged in, and prints accuracy before → after
per source, then every complaint the proposal would fix and every one it would break.

The proposal is a TOML snippet in the rule file's own syntax: its phrase lists are added to
the rule file's (``chalicelib.triage.rules.merge``), e.g.

    [categories.after_sales]
    strong = ["迟迟不到账"]

Without ``--proposal`` the rules are mined from the corrections (``mine_proposals``), printed
in that syntax (and written to ``--write-proposal``), and replayed. ``--strict`` exits 1 when
the proposal breaks a complaint that was right. Exit code 2: a file is missing or invalid.
The local system calls :func:`main` with its stored corrections (``corrections=``).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from bench.triage_accuracy import DATASETS
from chalicelib.triage import RuleFileError, build_rules, load_rule_data, merge
from chalicelib.triage.corrections import Correction, CorrectionFileError, fold, read_jsonl
from chalicelib.triage.proposals import mine_proposals, render_snippet
from chalicelib.triage.replay import Change, ExampleFileError, LabelledCase, Replay, read_examples, replay, wrong
from chalicelib.triage.rules import RULES_PATH, read_toml

COLUMNS = (("category", "category"), ("team", "team"), ("severity", "severity"), ("p1_recall", "P1 recall"))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.triage_check",
        description="Replay labelled complaints and staff corrections through the triage rules, "
        "before and after a proposed rule.",
    )
    parser.add_argument("--corrections", type=Path, action="append", default=[], metavar="JSONL",
                        help="corrections export, one Correction per line (repeatable)")
    parser.add_argument("--proposal", type=Path, metavar="TOML",
                        help="rule snippet to check (default: the rules mined from the corrections)")
    parser.add_argument("--examples", type=Path, action="append", metavar="JSONL",
                        help="labelled examples (repeatable; default: the accuracy bench's data sets)")
    parser.add_argument("--rules", type=Path, default=RULES_PATH, metavar="TOML",
                        help="the rule file to start from (default: the deployed one)")
    parser.add_argument("--write-proposal", type=Path, metavar="TOML", help="write the mined proposal here")
    parser.add_argument("--show", type=int, default=20, metavar="N", help="complaints listed per section (default 20)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the proposal breaks a complaint")
    return parser


def _table(result: Replay) -> str:
    head = f"{'source':<30} {'n':>5}  " + "  ".join(f"{label:>17}" for _, label in COLUMNS)
    lines = [head, "-" * len(head)]
    for source, before in result.before.items():
        after = result.after[source]
        cells = []
        for key, _ in COLUMNS:
            b, a = getattr(before, key), getattr(after, key)
            cells.append(f"{b:6.1%} → {a:6.1%}{'*' if round(a - b, 6) else ' '}")
        lines.append(f"{source:<30} {before.total:>5}  " + "  ".join(cells))
    return "\n".join(lines)


def _describe(change: Change) -> str:
    case = change.case
    was = ", ".join(wrong(case, change.before)) or "right"
    now = ", ".join(wrong(case, change.after)) or "right"
    text = case.text if len(case.text) <= 90 else case.text[:89] + "…"
    return f"{case.id} [{case.source}] before: {was}; after: {now} | {text}"


def _section(title: str, changes: Sequence[Change], show: int) -> list[str]:
    lines = [f"\n{title} ({len(changes)}):"]
    lines += [f"  {_describe(change)}" for change in changes[:show]]
    if len(changes) > show:
        lines.append(f"  … and {len(changes) - show} more (--show)")
    return lines


def _load_cases(examples: Sequence[Path], corrections: Sequence[Correction]) -> list[LabelledCase]:
    cases = [case for path in examples for case in read_examples(path)]
    return cases + [LabelledCase.from_correction(c) for c in fold(corrections)]


def main(argv: Sequence[str], corrections: Sequence[Correction] = ()) -> int:
    args = _parser().parse_args(argv)
    examples = args.examples if args.examples is not None else [p for p in DATASETS if p.exists()]
    paths = [*examples, *args.corrections, args.rules, *([args.proposal] if args.proposal else [])]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"triage-check: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        recorded = [*corrections, *(c for path in args.corrections for c in read_jsonl(path))]
        cases = _load_cases(examples, recorded)
        base = load_rule_data(args.rules)
        before = build_rules(base)
        if args.proposal:
            snippet_text = args.proposal.read_text(encoding="utf-8")
            snippet = read_toml(args.proposal)
            label = str(args.proposal)
        else:
            background = [(case.text, case.category) for case in cases if case.source != "corrections"]
            snippet_text = render_snippet(mine_proposals(recorded, background=background, rules=before))
            snippet = tomllib.loads(snippet_text)
            label = f"mined from {len(fold(recorded))} corrected complaints"
            if args.write_proposal:
                args.write_proposal.write_text(snippet_text, encoding="utf-8")
        after = build_rules(merge(base, snippet))
    except (RuleFileError, CorrectionFileError, ExampleFileError) as error:
        print(f"triage-check: {error}", file=sys.stderr)
        return 2
    result = replay(cases, before, after)
    print(f"triage-check: {args.rules.name} before → with the proposal ({label})\n")
    print("proposal:\n" + "\n".join(f"  {line}" for line in snippet_text.rstrip().splitlines()) + "\n")
    print(_table(result))
    print("(* = changed)")
    lines = _section("would fix", result.fixed, args.show) + _section("would BREAK", result.broken, args.show)
    print("\n".join(lines))
    return 1 if args.strict and result.broken else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
