"""``python -m local report``: the complaint report as one self-contained HTML page.

    python -m local report --from 2026-11-01 --to 2026-11-30 --out report.html [--lang en]

In Chinese by default, in English with ``--lang en``: the words are the agent console's
(``console/app/locales/``). Where the numbers come from (``docs/local.md``):

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

from chalicelib.models import CATEGORIES

LOCAL_ENDPOINT = "http://127.0.0.1:8000"
TOKEN_VARIABLE = "COMPLAINTS_ID_TOKEN"
PALETTE = ("#4C78A8", "#F58518", "#E45756", "#72B7B2", "#54A24B", "#EECA3B", "#B279A2", "#FF9DA6", "#9D755D", "#BAB0AC")
CSAT_COLOURS = ("#d62728", "#ff7f0e", "#bcbd22", "#98df8a", "#2ca02c")
LANGS = ("zh-CN", "en")  # console/app/locales/<lang>.json
DEFAULT_LANG = "zh-CN"

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
class Words:
    """The report's words in one language: ``console/app/locales/<lang>.json`` (``report`` for the
    page, ``labels`` for categories, teams ...), the files the agent console speaks from."""

    def __init__(self, lang: str = DEFAULT_LANG) -> None:
        from console.site import messages

        self.lang = lang
        found = messages(lang)
        self._report: dict[str, str] = found["report"]
        self._labels: dict[str, dict[str, str]] = found["labels"]

    def __call__(self, key: str, **params: Any) -> str:
        return self._report[key].format(**params)

    def label(self, kind: str, value: str) -> str:
        return self._labels.get(kind, {}).get(value, value)


UNITS = {"en": (" s", " min", " h", " d"), "zh-CN": (" 秒", " 分钟", " 小时", " 天")}


def human(seconds: float | None, lang: str = "en") -> str:
    if seconds is None:
        return "–"
    s, minutes, hours, days = UNITS.get(lang, UNITS["en"])
    if seconds < 120:
        return f"{seconds:.0f}{s}"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f}{minutes}"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f}".removesuffix(".0") + hours
    return f"{seconds / 86400:.1f}".removesuffix(".0") + days


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _bin_label(low: int, high: int | None, lang: str) -> str:
    if high is None:
        return f"≥ {human(low, lang)}"
    return f"{human(low, lang)}–{human(high, lang)}" if low else f"< {human(high, lang)}"


def figures(summary: dict[str, Any], hotspots: dict[str, Any], w: Words | None = None) -> list[tuple[str, Any]]:
    """(section title, plotly figure) for every chart of the page."""
    import plotly.graph_objects as go

    w = w or Words()
    complaints = w("axis_complaints")
    layout = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 60}, "height": 380,
              "font": {"family": "Segoe UI, Helvetica, Arial, 'Noto Sans CJK SC', 'WenQuanYi Zen Hei', sans-serif", "size": 13}}
    out: list[tuple[str, Any]] = []

    # complaints per day by category
    days = [d["date"] for d in summary["daily"]]
    seen = {c for d in summary["daily"] for c in d["by_category"]}
    categories = [c for c in CATEGORIES if c in seen] + sorted(seen - set(CATEGORIES))
    daily = go.Figure()
    for i, category in enumerate(categories):
        daily.add_bar(name=w.label("category", category), x=days, y=[d["by_category"].get(category, 0) for d in summary["daily"]],
                      marker_color=PALETTE[i % len(PALETTE)])
    daily.update_layout(barmode="stack", title=w("chart_daily"),
                        yaxis_title=complaints, legend={"orientation": "h", "y": -0.2}, **layout)
    daily.update_xaxes(type="category" if len(days) <= 3 else "date")
    out.append((w("section_daily"), daily))

    # SLA compliance per team
    sla = go.Figure()
    for i, clock in enumerate(("first_contact", "resolution")):
        teams = summary["sla"][clock]["by_team"]
        names = sorted(teams)
        hover = w("sla_hover", met="%{customdata[0]}", breached="%{customdata[1]}", open="%{customdata[2]}")
        sla.add_bar(
            name=w("sla_series", clock=w("clock_" + clock)), x=[w.label("team", t) for t in names],
            y=[None if teams[t]["compliance"] is None else round(teams[t]["compliance"] * 100, 1) for t in names],
            text=[percent(teams[t]["compliance"]) for t in names], textposition="outside", cliponaxis=False,
            customdata=[[teams[t]["met"], teams[t]["breached"], teams[t]["open"]] for t in names],
            hovertemplate="%{x}: %{y:.1f} %<br>" + hover + "<extra></extra>",
            marker_color=PALETTE[i],
        )
    sla.update_layout(barmode="group", title=w("chart_sla"),
                      yaxis={"title": "%", "range": [0, 118]}, legend={"orientation": "h", "y": -0.15}, **layout)
    out.append((w("section_sla"), sla))

    # time to first contact, time to resolution
    for clock, colour in (("first_contact", PALETTE[0]), ("resolution", PALETTE[1])):
        measured = summary["durations_s"][clock]
        bins = measured.get("histogram") or []
        dist = go.Figure(go.Bar(x=[_bin_label(b["from_s"], b["to_s"], w.lang) for b in bins], y=[b["count"] for b in bins],
                                marker_color=colour, text=[b["count"] or "" for b in bins], textposition="outside",
                                cliponaxis=False))
        what = w("clock_" + clock)
        dist.update_layout(title=w("chart_time", clock=what, median=human(measured["median"], w.lang),
                                   p90=human(measured["p90"], w.lang), count=measured.get("count", 0)),
                           xaxis_title=w("axis_time", clock=what), yaxis_title=complaints, **layout)
        out.append((w("section_time", clock=what), dist))

    # CSAT
    csat = summary["csat"]
    scores = [str(s) for s in range(1, 6)]
    mean = "–" if csat["mean"] is None else f"{csat['mean']:.2f}"
    satisfaction = go.Figure(go.Bar(x=[f"{s} ★" for s in scores], y=[csat["distribution"][s] for s in scores],
                                    marker_color=list(CSAT_COLOURS), text=[csat["distribution"][s] or "" for s in scores],
                                    textposition="outside", cliponaxis=False))
    satisfaction.update_layout(title=w("chart_csat", mean=mean, responses=csat["responses"], surveys=csat["surveys_sent"],
                                       rate=percent(csat["response_rate"])), yaxis_title=complaints, **layout)
    out.append((w("section_csat"), satisfaction))

    # hotspots
    items = hotspots.get("items") or []
    rows = [
        [w("hot_sku") if "sku" in i else w("hot_category") for i in items],
        [i["sku"] if "sku" in i else w.label("category", i.get("category") or "") for i in items],
        [i["complaints"] for i in items],
        [i["previous"] for i in items],
        [w("hot_new") if i["change"] is None else f"{i['change'] * 100:+.0f} %" for i in items],
        [f"{i['score']:.1f}" for i in items],
    ]
    fill = [["#fdecea" if i["score"] >= 3 else "#fff8e1" if i["score"] >= 2 else "white" for i in items]] * 6
    table = go.Figure(go.Table(
        columnwidth=[1, 3, 1.2, 1.2, 1, 1],
        header={"values": [w(k) for k in ("hot_kind", "hot_what", "hot_complaints", "hot_previous", "hot_change", "hot_score")],
                "fill_color": "#4C78A8", "font": {"color": "white", "size": 13}, "align": "left", "height": 30},
        cells={"values": rows, "align": "left", "height": 26, "fill_color": fill},
    ))
    previous = hotspots.get("previous") or {}
    table.update_layout(
        title=w("chart_hotspots", window=f"{_day(hotspots.get('from'))} – {_exclusive_end(str(hotspots.get('to')))}",
                previous=f"{_day(previous.get('from'))} – {_exclusive_end(str(previous.get('to')))}",
                min=hotspots.get("min_complaints")),
        **{**layout, "height": 180 + 28 * max(1, len(items))},
    )
    out.append((w("section_hotspots"), table))
    for _, figure in out[:-1]:  # whole complaints on small counts
        columns = [list(trace.y) for trace in figure.data if trace.y is not None]
        peak = max((sum(v or 0 for v in column) for column in zip(*columns, strict=False)), default=0)
        if figure.layout.yaxis.title.text == complaints and peak <= 8:
            figure.update_yaxes(dtick=1)
    return out


def _day(text: str | None) -> str:
    return (text or "?")[:10]


def _exclusive_end(text: str) -> str:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment.astimezone(UTC).date().fromordinal(moment.date().toordinal() - 1)).isoformat()


def _cards(summary: dict[str, Any], w: Words) -> str:
    counts, sla, durations = summary["counts"], summary["sla"], summary["durations_s"]
    vouchers, csat = summary["vouchers"], summary["csat"]
    lang = w.lang

    def sla_sub(clock: str) -> str:
        return w("sla_sub", met=sla[clock]["met"], breached=sla[clock]["breached"], open=sla[clock]["open"])

    cards = [
        (w("card_complaints"), f"{counts['total']}", ", ".join(f"{k} {v}" for k, v in counts["by_severity"].items()) or "–"),
        (w("card_first_contact"), percent(sla["first_contact"]["compliance"]), sla_sub("first_contact")),
        (w("card_resolution"), percent(sla["resolution"]["compliance"]), sla_sub("resolution")),
        (w("card_time_first_contact"), human(durations["first_contact"]["median"], lang),
         w("median_p90", p90=human(durations["first_contact"]["p90"], lang))),
        (w("card_time_resolution"), human(durations["resolution"]["median"], lang),
         w("median_p90", p90=human(durations["resolution"]["p90"], lang))),
        (w("card_escalations"), " / ".join(str(summary["escalations"][k]) for k in ("1", "2", "3")), w("levels_reached")),
        (w("card_vouchers"), f"{vouchers['count']}", f"{vouchers['total']['amount']} {vouchers['total']['currency']}"),
        (w("card_csat"), "–" if csat["mean"] is None else f"{csat['mean']:.2f} / 5", w("response_rate", rate=percent(csat["response_rate"]))),
    ]
    return "\n".join(
        f'<div class="card"><div class="label">{html.escape(label)}</div><div class="value">{html.escape(value)}</div>'
        f'<div class="sub">{html.escape(sub)}</div></div>'
        for label, value, sub in cards
    )


def _list_table(title: str, rows: list[dict[str, Any]], key: str, label: str, w: Words) -> str:
    body = "".join(f"<tr><td>{html.escape(str(r[key]))}</td><td class='n'>{r['complaints']}</td></tr>" for r in rows)
    body = body or f"<tr><td colspan='2' class='empty'>{html.escape(w('none'))}</td></tr>"
    return (f"<div class='list'><h3>{html.escape(title)}</h3><table><tr><th>{html.escape(label)}</th>"
            f"<th class='n'>{html.escape(w('hot_complaints'))}</th></tr>{body}</table></div>")


BREAKDOWN_LABELS = {"by_status": "status", "by_team": "team", "by_channel": "channel", "by_source": None}


def _breakdown(summary: dict[str, Any], w: Words) -> str:
    counts = summary["counts"]
    parts = []
    for name, kind in BREAKDOWN_LABELS.items():
        values = " · ".join(f"{html.escape(w.label(kind, k) if kind else k)} <b>{v}</b>"
                            for k, v in counts.get(name, {}).items()) or "–"
        title = w("breakdown_" + name.removeprefix("by_"))
        parts.append(f"<div><span class='label'>{html.escape(title)}</span> {values}</div>")
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


def render(summary: dict[str, Any], hotspots: dict[str, Any], *, title: str | None = None, source: str = "",
           lang: str = DEFAULT_LANG) -> str:
    """The whole page (plotly.js inlined once), in ``lang``."""
    w = Words(lang)
    title = title or w("title")
    charts = []
    for i, (name, figure) in enumerate(figures(summary, hotspots, w)):
        wide = i in (0, 5)  # complaints per day, hotspots
        snippet = figure.to_html(full_html=False, include_plotlyjs=(i == 0), default_width="100%",
                                 config={"displaylogo": False, "responsive": True, "displayModeBar": False, "locale": lang})
        charts.append(f'<section class="panel{" wide" if wide else ""}" aria-label="{html.escape(name)}">{snippet}</section>')
    window = f"{_day(summary['from'])} – {_exclusive_end(summary['to'])}"
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = w("meta", window=window, days=summary.get("days", ""), generated=generated)
    return f"""<!DOCTYPE html>
<html lang="{html.escape(lang)}"><head><meta charset="utf-8"><title>{html.escape(title)} {html.escape(window)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>
<body>
<header><h1>{html.escape(title)}</h1>
<div class="meta">{html.escape(meta)}{' · ' + html.escape(source) if source else ''}</div></header>
<main>
<div class="cards">{_cards(summary, w)}</div>
<div class="breakdown">{_breakdown(summary, w)}</div>
<div class="grid">
{charts[0]}
{charts[1]}
{charts[4]}
{charts[2]}
{charts[3]}
</div>
<div class="lists">
{_list_table(w("top_products"), summary["top_products"], "sku", w("col_sku"), w)}
{_list_table(w("top_orders"), summary["top_orders"], "order_id", w("col_order"), w)}
</div>
<div class="grid" style="margin-top:18px">{charts[5]}</div>
</main>
<footer>{html.escape(w("footer"))}</footer>
</body></html>
"""


# -- the command ----------------------------------------------------------------------------------------------
def report_html(fetch: Fetch, start: str, end: str, *, hotspots_window: tuple[str, str] | None = None,
                min_complaints: int | None = None, title: str | None = None, source: str = "",
                lang: str = DEFAULT_LANG) -> str:
    """The report page of the window ``start`` .. ``end`` (exclusive) from ``fetch``."""
    summary = fetch("summary", {"from": start, "to": end})
    params = {"from": hotspots_window[0], "to": hotspots_window[1]} if hotspots_window else {"from": start, "to": end}
    if min_complaints is not None:
        params["min_complaints"] = str(min_complaints)
    spots = fetch("hotspots", params)
    return render(summary, spots, title=title, source=source, lang=lang)


def make_report(fetch: Fetch, start: str, end: str, out: Path, *, hotspots_window: tuple[str, str] | None = None,
                min_complaints: int | None = None, title: str | None = None, source: str = "",
                lang: str = DEFAULT_LANG) -> Path:
    page = report_html(fetch, start, end, hotspots_window=hotspots_window, min_complaints=min_complaints,
                       title=title, source=source, lang=lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
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
                           min_complaints=args.min_complaints, title=args.title, source=source, lang=args.lang)
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
    parser.add_argument("--title", help="page title (default: 投诉报表 / Complaint report)")
    parser.add_argument("--lang", choices=LANGS, default=DEFAULT_LANG, help=f"language of the page (default {DEFAULT_LANG})")
    parser.set_defaults(handler=run)
