"""The SQS event source mapping, honoured locally the way Lambda's poller does it.

moto 5.2.5 has its own delivery, but it is not Lambda's: it invokes the function in the
*sender's* thread, inside ``send_message``, one message per invocation, ignores
``batchItemFailures``, and on a failure makes the message visible again without anyone
receiving it until the next send. The local system detaches moto's push delivery from the
queue (see :mod:`local.stack`) and runs this poller instead:

* long-poll (``WaitTimeSeconds``, as Lambda's pollers do: an idle queue costs one receive a
  second, and a new message is picked up the moment it is sent), receive up to
  ``BatchSize`` (<= 10) messages, invoke the function once with a real SQS event (``Records`` with ``messageId``, ``receiptHandle``, ``attributes``, ...);
* function error -> nothing deleted, the whole batch reappears after the visibility timeout;
* success with ``ReportBatchItemFailures`` -> delete every record not listed in
  ``batchItemFailures``; an identifier that is not in the batch fails the whole batch (as on
  AWS); without it -> delete the whole batch;
* moto's redrive policy moves a message to the DLQ on the receive after ``maxReceiveCount``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from local.background import BackgroundLoop

LOG = logging.getLogger(__name__)

LONG_POLL_SECONDS = 1  # WaitTimeSeconds of each receive: bounds how long stop() waits for the thread
DISABLED_POLL_SECONDS = 0.5  # how often a disabled mapping looks again; stop() interrupts it at once
ERROR_BACKOFF_SECONDS = 1.0


def lambda_sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda's SQS poller passes to the function for ``messages`` (receive_message
    output with ``AttributeNames=["All"]`` and ``MessageAttributeNames=["All"]``)."""
    records = []
    for message in messages:
        attributes = {
            key: value
            for key, value in message.get("Attributes", {}).items()
            if key
            in {
                "ApproximateReceiveCount",
                "SentTimestamp",
                "SenderId",
                "ApproximateFirstReceiveTimestamp",
                "MessageGroupId",
                "MessageDeduplicationId",
                "SequenceNumber",
                "AWSTraceHeader",
            }
        }
        message_attributes = {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": value.get("StringListValues", []),
                "binaryListValues": value.get("BinaryListValues", []),
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        }
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": attributes,
                "messageAttributes": message_attributes,
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def failed_message_ids(
    messages: list[dict[str, Any]], function_error: bool, payload: Any, report_item_failures: bool
) -> set[str]:
    """Ids of the messages of the batch that must stay on the queue."""
    all_ids = {m["MessageId"] for m in messages}
    if function_error:
        return all_ids
    if not report_item_failures or not isinstance(payload, dict):
        return set()
    failures = payload.get("batchItemFailures") or []
    if not isinstance(failures, list):
        return all_ids
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in all_ids:
            return all_ids  # AWS: an invalid response fails the whole batch
        failed.add(identifier)
    return failed


class SqsEventSourcePoller(BackgroundLoop):
    """One thread per mapping: receive -> invoke -> delete what succeeded."""

    def __init__(
        self,
        *,
        sqs: Any,
        lambda_client: Any,
        queue_url: str,
        queue_arn: str,
        function_name: str,
        region: str,
        batch_size: int = 10,
        report_item_failures: bool = True,
        is_enabled: Callable[[], bool] = lambda: True,
        wait_seconds: int = LONG_POLL_SECONDS,
    ) -> None:
        self._sqs = sqs
        self._lambda = lambda_client
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.function_name = function_name
        self._region = region
        self._batch_size = max(1, min(int(batch_size), 10))
        self._report_item_failures = report_item_failures
        self._is_enabled = is_enabled
        self._wait_seconds = max(0, min(int(wait_seconds), 20))
        super().__init__(f"sqs-poller-{function_name}")

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._is_enabled():
                self._stop.wait(DISABLED_POLL_SECONDS)
                continue
            try:
                self.poll_once()  # an empty receive has waited for messages already
            except Exception:
                LOG.exception("SQS poller for %s failed; retrying", self.function_name)
                self._stop.wait(ERROR_BACKOFF_SECONDS)

    def poll_once(self) -> int:
        """Receive one batch (waiting up to ``wait_seconds`` for one) and hand it to the
        function; returns the number of messages."""
        response = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self._batch_size,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=self._wait_seconds,
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        if not messages:
            return 0
        event = lambda_sqs_event(messages, self.queue_arn, self._region)
        result = self._lambda.invoke(FunctionName=self.function_name, Payload=json.dumps(event).encode())
        raw = result["Payload"].read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        failed = failed_message_ids(messages, "FunctionError" in result, payload, self._report_item_failures)
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        if failed:
            LOG.info("%s: %d of %d messages left for redelivery", self.function_name, len(failed), len(messages))
        return len(messages)
