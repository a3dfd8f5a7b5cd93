"""``python -m local import FILE``: send marketplace records to the running local system's
import queue as batches (docs/import.md), the way an integration job would.

FILE is a batch envelope (``{"source", "batch_id", "records": [...]}``), a JSON list of records
(needs ``--source``), or JSONL: one ``{"source": ..., "record": {...}}`` per line (the demo
file) or one raw record per line (needs ``--source``). A file that is missing or not one of
these is a one-line error (exit 2); an endpoint that does not answer, exit 1."""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from chalicelib.marketplaces import MAX_RECORDS as MAX_BATCH_RECORDS
from infra.resources import resources
from local.arguments import positive_int

MAX_MESSAGE_BYTES = 250 * 1024  # SQS allows 256 KiB; keep headroom for attributes


class ImportFileError(Exception):
    """The file cannot be sent: missing, unreadable, not JSON, or not records (one line)."""


def read_records(path: Path, source: str | None) -> dict[str, list[Any]]:
    """Records grouped by marketplace source (``ImportFileError`` with the reason)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"{path}: cannot read it: {exc}") from None
    grouped: dict[str, list[Any]] = defaultdict(list)
    if path.suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise ImportFileError(f"{path}:{number}: not JSON: {exc}") from None
            if isinstance(item, dict) and "record" in item and "source" in item:
                grouped[item["source"]].append(item["record"])
            elif source:
                grouped[source].append(item)
            else:
                raise ImportFileError(f"{path}:{number}: raw record without --source")
        return grouped
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ImportFileError(f"{path}: not JSON: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("records"), list) and (source or isinstance(data.get("source"), str)):
        grouped[source or data["source"]].extend(data["records"])
    elif isinstance(data, list) and source:
        grouped[source].extend(data)
    else:
        raise ImportFileError(f"{path}: expected a batch envelope, or a list of records with --source")
    return grouped


def batches(name: str, grouped: dict[str, list[Any]], size: int) -> list[dict[str, Any]]:
    """Batch envelopes of at most ``size`` records and under SQS's message size."""
    exported = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    out: list[dict[str, Any]] = []
    for source, records in sorted(grouped.items()):
        chunk: list[Any] = []
        for record in records:
            candidate = [*chunk, record]
            body = {"source": source, "batch_id": "x" * 60, "exported_at": exported, "records": candidate}
            if chunk and (len(candidate) > size or len(json.dumps(body, ensure_ascii=False).encode()) > MAX_MESSAGE_BYTES):
                out.append({"source": source, "records": chunk})
                chunk = [record]
            else:
                chunk = candidate
        if chunk:
            out.append({"source": source, "records": chunk})
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return [{"source": b["source"], "batch_id": f"{name}-{b['source']}-{stamp}-{n:04d}", "exported_at": exported,
             "records": b["records"]} for n, b in enumerate(out, 1)]


def send(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        grouped = read_records(Path(args.file), args.source)
    except ImportFileError as exc:
        print(f"python -m local import: error: {exc}", file=sys.stderr)
        return 2
    sqs = boto3.client("sqs", endpoint_url=args.endpoint, region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    queue_name = resources(args.stage)["ImportQueue"]["Properties"]["QueueName"]
    try:
        url = args.queue_url or sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        for batch in batches(Path(args.file).stem, grouped, args.batch_size):
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(batch, ensure_ascii=False))
            print(f"sent {batch['batch_id']}: {len(batch['records'])} {batch['source']} records")
    except (BotoCoreError, ClientError) as exc:
        print(f"python -m local import: cannot send to {args.endpoint}: {exc} (is `python -m local serve` running?)",
              file=sys.stderr)
        return 1
    return 0


def batch_size(text: str) -> int:
    size = positive_int(text)
    if size > MAX_BATCH_RECORDS:
        raise argparse.ArgumentTypeError(f"at most {MAX_BATCH_RECORDS} records a message, not {size}")
    return size


def register(commands: Any) -> None:
    parser = commands.add_parser("import", help="send a JSON/JSONL file of marketplace records to the import queue")
    parser.add_argument("file", help="batch envelope (.json), list of records (.json) or .jsonl")
    parser.add_argument("--source", help="marketplace of raw records (generic, tmall, jd, amazon)")
    parser.add_argument("--endpoint", default="http://127.0.0.1:4566", help="the local AWS endpoint (default http://127.0.0.1:4566)")
    parser.add_argument("--stage", default="local")
    parser.add_argument("--queue-url", help="send here instead of the stage's import queue")
    parser.add_argument("--batch-size", type=batch_size, default=100,
                        help=f"records per message, at most {MAX_BATCH_RECORDS} (default 100)")
    parser.set_defaults(handler=send)
