"""The simulation as an HTML page: the figures of each policy side by side, the difference,
and charts (plotly, with plotly.js inlined once: the file opens anywhere, offline)."""

from __future__ import annotations

import html
from typing import Any

CLOCK_LABELS = {"first_contact": "First contact", "resolution": "Resolution"}
LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 60}, "height": 360,
          "barmode": "group"}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _hours(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def charts(figures: dict[str, Any]) -> list[tuple[str, Any]]:
    """(title, plotly figure) for each chart."""
    import plotly.graph_objects as go

    policies = figures["policies"]
    out: list[tuple[str, Any]] = []
    for clock, label in CLOCK_LABELS.items():
        fig = go.Figure(layout={**LAYOUT, "title": f"{label} compliance by severity",
                                "yaxis": {"tickformat": ".0%", "range": [0, 1.05]}})
        for policy in policies:
            severities = list(policy["by_severity"])
            fig.add_bar(name=policy["name"], x=["all", *severities],
                        y=[policy[clock]["compliance"], *(policy["by_severity"][s][clock]["compliance"] for s in severities)])
        out.append((f"{label} compliance", fig))
    levels = sorted({level for p in policies for level in p["escalations"]}, key=lambda k: int(k) if k.isdigit() else 99)
    fig = go.Figure(layout={**LAYOUT, "title": "Escalations per level", "xaxis": {"type": "category"}})
    for policy in policies:
        fig.add_bar(name=policy["name"], x=[f"level {k}" for k in levels], y=[policy["escalations"].get(k, 0) for k in levels])
    out.append(("Escalations", fig))
    fig = go.Figure(layout={**LAYOUT, "title": "Median and p90 times (hours)"})
    for policy in policies:
        fig.add_bar(name=policy["name"], x=["first contact median", "first contact p90", "resolution median", "resolution p90"],
                    y=[_hours(policy["first_contact"]["median_s"]), _hours(policy["first_contact"]["p90_s"]),
                       _hours(policy["resolution"]["median_s"]), _hours(policy["resolution"]["p90_s"])])
    out.append(("Times", fig))
    return out


ROWS: tuple[tuple[str, Any], ...] = (
    ("Complaints", lambda p: p["complaints"]),
    ("First-contact compliance", lambda p: _pct(p["first_contact"]["compliance"])),
    ("Resolution compliance", lambda p: _pct(p["resolution"]["compliance"])),
    ("Breaches (first contact / resolution)", lambda p: f"{p['breaches']['first_contact']} / {p['breaches']['resolution']}"),
    ("Escalations per level", lambda p: ", ".join(f"L{k}: {v}" for k, v in p["escalations"].items()) or "none"),
    ("At-risk warnings", lambda p: p["at_risk"]),
    ("Vouchers", lambda p: f"{p['vouchers']['count']} (CNY {p['vouchers']['cny']})"),
    ("Reopens", lambda p: p["reopens"]),
    ("Step Functions transitions", lambda p: p["transitions"]),
    ("Lambda invocations", lambda p: p["lambda_invocations"]),
    ("AWS cost (USD)", lambda p: p["cost_usd"]),
)


def _table(figures: dict[str, Any]) -> str:
    policies = figures["policies"]
    head = "".join(f"<th>{html.escape(p['name'])}</th>" for p in policies)
    body = "".join(f"<tr><th>{html.escape(label)}</th>" + "".join(f"<td>{html.escape(str(value(p)))}</td>" for p in policies)
                   + "</tr>" for label, value in ROWS)
    return f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>"


def _difference(figures: dict[str, Any]) -> str:
    d = figures.get("difference")
    if not d:
        return ""
    items = [
        f"first-contact compliance {d['first_contact']['compliance'] * 100:+.1f} pt" if d["first_contact"]["compliance"] is not None else "",
        f"resolution compliance {d['resolution']['compliance'] * 100:+.1f} pt" if d["resolution"]["compliance"] is not None else "",
        "escalations " + (", ".join(f"L{k} {v:+d}" for k, v in d["escalations"].items()) or "±0"),
        f"vouchers {d['vouchers']['count']:+d} (CNY {d['vouchers']['cny']})",
        f"AWS cost USD {d['cost_usd']}",
    ]
    lis = "".join(f"<li>{html.escape(i)}</li>" for i in items if i)
    return f"<section><h2>Difference (second − first)</h2><ul class=diff>{lis}</ul></section>"


def render(figures: dict[str, Any], title: str = "SLA policy simulation") -> str:
    load = figures["load"]
    snippets = []
    for i, (name, fig) in enumerate(charts(figures)):
        snippet = fig.to_html(full_html=False, include_plotlyjs=(i == 0), default_width="100%", default_height="360px")
        snippets.append(f"<section class=chart aria-label='{html.escape(name)}'>{snippet}</section>")
    staffing = figures["staffing"]
    agents = ", ".join(f"{team} {n}" for team, n in staffing["agents"].items())
    minutes = ", ".join(f"{team} {m:g} min" for team, m in staffing["handle_minutes"].items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; }} th, td {{ padding: .35rem .8rem; border-bottom: 1px solid #ddd; text-align: right; }}
tbody th {{ text-align: left; font-weight: normal; }} .diff li {{ margin: .2rem 0; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{figures['complaints']} complaints arriving {html.escape(load['from'])} – {html.escape(load['to'])}, simulated until
{html.escape(load['until'])}; seed {figures['seed']}. Agents: {html.escape(agents)}{' (and shifts)' if staffing['shifts'] else ''};
handling: {html.escape(minutes)}.</p>
{_table(figures)}
{_difference(figures)}
{''.join(snippets)}
</body></html>
"""
