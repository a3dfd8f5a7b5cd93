"""``python -m local report``: the complaint report as one self-contained HTML page.

    python -m local report --from 2026-11-01 --to 2026-11-30 --out report.html

Where the numbers come from (``docs/local.md``):

- default: the running local system's API (``http://127.0.0.1:8000``) with a dev token of
  group ``ops`` minted for this checkout;
- ``--endpoint URL``: any deployment's API, e.g. the stack's ``EndpointURL`` output; the bearer
  token is ``--token`` or ``$COMPLAINTS_ID_TOKEN`` - a Cognito ID token of a user in group
  ``ops`` or ``supervisors`` (the token the agent console signs in with);
- ``--table NAME``: straight from the aggregates in DynamoDB with your AWS credentials
  (``AWS_PROFILE`` / ``AWS_REGION`` ...), e.g. ``--table complaints-prod-tickets`` - the same
  code the API runs, so the same numbers, no user-pool token needed.

The page: key figures, complaints per day by category, SLA compliance per team, the
time-to-first-contact and CSAT distributions, top products and orders, and the hotspot table
(``--hotspots-from/--hotspots-to`` compare another window than the report's). Charts are
plotly's, with plotly.js inlined: the file opens anywhere, offline.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOCAL_ENDPOINT = "http://127.0.0.1:8000"
TOKEN_VARIABLE = "COMPLAINTS_ID_TOKEN"
CATEGORY_ORDER = ("product_quality", "not_as_described", "counterfeit", "delivery_delay", "damaged_in_transit",
                  "lost_parcel", "service_attitude", "after_sales", "promotion_rules", "other")
PALETTE = ("#4C78A8", "#F58518", "#E45756", "#72B7B2", "#54A24B", "#EECA3B", "#B279A2", "#FF9DA6", "#9D755D", "#BAB0AC")
CSAT_COLOURS = ("#d62728", "#ff7f0e", "#bcbd22", "#98df8a", "#2ca02c")
CLOCK_LABEL = {"first_contact": "first contact", "resolution": "resolution"}

Fetch = Callable[[str, dict[str, str]], dict[str, Any]]


class ReportError(Exception):
    """Why no report could be made (printed, exit status 1)."""


# -- where the numbers come from --------------------------------------------------------------------
def http_source(endpoint: str, token: str, timeout: float = 30.0) -> Fetch:
    def fetch(kind: str, params: dict[str, str]) -> dict[str, Any]:
        url = f"{endpoint.rstrip('/')}/reports/{kind}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:500]
            raise ReportError(f"GET {url} -> {exc.code}: {detail}") from exc
        except urllib.error.URLError as exc:
            raise ReportError(f"GET {url}: {exc.reason} (is the system running? `python -m local serve`)") from exc

    return fetch


def dynamodb_source(table: str, region: str | None = None) -> Fetch:
    import boto3

    from chalicelib.reports.dynamodb import AggregateReader
    from chalicelib.reports.figures import ReportParamError, report

    client = boto3.client("dynamodb", region_name=region) if region else boto3.client("dynamodb")

    def fetch(kind: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            return report(kind, params, AggregateReader(client, table))
        except ReportParamError as exc:
            raise ReportError(f"{exc.field}: {exc.message}") from exc

    return fetch


def local_token() -> str:
    from local.tokens import TokenIssuer

    return TokenIssuer.for_checkout().mint("report", "ops", ttl_seconds=600)


# -- the page ------------------------------------------------------------------------------------------
def human(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f}".removesuffix(".0") + " h"
    return f"{seconds / 86400:.1f}".removesuffix(".0") + " d"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _bin_label(low: int, high: int | None) -> str:
    return f"≥ {human(low)}" if high is None else f"{human(low)}–{human(high)}" if low else f"< {human(high)}"


def figures(summary: dict[str, Any], hotspots: dict[str, Any]) -> list[tuple[str, Any]]:
    """(section title, plotly figure) for every chart of the page."""
    import plotly.graph_objects as go

    layout = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 60}, "height": 380,
              "font": {"family": "Segoe UI, Helvetica, Arial, 'Noto Sans CJK SC', sans-serif", "size": 13}}
    out: list[tuple[str, Any]] = []

    # complaints per day by category
    days = [d["date"] for d in summary["daily"]]
    seen = {c for d in summary["daily"] for c in d["by_category"]}
    categories = [c for c in CATEGORY_ORDER if c in seen] + sorted(seen - set(CATEGORY_ORDER))
    daily = go.Figure()
    for i, category in enumerate(categories):
        daily.add_bar(name=category, x=days, y=[d["by_category"].get(category, 0) for d in summary["daily"]],
                      marker_color=PALETTE[i % len(PALETTE)])
    daily.update_layout(barmode="stack", title="Complaints per day, by category (day of creation, UTC)",
                        yaxis_title="complaints", legend={"orientation": "h", "y": -0.2}, **layout)
    daily.update_xaxes(type="category" if len(days) <= 3 else "date")
    out.append(("Complaints per day", daily))

    # SLA compliance per team
    sla = go.Figure()
    for i, clock in enumerate(("first_contact", "resolution")):
        teams = summary["sla"][clock]["by_team"]
        names = sorted(teams)
        sla.add_bar(
            name=f"{CLOCK_LABEL[clock]} SLA", x=names,
            y=[None if teams[t]["compliance"] is None else round(teams[t]["compliance"] * 100, 1) for t in names],
            text=[percent(teams[t]["compliance"]) for t in names], textposition="outside", cliponaxis=False,
            customdata=[[teams[t]["met"], teams[t]["breached"], teams[t]["open"]] for t in names],
            hovertemplate="%{x}: %{y:.1f} %<br>%{customdata[0]} met · %{customdata[1]} breached · %{customdata[2]} open<extra></extra>",
            marker_color=PALETTE[i],
        )
    sla.update_layout(barmode="group", title="SLA compliance per team (met ÷ (met + breached))",
                      yaxis={"title": "%", "range": [0, 118]}, legend={"orientation": "h", "y": -0.15}, **layout)
    out.append(("SLA compliance per team", sla))

    # time to first contact, time to resolution
    for clock, colour in (("first_contact", PALETTE[0]), ("resolution", PALETTE[1])):
        measured = summary["durations_s"][clock]
        bins = measured.get("histogram") or []
        dist = go.Figure(go.Bar(x=[_bin_label(b["from_s"], b["to_s"]) for b in bins], y=[b["count"] for b in bins],
                                marker_color=colour, text=[b["count"] or "" for b in bins], textposition="outside",
                                cliponaxis=False))
        what = "first contact" if clock == "first_contact" else "resolution"
        dist.update_layout(title=f"Time to {what} — median {human(measured['median'])}, p90 {human(measured['p90'])} "
                                 f"({measured.get('count', 0)} complaints)",
                           xaxis_title=f"from complaint to {what}", yaxis_title="complaints", **layout)
        out.append((f"Time to {what}", dist))

    # CSAT
    csat = summary["csat"]
    scores = [str(s) for s in range(1, 6)]
    mean = "–" if csat["mean"] is None else f"{csat['mean']:.2f}"
    satisfaction = go.Figure(go.Bar(x=[f"{s} ★" for s in scores], y=[csat["distribution"][s] for s in scores],
                                    marker_color=list(CSAT_COLOURS), text=[csat["distribution"][s] or "" for s in scores],
                                    textposition="outside", cliponaxis=False))
    satisfaction.update_layout(title=f"Satisfaction — mean {mean}, {csat['responses']} answers to {csat['surveys_sent']} "
                                     f"surveys ({percent(csat['response_rate'])})", yaxis_title="complaints", **layout)
    out.append(("Customer satisfaction", satisfaction))

    # hotspots
    items = hotspots.get("items") or []
    rows = [
        ["SKU" if "sku" in i else "category" for i in items],
        [i.get("sku") or i.get("category") for i in items],
        [i["complaints"] for i in items],
        [i["previous"] for i in items],
        ["new" if i["change"] is None else f"{i['change'] * 100:+.0f} %" for i in items],
        [f"{i['score']:.1f}" for i in items],
    ]
    fill = [["#fdecea" if i["score"] >= 3 else "#fff8e1" if i["score"] >= 2 else "white" for i in items]] * 6
    table = go.Figure(go.Table(
        columnwidth=[1, 3, 1.2, 1.2, 1, 1],
        header={"values": ["kind", "SKU / category", "complaints", "previous window", "change", "score"],
                "fill_color": "#4C78A8", "font": {"color": "white", "size": 13}, "align": "left", "height": 30},
        cells={"values": rows, "align": "left", "height": 26, "fill_color": fill},
    ))
    previous = hotspots.get("previous") or {}
    table.update_layout(
        title=f"Hotspots {_day(hotspots.get('from'))} – {_exclusive_end(str(hotspots.get('to')))} against "
              f"{_day(previous.get('from'))} – {_exclusive_end(str(previous.get('to')))} (at least {hotspots.get('min_complaints')} complaints; "
              f"score = rise ÷ √previous)",
        **{**layout, "height": 180 + 28 * max(1, len(items))},
    )
    out.append(("Hotspots", table))
    for _, figure in out[:-1]:  # whole complaints on small counts
        columns = [list(trace.y) for trace in figure.data if trace.y is not None]
        peak = max((sum(v or 0 for v in column) for column in zip(*columns, strict=False)), default=0)
        if figure.layout.yaxis.title.text == "complaints" and peak <= 8:
            figure.update_yaxes(dtick=1)
    return out


def _day(text: str | None) -> str:
    return (text or "?")[:10]


def _exclusive_end(text: str) -> str:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment.astimezone(UTC).date().fromordinal(moment.date().toordinal() - 1)).isoformat()


def _cards(summary: dict[str, Any]) -> str:
    counts, sla, durations = summary["counts"], summary["sla"], summary["durations_s"]
    vouchers, csat = summary["vouchers"], summary["csat"]
    cards = [
        ("complaints", f"{counts['total']}", ", ".join(f"{k} {v}" for k, v in counts["by_severity"].items()) or "–"),
        ("first-contact SLA", percent(sla["first_contact"]["compliance"]),
         f"{sla['first_contact']['met']} met · {sla['first_contact']['breached']} breached · {sla['first_contact']['open']} open"),
        ("resolution SLA", percent(sla["resolution"]["compliance"]),
         f"{sla['resolution']['met']} met · {sla['resolution']['breached']} breached · {sla['resolution']['open']} open"),
        ("time to first contact", human(durations["first_contact"]["median"]), f"median · p90 {human(durations['first_contact']['p90'])}"),
        ("time to resolution", human(durations["resolution"]["median"]), f"median · p90 {human(durations['resolution']['p90'])}"),
        ("escalations", " / ".join(str(summary["escalations"][k]) for k in ("1", "2", "3")), "reached level 1 / 2 / 3"),
        ("vouchers", f"{vouchers['count']}", f"{vouchers['total']['amount']} {vouchers['total']['currency']}"),
        ("CSAT", "–" if csat["mean"] is None else f"{csat['mean']:.2f} / 5", f"response rate {percent(csat['response_rate'])}"),
    ]
    return "\n".join(
        f'<div class="card"><div class="label">{html.escape(label)}</div><div class="value">{html.escape(value)}</div>'
        f'<div class="sub">{html.escape(sub)}</div></div>'
        for label, value, sub in cards
    )


def _list_table(title: str, rows: list[dict[str, Any]], key: str, label: str) -> str:
    body = "".join(f"<tr><td>{html.escape(str(r[key]))}</td><td class='n'>{r['complaints']}</td></tr>" for r in rows)
    body = body or "<tr><td colspan='2' class='empty'>none</td></tr>"
    return f"<div class='list'><h3>{html.escape(title)}</h3><table><tr><th>{label}</th><th class='n'>complaints</th></tr>{body}</table></div>"


def _breakdown(summary: dict[str, Any]) -> str:
    counts = summary["counts"]
    parts = []
    for name in ("by_status", "by_team", "by_channel", "by_source"):
        values = " · ".join(f"{html.escape(k)} <b>{v}</b>" for k, v in counts.get(name, {}).items()) or "–"
        parts.append(f"<div><span class='label'>{name.removeprefix('by_')}</span> {values}</div>")
    return "\n".join(parts)


STYLE = """
body { font-family: "Segoe UI", Helvetica, Arial, "Noto Sans CJK SC", sans-serif; margin: 0; background: #f4f6f9; color: #1f2d3d; }
header { background: #1f3b5c; color: white; padding: 22px 36px; }
header h1 { margin: 0 0 4px 0; font-size: 26px; font-weight: 600; }
header .meta { opacity: .8; font-size: 14px; }
main { padding: 20px 36px 40px 36px; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 14px; margin-bottom: 18px; }
.card { background: white; border-radius: 8px; padding: 14px 16px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
.card .label, .breakdown .label { color: #5b6b7c; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 28px; font-weight: 600; margin: 4px 0; }
.card .sub { color: #5b6b7c; font-size: 13px; }
.breakdown { background: white; border-radius: 8px; padding: 12px 16px; margin-bottom: 18px; font-size: 14px; line-height: 1.9;
             box-shadow: 0 1px 3px rgba(0,0,0,.08); }
.breakdown .label { display: inline-block; width: 80px; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
.panel { background: white; border-radius: 8px; padding: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
.wide { grid-column: 1 / span 2; }
.lists { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; margin-top: 18px; }
.list { background: white; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
.list h3 { margin: 0 0 8px 0; font-size: 16px; }
.list table { width: 100%; border-collapse: collapse; font-size: 14px; }
.list th, .list td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #eef1f5; }
.list .n { text-align: right; }
.list .empty { color: #8a97a6; }
footer { color: #8a97a6; font-size: 12px; padding: 0 36px 24px 36px; }
"""


def render(summary: dict[str, Any], hotspots: dict[str, Any], *, title: str = "Complaint report", source: str = "") -> str:
    """The whole page (plotly.js inlined once)."""
    charts = []
    for i, (name, figure) in enumerate(figures(summary, hotspots)):
        wide = name in ("Complaints per day", "Hotspots")
        snippet = figure.to_html(full_html=False, include_plotlyjs=(i == 0), default_width="100%",
                                 config={"displaylogo": False, "responsive": True, "displayModeBar": False})
        charts.append(f'<section class="panel{" wide" if wide else ""}" aria-label="{html.escape(name)}">{snippet}</section>')
    window = f"{_day(summary['from'])} – {_exclusive_end(summary['to'])}"
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} {html.escape(window)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>
<body>
<header><h1>{html.escape(title)}</h1>
<div class="meta">Complaints created {html.escape(window)} (UTC, {summary.get('days', '')} days) · generated {generated}{
    ' · ' + html.escape(source) if source else ''}</div></header>
<main>
<div class="cards">{_cards(summary)}</div>
<div class="breakdown">{_breakdown(summary)}</div>
<div class="grid">
{charts[0]}
{charts[1]}
{charts[4]}
{charts[2]}
{charts[3]}
</div>
<div class="lists">
{_list_table("Top products", summary["top_products"], "sku", "SKU")}
{_list_table("Top orders", summary["top_orders"], "order_id", "order")}
</div>
<div class="grid" style="margin-top:18px">{charts[5]}</div>
</main>
<footer>Numbers from the per-day report aggregates (GET /reports/summary and /reports/hotspots). Percentiles are nearest-rank;
SLA compliance counts clocks that stopped in time against clocks that breached; open clocks are left out.</footer>
</body></html>
"""


# -- the command ----------------------------------------------------------------------------------------------
def make_report(fetch: Fetch, start: str, end: str, out: Path, *, hotspots_window: tuple[str, str] | None = None,
                min_complaints: int | None = None, title: str = "Complaint report", source: str = "") -> Path:
    summary = fetch("summary", {"from": start, "to": end})
    params = {"from": hotspots_window[0], "to": hotspots_window[1]} if hotspots_window else {"from": start, "to": end}
    if min_complaints is not None:
        params["min_complaints"] = str(min_complaints)
    spots = fetch("hotspots", params)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(summary, spots, title=title, source=source), encoding="utf-8")
    return out


def run(args: argparse.Namespace) -> int:
    if args.table:
        fetch, source = dynamodb_source(args.table, args.region), f"DynamoDB table {args.table}"
    else:
        endpoint = args.endpoint or LOCAL_ENDPOINT
        token = args.token or os.environ.get(TOKEN_VARIABLE)
        if not token:
            if args.endpoint and not _is_local(args.endpoint):
                print(f"{args.endpoint} needs a token: --token or ${TOKEN_VARIABLE} (a Cognito ID token of a user in "
                      "group ops or supervisors), or read the table with --table and AWS credentials", file=sys.stderr)
                return 2
            token = local_token()
        fetch, source = http_source(endpoint, token), endpoint
    hot = (args.hotspots_from, args.hotspots_to) if args.hotspots_from or args.hotspots_to else None
    if hot and not all(hot):
        print("--hotspots-from and --hotspots-to go together", file=sys.stderr)
        return 2
    try:
        path = make_report(fetch, args.start, args.end, Path(args.out), hotspots_window=hot,
                           min_complaints=args.min_complaints, title=args.title, source=source)
    except ReportError as exc:
        print(f"no report: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
    return 0


def _is_local(endpoint: str) -> bool:
    host = urllib.parse.urlparse(endpoint).hostname or ""
    return host in ("127.0.0.1", "localhost", "::1")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("report", help="write the HTML complaint report (charts, hotspots)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="start", required=True, help="first day (ISO date or time, UTC)")
    parser.add_argument("--to", dest="end", required=True, help="end of the window, exclusive (ISO date or time)")
    parser.add_argument("--out", default="report.html", help="HTML file to write (default report.html)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--endpoint", help=f"API base URL (default {LOCAL_ENDPOINT}, the local system)")
    source.add_argument("--table", help="read the aggregates from this DynamoDB table with AWS credentials instead")
    parser.add_argument("--token", help=f"bearer token for --endpoint (default ${TOKEN_VARIABLE}; minted locally)")
    parser.add_argument("--region", help="AWS region for --table (default: your AWS configuration)")
    parser.add_argument("--hotspots-from", help="hotspot window start (default: the report's window)")
    parser.add_argument("--hotspots-to", help="hotspot window end")
    parser.add_argument("--min-complaints", type=int, help="hotspots: least complaints in the window (API default 3)")
    parser.add_argument("--title", default="Complaint report")
    parser.set_defaults(handler=run)
