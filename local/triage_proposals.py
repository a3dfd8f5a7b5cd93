"""``python -m local triage-proposals``: the rule proposals of ``GET /reports/triage``, printed
in the rule file's own syntax (a TOML snippet ``make triage-check`` can replay, docs/triage.md).

    python -m local triage-proposals --from 2026-11-01 --to 2026-12-01 [--endpoint URL --token T]

By default from the running local system's API with a dev token of group ``ops``; with
``--endpoint`` any deployment's API and a Cognito ID token of a user in group ``ops`` or
``supervisors`` (``--token`` or ``$COMPLAINTS_ID_TOKEN``).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from local.report import LOCAL_ENDPOINT, TOKEN_VARIABLE, ReportError, _is_local, http_source, local_token


def summary_lines(body: dict[str, Any]) -> list[str]:
    """How triage did, as TOML comments above the snippet."""
    accuracy = body.get("accuracy", {})
    shown = ", ".join(f"{k} {v:.1%}" if isinstance(v, float) else f"{k} n/a" for k, v in accuracy.items())
    lines = [f"# {body.get('from')} .. {body.get('to')}: {body.get('triaged', 0)} triaged, "
             f"{body.get('corrected', 0)} corrected; unchanged: {shown}"]
    for pair in body.get("confusion", {}).get("category", [])[:10]:
        lines.append(f"#   category {pair['predicted']} -> {pair['corrected']}: {pair['count']}")
    for pair in body.get("confusion", {}).get("severity", [])[:10]:
        lines.append(f"#   severity {pair['predicted']} -> {pair['corrected']}: {pair['count']}")
    return lines


def run(args: argparse.Namespace) -> int:
    from chalicelib.triage.proposals import Proposal, render_snippet

    endpoint = args.endpoint or LOCAL_ENDPOINT
    token = args.token or os.environ.get(TOKEN_VARIABLE)
    if not token:
        if args.endpoint and not _is_local(args.endpoint):
            print(f"{args.endpoint} needs a token: --token or ${TOKEN_VARIABLE}", file=sys.stderr)
            return 2
        token = local_token()
    try:
        body = http_source(endpoint, token)("triage", {"from": args.start, "to": args.end})
    except ReportError as exc:
        print(f"no proposals: {exc}", file=sys.stderr)
        return 1
    proposals = [Proposal.model_validate(p) for p in body.get("proposals", [])]
    print("\n".join(summary_lines(body)))
    print(render_snippet(proposals) if proposals else "# no proposals: no phrase recurs under one corrected category")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("triage-proposals", help="print rule proposals mined from staff's corrections",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="start", required=True, help="first day (ISO date or time, UTC)")
    parser.add_argument("--to", dest="end", required=True, help="end of the window, exclusive")
    parser.add_argument("--endpoint", help=f"API base URL (default {LOCAL_ENDPOINT}, the local system)")
    parser.add_argument("--token", help=f"bearer token for --endpoint (default ${TOKEN_VARIABLE}; minted locally)")
    parser.set_defaults(handler=run)
