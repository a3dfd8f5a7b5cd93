"""The command lines a developer types: a mistake is a one-line error with exit 2, never a
traceback, a silently odd run or a help that lies about a default."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

import bench.__main__ as bench_main
from local import cli


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_bench_help_explains_and_runs_nothing(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_run(name: str) -> None:
        raise AssertionError(f"--help ran {name}")

    monkeypatch.setattr(bench_main, "run_benchmark", must_not_run)
    monkeypatch.setattr(bench_main, "triage_figures", must_not_run)
    with pytest.raises(SystemExit) as exited:
        bench_main.main(["--help"])
    assert exited.value.code == 0
    assert "usage: python -m bench" in capsys.readouterr().out


def test_bench_refuses_an_unknown_benchmark(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_main, "run_benchmark", lambda name: pytest.fail("ran"))
    with pytest.raises(SystemExit) as exited:
        bench_main.main(["intake", "nope"])
    assert exited.value.code == 2 and "unknown benchmark(s) nope" in capsys.readouterr().err


@pytest.mark.parametrize(("content", "reason"), [
    (None, "no such file"),
    ("{not json", "not JSON"),
    ('{"records": "no list"}', "expected a batch envelope"),
])
def test_import_of_a_bad_file_is_one_line_and_exit_2(content: str | None, reason: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "export.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, out, err = run_cli(["import", str(path), "--endpoint", "http://127.0.0.1:9"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and reason in err and "Traceback" not in err


def test_a_bad_jsonl_line_names_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text('{"source": "tmall", "record": {}}\n{oops\n', encoding="utf-8")
    code, _, err = run_cli(["import", str(path)], capsys)
    assert code == 2 and f"{path}:2: not JSON" in err


@pytest.mark.parametrize("argv", [
    ["serve", "--time-scale", "0"], ["serve", "--time-scale", "-60"], ["serve", "--time-scale", "fast"],
    ["serve", "--port", "70000"], ["token", "--user", "A-7", "--group", "agents", "--ttl", "-5"],
    ["token", "--user", "A-7", "--group", "agents", "--ttl", "0"], ["demo", "--time-scale", "0"],
    ["import", "x.json", "--batch-size", "501"],
])
def test_values_that_make_no_sense_are_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(argv, capsys)
    assert code == 2 and "error: argument" in err and "Traceback" not in err


def test_every_default_the_help_states_is_the_real_one() -> None:
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    checked = 0
    for name, sub in commands.choices.items():
        for action in sub._actions:
            stated = re.search(r"\(default ([^;)]+)", action.help or "")
            if stated and action.default is not None:
                real = f"{action.default:g}" if isinstance(action.default, float) else str(action.default)
                assert stated.group(1) == real, f"{name} {action.option_strings}"
                checked += 1
    assert checked >= 10
