"""The entry points of the reports feature, on the injected ``Services``: the ``analytics``
function (the tickets table's stream -> aggregates) and ``GET /reports/<kind>``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any

from chalicelib.observability import count, logger
from chalicelib.reports.aggregates import ApplyStats
from chalicelib.reports.dynamodb import changes_of
from chalicelib.reports.figures import _sum_days as sum_days
from chalicelib.reports.figures import report, window_of

if TYPE_CHECKING:
    from chalicelib.services import Services


def handle_stream(services: Services, event: dict[str, Any]) -> dict[str, Any]:
    """A batch of stream records -> aggregates. Answers with the records to retry
    (``ReportBatchItemFailures``): Lambda redelivers from the lowest one, and redelivery is
    harmless."""
    changes, poison = changes_of(event.get("Records") or [])
    stats = services.aggregator.apply(changes) if changes else ApplyStats()
    if poison:
        count("AnalyticsRecordsSkipped", value=len(poison))
    if stats.failed:
        logger.warning("aggregates not applied; the stream redelivers", failed=len(stats.failed))
    return {"batchItemFailures": [{"itemIdentifier": s} for s in sorted(stats.failed, key=_sequence_order)]}


def _sequence_order(sequence: str) -> tuple[int, str]:
    return (int(sequence), sequence) if sequence.isdigit() else (0, sequence)


def serve(services: Services, kind: str, params: Mapping[str, str]) -> dict[str, Any]:
    """``GET /reports/<kind>`` with its query parameters (``ReportParamError`` -> 400)."""
    if kind == "triage":
        return triage(services, params)
    return report(kind, params, services.aggregates)


def triage(services: Services, params: Mapping[str, str]) -> dict[str, Any]:
    """``GET /reports/triage``: the complaints created in the window (the aggregates' count)
    judged by the corrections staff made in it (one key query per month of corrections, no
    Scan). A complaint created before the window but corrected in it counts as triaged too,
    so ``triaged`` is never below ``corrected``."""
    from chalicelib.triage.corrections import fold
    from chalicelib.triage.report import triage_report

    window = window_of(params)
    start = datetime.combine(window.start, time.min, UTC)
    end = datetime.combine(window.end, time.min, UTC)
    created = int(sum_days(services.aggregates.day_items(window)).get("n", 0))
    corrections = services.store.corrections_between(start, end)
    corrected = sum(1 for c in fold(corrections) if c.changed)
    body = triage_report(max(created, corrected), corrections).to_json()
    return {**window.bounds(), **body}
