"""The figures of ``GET /reports/summary`` and ``GET /reports/hotspots``, computed from the
aggregates (:mod:`chalicelib.reports.aggregates`) through an ``AggregateSource`` — never from
the tickets. Pure: the source is DynamoDB (:mod:`chalicelib.reports.dynamodb`) or memory.

What a report reads, for a window of D days in M calendar months (cost independent of how
many complaints exist in total, and of the window's volume except for the SKU/order lists):

- the D day items: one Query per month (``AGG#<m>``, sk between the first and last day);
- an exact median and p90 per clock: one or two Queries per month for the histogram bucket
  holding each of them (``AGGH#...``), at most 4 + 4 Queries per month;
- the SKU and order counters of the window (one Query per month each): these grow with the
  number of *distinct* SKUs / orders complained about in the window, the price of exact top
  lists and hotspots.

Windows are whole UTC days: ``from`` is floored and ``to`` ceiled to midnight, and the response
says which window it covers. Percentiles are nearest-rank (the smallest measured duration
with at least that share of the measurements at or below it), so they are always a duration
that really occurred.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, Protocol

from pydantic import Field

from chalicelib.clock import iso
from chalicelib.models import Query
from chalicelib.reports.aggregates import CLOCKS, DISPLAY_BINS, L1_WIDTH, L2_WIDTH

MAX_WINDOW_DAYS = 400
# Report dates are limited to a horizon the calendar arithmetic (a window and the previous one
# of equal length) can never leave: nothing older than the service, nothing a century ahead.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
DEFAULT_TOP = 10
DEFAULT_HOTSPOTS = 20
DEFAULT_MIN_COMPLAINTS = 3
TOP_MAX, HOTSPOTS_MAX, MIN_COMPLAINTS_MAX = 100, 200, 1_000_000
QUANTILES = {"median": (1, 2), "p90": (9, 10)}
SLA_OUTCOMES = ("met", "breached", "open")


class ReportParamError(ValueError):
    """A query parameter the report cannot use (HTTP 400 validation_error)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


# -- the window -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    start: date  # first day, inclusive
    end: date  # day after the last one (exclusive)

    @property
    def days(self) -> list[str]:
        return [(self.start + timedelta(days=i)).isoformat() for i in range((self.end - self.start).days)]

    @property
    def length(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> Window:
        return Window(self.start - timedelta(days=self.length), self.start)

    def bounds(self) -> dict[str, str]:
        return {"from": _midnight(self.start), "to": _midnight(self.end)}


def _midnight(day: date) -> str:
    return iso(datetime(day.year, day.month, day.day, tzinfo=UTC))


def parse_time(name: str, raw: str | None) -> datetime:
    if raw is None or not raw.strip():
        raise ReportParamError(name, f"{name} is required (ISO 8601 date or time, e.g. 2026-11-01)")
    text = raw.strip()
    try:
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ReportParamError(name, f"{name} is not an ISO 8601 date or time: {raw!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:  # an offset that moves the year past 1 or 9999
        parsed = EARLIEST - timedelta(days=1)
    if not EARLIEST <= parsed <= LATEST:
        raise ReportParamError(name, f"{name} must be between {EARLIEST.date()} and {LATEST.date()}")
    return parsed


def window_of(params: Mapping[str, str] | None) -> Window:
    """``from``/``to`` -> the whole UTC days that cover them (400s on anything else)."""
    params = params or {}
    start, end = parse_time("from", params.get("from")), parse_time("to", params.get("to"))
    if end <= start:
        raise ReportParamError("to", "to must be after from")
    first = start.date()
    last = end.date() if end.time() == datetime.min.time() else end.date() + timedelta(days=1)
    window = Window(first, last)
    if window.length > MAX_WINDOW_DAYS:
        raise ReportParamError("to", f"a report covers at most {MAX_WINDOW_DAYS} days")
    return window


def int_param(params: Mapping[str, str] | None, name: str, default: int, low: int, high: int) -> int:
    raw = (params or {}).get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:  # not "²"
        raise ReportParamError(name, f"an integer from {low} to {high}")
    return int(raw)



class AggregateSource(Protocol):
    """The aggregate items a report reads, summed where it says so."""

    def day_items(self, window: Window) -> dict[str, dict[str, Any]]:
        """The day items of the window's days that exist, by day (``yyyy-mm-dd``)."""

    def histogram(self, window: Window, ident: str) -> dict[int, int]:
        """One histogram bucket's sub-buckets (``<clock>#<b1>`` or ``<clock>#<b1>#<b2>``),
        summed over the window's days."""

    def counters(self, window: Window, kind: str) -> dict[str, int]:
        """Complaints per SKU (``kind`` sku) or order (``order``) created in the window."""

    def in_parallel(self, calls: list[Callable[[], Any]]) -> list[Any]:
        """The calls' results, in order (the source may run them concurrently)."""

# -- the summary ---------------------------------------------------------------------------------------------
def _sum_days(days: Mapping[str, Mapping[str, Any]]) -> dict[str, Decimal]:
    total: dict[str, Decimal] = defaultdict(Decimal)
    for item in days.values():
        for attr, value in item.items():
            if attr not in ("pk", "sk") and isinstance(value, int | Decimal):
                total[attr] += Decimal(value)
    return total


def _group(total: Mapping[str, Decimal], prefix: str) -> dict[str, int]:
    found = {attr[len(prefix):]: int(v) for attr, v in total.items() if attr.startswith(prefix) and v}
    return dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _sla(total: Mapping[str, Decimal], prefix: str) -> dict[str, Any]:
    met, breached, open_ = (int(total.get(f"{prefix}#{o}", 0)) for o in SLA_OUTCOMES)
    return {"met": met, "breached": breached, "open": open_, "compliance": _ratio(met, met + breached)}


def nearest_rank(n: int, quantile: tuple[int, int]) -> int:
    num, den = quantile
    return max(1, -(-n * num // den))


def _locate(counts: Mapping[int, int], rank: int) -> tuple[int, int]:
    """The bucket holding the rank-th smallest value, and the rank within that bucket."""
    seen = 0
    for bucket in sorted(counts):
        if seen + counts[bucket] >= rank:
            return bucket, rank - seen
        seen += counts[bucket]
    raise ValueError("rank beyond the histogram")  # the aggregates disagree with each other


def percentiles(reader: AggregateSource, window: Window, total: Mapping[str, Decimal]) -> dict[str, dict[str, Any]]:
    """Exact nearest-rank median and p90 of both clocks' durations, reading the histogram's
    lower levels only for the buckets that hold them."""
    targets: dict[tuple[str, str], tuple[int, int, int]] = {}  # (clock, quantile) -> (b1, rank in b1, n)
    out: dict[str, dict[str, Any]] = {}
    for name, short in CLOCKS.items():
        level1 = {int(a.rsplit("#", 1)[1]): int(v) for a, v in total.items() if a.startswith(f"l1#{short}#") and v}
        n = sum(level1.values())
        out[name] = {"median": None, "p90": None, "count": n}
        for q, fraction in QUANTILES.items():
            if n:
                b1, rank = _locate(level1, nearest_rank(n, fraction))
                targets[(name, q)] = (b1, rank, n)
    level2_keys = sorted({(CLOCKS[name], b1) for (name, _), (b1, _, _) in targets.items()})
    level2 = dict(zip(level2_keys, reader.in_parallel(
        [partial(reader.histogram, window, f"{k[0]}#{k[1]}") for k in level2_keys]), strict=True))
    second: dict[tuple[str, str], tuple[int, int, int]] = {}
    for (name, q), (b1, rank, _) in targets.items():
        b2, rank2 = _locate(level2[(CLOCKS[name], b1)], rank)
        second[(name, q)] = (b1, b2, rank2)
    level3_keys = sorted({(CLOCKS[name], b1, b2) for (name, _), (b1, b2, _) in second.items()})
    level3 = dict(zip(level3_keys, reader.in_parallel(
        [partial(reader.histogram, window, f"{k[0]}#{k[1]}#{k[2]}") for k in level3_keys]), strict=True))
    for (name, q), (b1, b2, rank2) in second.items():
        b3, _ = _locate(level3[(CLOCKS[name], b1, b2)], rank2)
        out[name][q] = b1 * L1_WIDTH + b2 * L2_WIDTH + b3
    return out


def _bins(total: Mapping[str, Decimal], short: str) -> list[dict[str, Any]]:
    bounds = [0, *DISPLAY_BINS, None]
    return [{"from_s": bounds[i], "to_s": bounds[i + 1], "count": int(total.get(f"bin#{short}#{i}", 0))}
            for i in range(len(DISPLAY_BINS) + 1)]


def _top(counts: Mapping[str, int], key: str, limit: int) -> list[dict[str, Any]]:
    ranked = sorted(((k, v) for k, v in counts.items() if v > 0), key=lambda kv: (-kv[1], kv[0]))
    return [{key: k, "complaints": v} for k, v in ranked[:limit]]


def summary(reader: AggregateSource, window: Window, top: int = DEFAULT_TOP) -> dict[str, Any]:
    days = reader.day_items(window)
    total = _sum_days(days)
    n = int(total.get("n", 0))
    fetched = reader.in_parallel([
        lambda: percentiles(reader, window, total),
        lambda: reader.counters(window, "sku"),
        lambda: reader.counters(window, "order"),
    ])
    quantiles, skus, orders = fetched
    durations: dict[str, Any] = {}
    for name, short in CLOCKS.items():
        measured = int(total.get(f"dur#{short}#n", 0))
        durations[name] = {
            "median": quantiles[name]["median"], "p90": quantiles[name]["p90"], "count": measured,
            "mean": round(float(total.get(f"dur#{short}#sum", 0)) / measured, 1) if measured else None,
            "histogram": _bins(total, short),
        }
    sla: dict[str, Any] = {}
    for name, short in CLOCKS.items():
        sla[name] = _sla(total, f"sla#{short}")
        teams = sorted({a.split("#")[2] for a in total if a.startswith(f"slat#{short}#")})
        sla[name]["by_team"] = {t: _sla(total, f"slat#{short}#{t}") for t in teams}
    sent, responses = int(total.get("csat#sent", 0)), int(total.get("csat#resp", 0))
    return {
        **window.bounds(),
        "days": window.length,
        "counts": {
            "total": n,
            "by_category": _group(total, "cat#"),
            "by_severity": _group(total, "sev#"),
            "by_channel": _group(total, "ch#"),
            "by_team": _group(total, "team#"),
            "by_status": _group(total, "st#"),
            "by_source": _group(total, "src#"),
        },
        "sla": sla,
        "durations_s": durations,
        "escalations": {str(level): int(total.get(f"esc#{level}", 0)) for level in (1, 2, 3)},
        "vouchers": {
            "count": int(total.get("vch#n", 0)),
            "total": {"amount": f"{total.get('vch#amt', Decimal(0)):.2f}", "currency": "CNY"},
            "by_reason": _group(total, "vch#r#"),
        },
        "csat": {
            "surveys_sent": sent,
            "responses": responses,
            "response_rate": _ratio(responses, sent),
            "mean": float(total.get("csat#sum", Decimal(0)) / responses) if responses else None,
            "distribution": {str(s): int(total.get(f"csat#s#{s}", 0)) for s in range(1, 6)},
        },
        "top_products": _top(skus, "sku", top),
        "top_orders": _top(orders, "order_id", top),
        "daily": [
            {"date": day, "total": int(days.get(day, {}).get("n", 0)),
             "by_category": _group(_sum_days({day: days[day]}) if day in days else {}, "cat#")}
            for day in window.days
        ],
    }


# -- hotspots ----------------------------------------------------------------------------------------------
def hotspot_score(current: int, previous: int) -> float:
    """How unusual the jump is: the increase in units of the previous count's Poisson noise."""
    return (current - previous) / math.sqrt(max(previous, 1))


def hotspots(reader: AggregateSource, window: Window, *, limit: int = DEFAULT_HOTSPOTS,
             min_complaints: int = DEFAULT_MIN_COMPLAINTS) -> dict[str, Any]:
    """SKUs and categories whose complaints rose against the previous window of equal length,
    biggest jumps first (``score``), only those with at least ``min_complaints`` now."""
    previous = window.previous()
    now_days, before_days, now_skus, before_skus = reader.in_parallel([
        lambda: reader.day_items(window), lambda: reader.day_items(previous),
        lambda: reader.counters(window, "sku"), lambda: reader.counters(previous, "sku"),
    ])
    now_cat, before_cat = _group(_sum_days(now_days), "cat#"), _group(_sum_days(before_days), "cat#")
    candidates = [("sku", k, v, before_skus.get(k, 0)) for k, v in now_skus.items()]
    candidates += [("category", k, v, before_cat.get(k, 0)) for k, v in now_cat.items()]
    items: list[dict[str, Any]] = []
    for kind, key, current, before in candidates:
        if current >= min_complaints and current > before:
            items.append({
                kind: key,
                "complaints": current,
                "previous": before,
                "change": round((current - before) / before, 4) if before else None,
                "delta": current - before,
                "score": round(hotspot_score(current, before), 4),
            })
    items.sort(key=lambda i: (-i["score"], -i["delta"], "sku" not in i, i.get("sku") or i.get("category")))
    return {
        **window.bounds(),
        "previous": previous.bounds(),
        "min_complaints": min_complaints,
        "items": items[:limit],
    }


# -- the query parameters, as the HTTP API declares and validates them (chalicelib/operations.py) --
class ReportWindow(Query):
    from_: str = Field(alias="from", min_length=1, description=(
        f"ISO 8601 date or time (UTC unless it has an offset), floored to its day; from {EARLIEST.date()}"))
    to: str = Field(min_length=1, description=(
        f"ISO 8601 date or time, ceiled to midnight; after `from`, at most {MAX_WINDOW_DAYS} days later, "
        f"until {LATEST.date()}"))


class SummaryQuery(ReportWindow):
    top: int = Field(DEFAULT_TOP, ge=1, le=TOP_MAX, description="how many products and orders to list")


class TriageQuery(ReportWindow):
    """``GET /reports/triage``: the window only."""


class HotspotsQuery(ReportWindow):
    limit: int = Field(DEFAULT_HOTSPOTS, ge=1, le=HOTSPOTS_MAX)
    min_complaints: int = Field(DEFAULT_MIN_COMPLAINTS, ge=1, le=MIN_COMPLAINTS_MAX)


# -- one report -------------------------------------------------------------------------------------------
def report(kind: str, params: Mapping[str, str], source: AggregateSource) -> dict[str, Any]:
    """The report ``kind`` (summary, hotspots) for the query parameters (``ReportParamError``
    for a bad one)."""
    window = window_of(params)
    if kind == "summary":
        return summary(source, window, top=int_param(params, "top", DEFAULT_TOP, 1, TOP_MAX))
    if kind == "hotspots":
        return hotspots(source, window, limit=int_param(params, "limit", DEFAULT_HOTSPOTS, 1, HOTSPOTS_MAX),
                        min_complaints=int_param(params, "min_complaints", DEFAULT_MIN_COMPLAINTS, 1,
                                                 MIN_COMPLAINTS_MAX))
    raise ValueError(f"no report {kind!r}")
