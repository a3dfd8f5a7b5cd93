"""Marketplace import (issue 4): one full 500-record SQS message through
``chalicelib.importer.import_batch``, in-process against moto.

    python -m bench.imports [--records 500] [--rounds 3]

The stack is the system's own (``infra.resources`` created through ``local.stack``, as the
local runtime does) in a plain ``mock_aws``: Step Functions records the executions without
running them, so the figures are the import handler's alone.

- records/s and AWS calls per record of ``import_batch`` (a message of fresh ids each round),
  against, in the same run and on the same tickets:
  (a) a naive baseline: one ``put_item`` + one ``start_execution`` per record;
  (b) the floor: one ``BatchWriteItem`` per 25 records + one ``StartExecution`` per complaint.
  Only the AWS calls of the baselines are timed (their records are mapped beforehand); the
  handler's time includes parsing, mapping and validating the 500 records.
- the same message delivered again: nothing is created (tickets and executions counted
  before and after), the calls it makes, and the report it writes; and an overlapping batch
  (same records, another batch id) for the report's ``duplicates``.
- peak memory of the handler for the message (tracemalloc), and of its pure-Python part.
- moto's own cost of one transaction on the table as it stands at the end, as shipped (it
  deep-copies the table per transaction item) against the item-level rollback the benchmarks
  use (``bench._support.cheap_transaction_rollback``).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from typing import Any

from bench._support import (
    REPO,
    CallCounter,
    MotoStack,
    app_clients,
    cheap_transaction_rollback,
    fmt,
    median,
    moto_stack,
    quiet,
    table,
    write_result,
)

NAME = "imports"
SAMPLE = REPO / "tests" / "data" / "imports" / "generic.json"
BATCH_WRITE_SIZE = 25
DEFAULT_RAISED_AT = "2026-11-22T07:00:00Z"


# -- the message ---------------------------------------------------------------------------------
def sample_records() -> list[dict[str, Any]]:
    """The shapes of the ``generic`` sample batch, made valid (the sample has one record with
    an unknown field and one without ``raised_at`` on purpose, to show rejections)."""
    records = json.loads(SAMPLE.read_text(encoding="utf-8"))["records"]
    valid = []
    for record in records:
        record = {k: v for k, v in record.items() if k != "priority"}
        record.setdefault("raised_at", DEFAULT_RAISED_AT)
        valid.append(record)
    return valid


def build_message(tag: str, records: int = 500, batch_id: str | None = None) -> str:
    """``records`` records cycling through the sample shapes, each with its own external id,
    customer and order."""
    shapes = sample_records()
    out = []
    for i in range(records):
        record = copy.deepcopy(shapes[i % len(shapes)])
        record.update(external_id=f"WS-{tag}-{i:06d}", customer_id=f"C-{tag}-{i:06d}", order_id=f"O-{tag}-{i:06d}")
        out.append(record)
    message = {"source": "generic", "batch_id": batch_id or f"bench-{tag}", "exported_at": "2026-11-22T08:00:00Z",
               "records": out}
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def mapped_items(body: str) -> list[tuple[str, dict[str, Any]]]:
    """(complaint id, ticket item) of every record, built with the app's own functions."""
    from chalicelib.adapters.store import ticket_item
    from chalicelib.clock import now
    from chalicelib.ids import imported_complaint_id
    from chalicelib.intake import new_ticket
    from chalicelib.marketplaces import map_record, parse_batch

    batch = parse_batch(body)
    items = []
    for index, raw in enumerate(batch.records):
        record = map_record(batch.source, index, raw)
        cid = imported_complaint_id(record.source, record.external_id)
        ticket = new_ticket(record.complaint, complaint_id=cid, received_by=f"import:{record.source}", at=now(),
                            source=record.source, external_id=record.external_id, batch_id=batch.batch_id,
                            raised_at=record.raised_at)
        items.append((cid, ticket_item(ticket)))
    return items


# -- the three paths -----------------------------------------------------------------------------
def run_handler(body: str) -> dict[str, Any]:
    from chalicelib import importer
    from chalicelib.bootstrap import services

    return importer.import_batch(services(), body)


def run_naive(stack: MotoStack, items: list[tuple[str, dict[str, Any]]]) -> None:
    ddb, sfn = app_clients("dynamodb", "stepfunctions")
    for cid, item in items:
        ddb.put_item(TableName=stack.table, Item=item, ConditionExpression="attribute_not_exists(pk)")
        sfn.start_execution(stateMachineArn=stack.state_machine_arn, name=cid, input=json.dumps({"complaint_id": cid}))


def run_floor(stack: MotoStack, items: list[tuple[str, dict[str, Any]]]) -> None:
    ddb, sfn = app_clients("dynamodb", "stepfunctions")
    for start in range(0, len(items), BATCH_WRITE_SIZE):
        requests = [{"PutRequest": {"Item": item}} for _, item in items[start:start + BATCH_WRITE_SIZE]]
        pending: dict[str, Any] = {stack.table: requests}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    for cid, _ in items:
        sfn.start_execution(stateMachineArn=stack.state_machine_arn, name=cid, input=json.dumps({"complaint_id": cid}))


def floor_calls(records: int) -> dict[str, int]:
    return {"dynamodb.BatchWriteItem": math.ceil(records / BATCH_WRITE_SIZE), "stepfunctions.StartExecution": records}


def _calls(counter: CallCounter) -> dict[str, int]:
    return {k.replace("sfn.", "stepfunctions.", 1): v for k, v in counter.snapshot().items()}


def _timed_calls(counter: CallCounter, action: Callable[[], Any]) -> tuple[float, dict[str, int], Any]:
    counter.reset()
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, _calls(counter), result


# -- counting what exists --------------------------------------------------------------------------
def census(stack: MotoStack, admin: dict[str, Any]) -> dict[str, int]:
    """Tickets in the table and executions of the lifecycle machine (not through the app's clients)."""
    tickets = sum(page["Count"] for page in admin["dynamodb"].get_paginator("scan").paginate(
        TableName=stack.table, Select="COUNT", FilterExpression="sk = :t", ExpressionAttributeValues={":t": {"S": "TICKET"}}))
    executions = 0
    for page in admin["stepfunctions"].get_paginator("list_executions").paginate(stateMachineArn=stack.state_machine_arn):
        executions += len(page["executions"])
    return {"tickets": tickets, "executions": executions}


def mark_triaged(stack: MotoStack, admin: dict[str, Any], items: list[tuple[str, dict[str, Any]]]) -> None:
    """What the running workflows do to the tickets within seconds: leave ``received``."""
    for cid, _ in items:
        admin["dynamodb"].update_item(TableName=stack.table, Key={"pk": {"S": f"C#{cid}"}, "sk": {"S": "TICKET"}},
                                      UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"},
                                      ExpressionAttributeValues={":s": {"S": "awaiting_contact"}})


# -- memory ------------------------------------------------------------------------------------------
def peak_memory(action: Callable[[], Any]) -> dict[str, float]:
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        action()
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {"peak_mib": (peak - before) / 2**20, "retained_mib": (after - before) / 2**20}


# -- moto's transaction cost ------------------------------------------------------------------------
def transaction_cost(stack: MotoStack, items: int = 3) -> dict[str, Any]:
    """One ``TransactWriteItems`` of ``items`` new items (a lifecycle step's save: the ticket
    and its events) on the table as it stands, with moto as shipped and with the item-level
    rollback; and one ``put_item`` for scale."""
    import boto3

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    size = ddb.describe_table(TableName=stack.table)["Table"]["ItemCount"]

    def transact(tag: str) -> float:
        puts = [{"Put": {"TableName": stack.table, "Item": {"pk": {"S": f"BENCH#{tag}"}, "sk": {"S": f"EV#{i}"}},
                         "ConditionExpression": "attribute_not_exists(pk)"}} for i in range(items)]
        start = time.perf_counter()
        ddb.transact_write_items(TransactItems=puts)
        return time.perf_counter() - start

    as_shipped = transact("shipped")
    with cheap_transaction_rollback():
        item_level = median([transact(f"cheap-{i}") for i in range(3)])
    start = time.perf_counter()
    ddb.put_item(TableName=stack.table, Item={"pk": {"S": "BENCH#put"}, "sk": {"S": "X"}})
    put = time.perf_counter() - start
    return {"table_items": size, "transaction_items": items, "as_shipped_s": as_shipped,
            "item_level_rollback_s": item_level, "put_item_s": put,
            "ratio_as_shipped_to_item_level": as_shipped / item_level if item_level else float("nan")}


# -- the benchmark ------------------------------------------------------------------------------------
def run(records: int = 500, rounds: int = 3) -> dict[str, Any]:
    import boto3

    with quiet(), moto_stack() as stack:
        admin = {s: boto3.client(s, region_name="us-east-1") for s in ("dynamodb", "stepfunctions")}
        with cheap_transaction_rollback():
            counter = CallCounter().attach(*app_clients("dynamodb", "stepfunctions", "sns", "ses"))
            run_handler(build_message("WARMUP", 20))  # first use of the clients and models

            walls: dict[str, list[float]] = {"import_batch": [], "naive": [], "floor": []}
            calls: dict[str, dict[str, int]] = {}
            reports: list[dict[str, Any]] = []
            message = ""
            for r in range(rounds):  # interleaved, fresh ids for every path and round
                message = build_message(f"I{r}", records)
                wall, calls["import_batch"], report = _timed_calls(counter, partial(run_handler, message))
                walls["import_batch"].append(wall)
                reports.append(report)
                naive_items, floor_items = mapped_items(build_message(f"N{r}", records)), mapped_items(build_message(f"F{r}", records))
                wall, calls["naive"], _ = _timed_calls(counter, partial(run_naive, stack, naive_items))
                walls["naive"].append(wall)
                wall, calls["floor"], _ = _timed_calls(counter, partial(run_floor, stack, floor_items))
                walls["floor"].append(wall)
            rps = {k: records / median(v) for k, v in walls.items()}
            per_record = {k: sum(v.values()) / records for k, v in calls.items()}

            # the last message again: SQS redelivers it (the workflows have not moved yet) ...
            before = census(stack, admin)
            wall, redelivery_calls, redelivery_report = _timed_calls(counter, lambda: run_handler(message))
            after = census(stack, admin)
            # ... and later, once the workflows have triaged the complaints
            mark_triaged(stack, admin, mapped_items(message))
            wall_late, late_calls, _ = _timed_calls(counter, lambda: run_handler(message))
            after_late = census(stack, admin)
            # the same records in another batch (an exporter re-sending them)
            overlap = json.loads(message)
            overlap["batch_id"] += "-resent"
            _, overlap_calls, overlap_report = _timed_calls(counter, lambda: run_handler(json.dumps(overlap, ensure_ascii=False)))

            counter.detach()
            fresh = build_message("MEM", records)
            memory = peak_memory(lambda: run_handler(fresh))
            memory_mapping = peak_memory(lambda: mapped_items(build_message("MEM2", records)))
        moto_transactions = transaction_cost(stack)

    floor = floor_calls(records)
    first = reports[-1]
    return {
        "records": records,
        "rounds": rounds,
        "message_bytes": len(message.encode()),
        "records_per_s": rps,
        "ratio_import_to_naive": rps["import_batch"] / rps["naive"],
        "ratio_import_to_floor": rps["import_batch"] / rps["floor"],
        "walls_s": walls,
        "calls": {**calls, "floor_computed": floor},
        "calls_per_record": {**per_record, "floor_computed": sum(floor.values()) / records},
        "first_delivery_report": {k: v for k, v in first.items() if k != "rejected"} | {"rejected": len(first["rejected"])},
        "second_delivery": {
            "while_received": {"wall_s": wall, "calls": redelivery_calls, "calls_total": sum(redelivery_calls.values()),
                               "created_tickets": after["tickets"] - before["tickets"],
                               "created_executions": after["executions"] - before["executions"],
                               "report": {k: redelivery_report[k] for k in ("received", "created", "duplicates")}},
            "after_triage": {"wall_s": wall_late, "calls": late_calls, "calls_total": sum(late_calls.values()),
                             "created_tickets": after_late["tickets"] - after["tickets"],
                             "created_executions": after_late["executions"] - after["executions"]},
            "overlapping_batch": {"calls": overlap_calls, "calls_total": sum(overlap_calls.values()),
                                  "report": {k: overlap_report[k] for k in ("received", "created", "duplicates")}},
        },
        "memory": {"handler": memory, "parse_and_map_only": memory_mapping, "lambda_memory_mb": 1024},
        "moto_transaction": moto_transactions,
    }


def report(result: dict[str, Any]) -> str:
    n = result["records"]
    lines = [f"== imports: one {n}-record generic message ({result['message_bytes'] / 1024:.0f} KiB), "
             f"in-process on moto, median of {result['rounds']}"]
    rows = []
    for path in ("import_batch", "naive", "floor"):
        calls = result["calls"][path]
        rows.append([path, fmt(result["records_per_s"][path], 0), fmt(result["records_per_s"][path] / result["records_per_s"]["naive"], 2),
                     fmt(result["calls_per_record"][path], 3), ", ".join(f"{k} {v}" for k, v in calls.items())])
    floor = result["calls"]["floor_computed"]
    rows.append(["floor (computed)", "", "", fmt(result["calls_per_record"]["floor_computed"], 3),
                 ", ".join(f"{k} {v}" for k, v in floor.items())])
    lines.append(table(rows, ["path", "records/s", "x naive", "calls/record", "calls"]))
    lines.append(f"  import_batch / naive = {fmt(result['ratio_import_to_naive'])}   "
                 f"import_batch / floor = {fmt(result['ratio_import_to_floor'])} (records/s)")
    first = result["first_delivery_report"]
    lines.append(f"  first delivery report: received {first['received']}, created {first['created']}, "
                 f"duplicates {first['duplicates']}, rejected {first['rejected']}")
    second = result["second_delivery"]
    w = second["while_received"]
    lines.append(f"  second delivery (workflows not started yet): new tickets {w['created_tickets']}, new executions "
                 f"{w['created_executions']}, {w['calls_total']} calls {w['calls']}, report {w['report']}")
    late = second["after_triage"]
    lines.append(f"  second delivery (after triage): new tickets {late['created_tickets']}, new executions "
                 f"{late['created_executions']}, {late['calls_total']} calls {late['calls']}")
    over = second["overlapping_batch"]
    lines.append(f"  same records, another batch id: {over['calls_total']} calls, report {over['report']}")
    mem = result["memory"]
    lines.append(f"  memory (tracemalloc): handler peak {fmt(mem['handler']['peak_mib'], 1)} MiB "
                 f"(retained {fmt(mem['handler']['retained_mib'], 1)} MiB, moto's copy of the data), parse+map only "
                 f"{fmt(mem['parse_and_map_only']['peak_mib'], 1)} MiB; the function has {mem['lambda_memory_mb']} MB")
    moto = result["moto_transaction"]
    lines.append(f"  moto artefact: one {moto['transaction_items']}-item TransactWriteItems on a table of "
                 f"{moto['table_items']} items takes {fmt(moto['as_shipped_s'] * 1000, 0)} ms as shipped, "
                 f"{fmt(moto['item_level_rollback_s'] * 1000, 1)} ms with an item-level rollback "
                 f"({fmt(moto['ratio_as_shipped_to_item_level'], 0)} x); one put_item {fmt(moto['put_item_s'] * 1000, 1)} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    result = run(args.records, args.rounds)
    print(report(result))
    print(f"\nwritten: {write_result(NAME, result).relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
