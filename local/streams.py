"""DynamoDB stream event source mappings, honoured locally the way Lambda's poller does it.

The app's ``on_dynamodb_record`` handlers (the ``analytics`` function) read the tickets
table's stream. moto 5.2.5 keeps the stream (``dynamodbstreams`` ``GetShardIterator`` /
``GetRecords`` work), but its own delivery to a mapping runs the function inside the writer's
call and then empties the shard - which restarts the sequence numbers. So no mapping is
registered with moto's table; one poller thread per mapping does what Lambda does:

* read the records past its checkpoint, straight from moto's shard (or with
  ``GetShardIterator`` / ``GetRecords``), at most 4 times a second like Lambda, and not at
  all while nothing is added;
* keep only the records the template's ``FilterCriteria`` of that function lets through
  (``infra.template.STREAM_MAPPINGS``: ticket items for ``analytics``, new timeline items for
  ``integration``);
* invoke the function with batches of ``BatchSize`` records in Lambda's event shape;
* a function error retries the batch (back-off, then skipped after the mapping's
  ``MaximumRetryAttempts``; -1: never skipped); ``batchItemFailures`` resumes from the lowest
  failed record, so the records after it wait and come again in order;
* a record leaves moto's shard only once every mapping has handled it (:class:`Checkpoints`).

The shard itself - contiguous sequence numbers under concurrent writers, delivered records
forgotten, no records left by a cancelled transaction, a poller woken by every new record - is
patched in :mod:`local.moto.dynamodb` (``stream_shards``, ``transactions``). An idle poller
sleeps until a record is added (no polling loop).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from typing import Any

from chalice.app import DynamoDBEventConfig
from moto.dynamodb.models.table import StreamShard

from local.background import BackgroundLoop
from local.moto import dynamodb

LOG = logging.getLogger(__name__)

# Lambda reads a DynamoDB stream shard 4 times a second: the records written in between come
# in one batch. An idle poller sleeps until a record is added (or IDLE_WAIT_SECONDS pass).
POLL_INTERVAL_SECONDS = 0.25
IDLE_WAIT_SECONDS = 1.0
MAX_RETRIES = 20
RETRY_BACKOFF_SECONDS = 0.2
READ_LIMIT = 1000


# --- the poller ---------------------------------------------------------------------------------
def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"not JSON: {type(value).__name__}")


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A ``GetRecords`` record as Lambda hands it to a function."""
    data = dict(record["dynamodb"])
    created = data.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        data["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": data, "eventSourceARN": stream_arn}


def matches(pattern: Any, value: Any) -> bool:
    """Lambda's event filtering, as far as the template's patterns use it: nested keys, a list
    of allowed values, ``{"prefix": ...}``."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(matches(p, value.get(k)) for k, p in pattern.items())
    if isinstance(pattern, list):
        return any(p == value or (isinstance(p, dict) and isinstance(value, str) and "prefix" in p
                                  and value.startswith(p["prefix"])) for p in pattern)
    return bool(pattern == value)


class Checkpoints:
    """The mappings of one shard: a record is trimmed from it once all of them are past it."""

    def __init__(self, shard: Callable[[], StreamShard | None]) -> None:
        self._shard = shard
        self._after: dict[str, int] = {}
        self._lock = threading.Lock()

    def register(self, name: str) -> None:
        with self._lock:
            self._after.setdefault(name, -1)

    def advance(self, name: str, sequence: int) -> None:
        with self._lock:
            self._after[name] = sequence
            lowest = min(self._after.values())
        shard = self._shard()
        if shard is not None and lowest >= 0:
            dynamodb.trim(shard, lowest)


class DynamoDBStreamPoller(BackgroundLoop):
    """One thread per mapping: read the shard -> invoke the function -> move on."""

    def __init__(
        self,
        *,
        streams: Any,
        lambda_client: Any,
        stream_arn: str,
        function_name: str,
        batch_size: int = 100,
        shard: Callable[[], StreamShard | None] = lambda: None,
        filter_pattern: dict[str, Any] | None = None,
        max_retries: int = MAX_RETRIES,
        checkpoints: Checkpoints | None = None,
    ) -> None:
        self._streams = streams
        self._lambda = lambda_client
        self.stream_arn = stream_arn
        self.function_name = function_name
        self._batch_size = max(1, min(int(batch_size), 10_000))
        self._shard = shard
        self._after: str | None = None  # sequence number of the last record handled
        self._shard_id: str | None = None
        self._attempts = 0
        self._filter = filter_pattern or {}
        self._max_retries = max_retries  # -1: retried until it succeeds
        self._checkpoints = checkpoints or Checkpoints(shard)
        self._checkpoints.register(function_name)
        self._idle = threading.Event()
        super().__init__(f"stream-poller-{function_name}")

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Until a poll found nothing new (tests, demo: "the aggregates have caught up")."""
        self._idle.clear()
        return self._idle.wait(timeout)

    def describe(self) -> str:
        """Where the poller stands (a test that waits on it says so when it gives up)."""
        shard = self._shard()
        last = dynamodb.last_sequence(shard) if shard is not None else None
        return (f"{self.function_name}: handled up to {self._after}, shard ends at {last}, "
                f"{self._attempts} failed attempts of the current batch, thread alive: {self._thread.is_alive()}")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.poll_once():
                    self._idle.set()
                    self._sleep_until_a_record()
            except Exception:
                LOG.exception("stream poller for %s failed; retrying", self.function_name)
                self._stop.wait(1.0)
                continue
            self._stop.wait(POLL_INTERVAL_SECONDS)  # what came meanwhile is one batch, as on AWS

    def _sleep_until_a_record(self) -> None:
        """Until the shard has a record past the checkpoint, ``stop()``, or IDLE_WAIT_SECONDS."""
        shard = self._shard()
        with dynamodb.records_added:
            if self._stop.is_set() or (shard is not None and self._has_new(shard)):
                return
            dynamodb.records_added.wait(IDLE_WAIT_SECONDS)

    def _has_new(self, shard: StreamShard) -> bool:
        start = shard.starting_sequence_number if self._after is None else int(self._after) + 1
        return dynamodb.last_sequence(shard) >= start

    def request_stop(self) -> None:
        super().request_stop()
        with dynamodb.records_added:  # wake it if it sleeps
            dynamodb.records_added.notify_all()

    def _read(self, shard: StreamShard | None) -> list[dict[str, Any]]:
        """The records past the checkpoint: straight from moto's shard when the poller has it
        (moto's GetRecords response serializer costs more than the function it feeds), else
        with ``GetShardIterator`` + ``GetRecords``."""
        if shard is not None:
            start = shard.starting_sequence_number if self._after is None else int(self._after) + 1
            return dynamodb.records(shard, start, READ_LIMIT)
        records: list[dict[str, Any]] = self._streams.get_records(ShardIterator=self._iterator(), Limit=READ_LIMIT)["Records"]
        return records

    def _iterator(self) -> str:
        if self._shard_id is None:
            self._shard_id = self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": self._shard_id}
        if self._after is None:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=self._after)
        iterator = str(self._streams.get_shard_iterator(**kwargs)["ShardIterator"])
        self._forget_iterators()
        return iterator

    def _forget_iterators(self) -> None:
        """moto keeps every shard iterator it ever handed out: drop all but the newest few."""
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        region, account = self.stream_arn.split(":")[3], self.stream_arn.split(":")[4]
        iterators = dynamodbstreams_backends[account][region].shard_iterators
        for key in list(iterators)[:-4]:
            iterators.pop(key, None)

    def poll_once(self) -> int:
        """Deliver what the shard holds past the last record handled; returns how many records
        were read (0: nothing new)."""
        shard = self._shard()
        if shard is not None and not self._has_new(shard):
            return 0  # nothing new: no API calls while idle (they cost the writers CPU)
        records = self._read(shard)
        if not records:
            return 0
        wanted = [r for r in records if matches(self._filter, r)]
        for start in range(0, len(wanted), self._batch_size):
            batch = wanted[start:start + self._batch_size]
            if self._deliver(batch) < len(batch):
                return len(records)  # the rest comes again from the checkpoint
        self._advance(records[-1])  # past the records filtered out too
        return len(records)

    def _advance(self, record: dict[str, Any]) -> None:
        self._after = str(record["dynamodb"]["SequenceNumber"])
        self._checkpoints.advance(self.function_name, int(self._after))

    def _deliver(self, batch: list[dict[str, Any]]) -> int:
        """Invoke the function; returns how many records of the batch are done with."""
        event = {"Records": [lambda_record(r, self.stream_arn) for r in batch]}
        result = self._lambda.invoke(FunctionName=self.function_name, Payload=json.dumps(event, default=_json_default).encode())
        raw = result["Payload"].read()
        failed_at = 0 if "FunctionError" in result else _first_failure(batch, raw)
        if failed_at is None:
            self._attempts = 0
            self._advance(batch[-1])
            return len(batch)
        self._attempts += 1
        if 0 <= self._max_retries < self._attempts:
            LOG.error("%s: giving up on %d stream records after %d attempts", self.function_name, len(batch) - failed_at,
                      self._max_retries)
            self._attempts = 0
            self._advance(batch[-1])
            return len(batch)
        if failed_at:
            self._advance(batch[failed_at - 1])
        LOG.info("%s: stream records from #%d of the batch left for redelivery", self.function_name, failed_at)
        self._stop.wait(min(2.0, RETRY_BACKOFF_SECONDS * self._attempts))
        return failed_at


def _first_failure(batch: list[dict[str, Any]], raw: bytes) -> int | None:
    """Index of the first record to redeliver (``batchItemFailures``), None if all succeeded."""
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        return None
    failures = payload.get("batchItemFailures") if isinstance(payload, dict) else None
    if not failures:
        return None
    sequences = [str(r["dynamodb"]["SequenceNumber"]) for r in batch]
    positions = [sequences.index(str(f.get("itemIdentifier"))) for f in failures
                 if isinstance(f, dict) and str(f.get("itemIdentifier")) in sequences]
    return min(positions) if len(positions) == len(failures) else 0  # an unknown id fails the whole batch


# --- wiring -------------------------------------------------------------------------------------
def streams_client(region: str) -> Any:
    """A DynamoDB Streams client in process. botocore 1.44 sends DescribeStream/GetRecords to
    the account endpoint ``<account>.streams-ddb.<region>.amazonaws.com``, which moto 5.2.5
    routes to DynamoDB ("Not yet implemented"): name the regional endpoint."""
    import boto3
    from botocore.config import Config

    return boto3.client("dynamodbstreams", region_name=region, endpoint_url=f"https://streams.dynamodb.{region}.amazonaws.com",
                        config=Config(retries={"total_max_attempts": 1}))


@contextmanager
def event_sources(system: Any) -> Iterator[list[DynamoDBStreamPoller]]:
    """The app's ``on_dynamodb_record`` handlers, each fed the tickets table's stream (the
    only stream of the system) by its own poller, while the block runs."""
    from moto.dynamodb.models import dynamodb_backends

    from infra.template import STREAM_MAPPINGS
    from local.stack import REGION

    configs = [s for s in system.app.event_sources if isinstance(s, DynamoDBEventConfig)]
    pollers: list[DynamoDBStreamPoller] = []
    with ExitStack() as stack:
        if configs:
            table_name = system.resources["TicketsTable"]
            ddb = system.client("dynamodb", in_process=True)
            stream_arn = ddb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
            lambda_client = system.client("lambda", in_process=True)
            function_arn = {f["FunctionName"]: f["FunctionArn"] for f in lambda_client.list_functions()["Functions"]}

            def shard() -> StreamShard | None:
                return dynamodb_backends[system.account_id][REGION].get_table(table_name).stream_shard

            checkpoints = Checkpoints(shard)
            for config in configs:
                function_name = f"complaints-{system.stage}-{config.name}"
                mapping = STREAM_MAPPINGS.get(config.name, {})
                if function_name not in function_arn:
                    raise RuntimeError(f"stream handler {config.name}: no function {function_name}")
                poller = DynamoDBStreamPoller(
                    streams=streams_client(REGION),
                    lambda_client=lambda_client,
                    stream_arn=stream_arn,
                    function_name=function_name,
                    batch_size=config.batch_size,
                    shard=shard,
                    filter_pattern=mapping.get("filter"),
                    max_retries=int(mapping.get("max_retries", MAX_RETRIES)),
                    checkpoints=checkpoints,
                )
                poller.start()
                stack.callback(poller.stop)
                pollers.append(poller)
        yield pollers
