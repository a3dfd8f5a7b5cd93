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
