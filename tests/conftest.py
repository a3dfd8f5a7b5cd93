"""Hooks for the whole suite (loaded by the xdist controller too, unlike the directories' own)."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Figures tests measured (``record_property("measured: <what>", value)``), after the run:
    performance is reported, never asserted."""
    lines = [f"{name.removeprefix('measured: ')}: {value}"
             for reports in terminalreporter.stats.values() for report in reports
             if getattr(report, "when", None) == "call"
             for name, value in getattr(report, "user_properties", []) if str(name).startswith("measured: ")]
    if lines:
        terminalreporter.section("measured")
        for line in lines:
            terminalreporter.write_line(line)
    reruns = terminalreporter.stats.get("rerun", [])
    if reruns:  # why each e2e rerun failed the first time: the flake to fix, not to hide
        terminalreporter.section("reruns: the first attempt's failure")
        for report in reruns:
            text = getattr(report, "longreprtext", "") or ""
            errors = [line for line in text.splitlines() if line.startswith("E ")][:6]
            terminalreporter.write_line(f"{report.nodeid} ({report.when})")
            for line in errors or text.splitlines()[-3:]:
                terminalreporter.write_line(f"    {line[:400]}")
