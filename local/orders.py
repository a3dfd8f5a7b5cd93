"""``python -m local orders put``: put orders into the running local system's order directory
(the ``complaints-<stage>-orders`` table on its AWS endpoint), the way the platform's order
sync keeps it in AWS (docs/integration.md)::

    python -m local orders put --order-id O-1 --customer C-1001 --amount 12999.00 --currency CNY \\
        --sku SKU-1 --name "折叠屏手机" --kind electronics [--delivered-at 2026-11-20T09:30:00Z] \\
        [--carrier "SF Express"] [--endpoint http://127.0.0.1:4566]
    python -m local orders put --file orders.jsonl      # one order item (JSON) per line

A line that is not a valid order is reported with its number and reason and the others are
put (exit 1 if any was rejected); an endpoint that does not answer, exit 1."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, get_args

import boto3
from pydantic import ValidationError

from chalicelib.adapters.orders import DynamoDBOrderDirectory
from chalicelib.models import ProductKind
from chalicelib.orders import Order
from infra.resources import names

PROG = "python -m local orders put"


def read_orders(path: Path) -> tuple[list[Order], list[str]]:
    """The valid orders of a JSONL file and a message per line that is not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{path}: cannot read it: {exc}"]
    orders: list[Order] = []
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            orders.append(Order.model_validate_json(line))
        except ValidationError as exc:
            reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in exc.errors(include_url=False))
            errors.append(f"{path}:{number}: not an order: {reasons}")
    return orders, errors


def order_of(args: argparse.Namespace) -> Order:
    item = {"sku": args.sku, "name": args.name, "kind": args.kind}
    data: dict[str, Any] = {"order_id": args.order_id, "customer_id": args.customer, "amount": args.amount,
                            "currency": args.currency, "items": [item], "paid_at": args.paid_at,
                            "delivered_at": args.delivered_at, "carrier": args.carrier,
                            "tracking_number": args.tracking_number}
    return Order.model_validate({k: v for k, v in data.items() if v is not None})


def put(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    errors: list[str] = []
    if args.file:
        orders, errors = read_orders(Path(args.file))
    else:
        missing = [f"--{f.replace('_', '-')}" for f in ("order_id", "customer", "amount", "sku", "name")
                   if getattr(args, f) is None]
        if missing:
            print(f"{PROG}: error: give --file, or {', '.join(missing)}", file=sys.stderr)
            return 2
        try:
            orders = [order_of(args)]
        except ValidationError as exc:
            reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False))
            print(f"{PROG}: error: not an order: {reasons}", file=sys.stderr)
            return 2
    ddb = boto3.client("dynamodb", endpoint_url=args.endpoint, region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    directory = DynamoDBOrderDirectory(ddb, names(args.stage)["orders_table"])
    try:
        for order in orders:
            directory.put(order)
            print(f"put {order.order_id}: {order.customer_id}, {order.amount:.2f} {order.currency}, "
                  f"{', '.join(i.name for i in order.items)}")
    except (BotoCoreError, ClientError) as exc:
        print(f"{PROG}: cannot put to {args.endpoint}: {exc} (is `python -m local serve` running?)", file=sys.stderr)
        return 1
    for error in errors:
        print(f"{PROG}: rejected {error}", file=sys.stderr)
    return 1 if errors else 0


def register(commands: Any) -> None:
    parser = commands.add_parser("orders", help="the local order directory (orders complaints are verified against)")
    sub = parser.add_subparsers(dest="orders_command", required=True)
    p = sub.add_parser("put", help="add or replace orders (one from the options, or --file orders.jsonl)")
    p.add_argument("--file", help="JSONL: one order per line (order_id, customer_id, amount, currency, items ...)")
    p.add_argument("--order-id")
    p.add_argument("--customer", help="the customer id the order belongs to")
    p.add_argument("--amount", help="what the customer paid, e.g. 12999.00")
    p.add_argument("--currency", default="CNY")
    p.add_argument("--sku")
    p.add_argument("--name", help="the product's name")
    p.add_argument("--kind", default="other", choices=get_args(ProductKind))
    p.add_argument("--paid-at", help="ISO 8601 UTC")
    p.add_argument("--delivered-at", help="ISO 8601 UTC (leave out: not delivered yet)")
    p.add_argument("--carrier")
    p.add_argument("--tracking-number")
    p.add_argument("--endpoint", default="http://127.0.0.1:4566", help="the local AWS endpoint (default http://127.0.0.1:4566)")
    p.add_argument("--stage", default="local")
    p.set_defaults(handler=put)


def dump_line(order: Order) -> str:
    """One line of an orders.jsonl file."""
    return json.dumps(order.model_dump(mode="json", exclude_none=True), ensure_ascii=False)
