"""moto's SQS as the local system needs it: scaled visibility timeouts and delays, and queues
whose Lambda mapping is left to the local poller (``local/sqs_poller.py``).

The targets are checked by ``tests/unit/test_moto_contract.py``; see ``docs/local-engine.md``.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from moto.core.utils import unix_time_millis

from local.moto._targets import Target
from local.timescale import TimeScale

# A scaled visibility timeout or delay is never shorter than this (docs/local-engine.md).
MIN_REAL_SECONDS = 1.0

CHANGE_VISIBILITY = Target("moto.sqs.models.Message", "change_visibility",
                           "visibility timeouts last seconds / scale (at least 1 s)", "(self, visibility_timeout)")
DELAY = Target("moto.sqs.models.Message", "delay", "delays last seconds / scale (at least 1 s)", "(self, delay_seconds)")
GET_QUEUE = Target("moto.sqs.models.SQSBackend", "get_queue",
                   "the queue whose lambda_event_source_mappings are detached from moto's push delivery",
                   "(self, queue_name)")
TARGETS = (CHANGE_VISIBILITY, DELAY, GET_QUEUE)


def real_millis(clock: TimeScale, seconds: float) -> float:
    """Wall-clock milliseconds a (simulated) SQS timer of ``seconds`` lasts."""
    if not seconds or float(seconds) <= 0:
        return 0.0
    return max(float(seconds) / clock.scale, MIN_REAL_SECONDS) * 1000


def scaled(clock: TimeScale) -> ExitStack:
    """Visibility timeouts and delays of every queue last ``seconds / scale`` (min 1 s)."""

    def change_visibility(self: Any, visibility_timeout: int) -> None:
        self.visible_at = unix_time_millis() + real_millis(clock, visibility_timeout)

    def delay(self: Any, delay_seconds: int) -> None:
        self.delayed_until = unix_time_millis() + real_millis(clock, delay_seconds)

    stack = ExitStack()
    stack.enter_context(CHANGE_VISIBILITY.replaced_by(change_visibility))
    stack.enter_context(DELAY.replaced_by(delay))
    return stack


def detach_push_delivery(account_id: str, region: str, queue_url: str, function_arn: str) -> None:
    """Take ``function_arn``'s event source mapping off moto's queue object.

    moto 5.2.5 delivers to a mapped function itself, inside ``send_message`` (the sender's
    thread, one message per invocation, ``batchItemFailures`` ignored): the local poller does
    what Lambda does instead, so moto must not. The mapping itself stays (the API lists it,
    and the poller honours its ``Enabled``)."""
    from moto.sqs.models import sqs_backends

    queue = sqs_backends[account_id][region].get_queue(queue_url.rsplit("/", 1)[-1])
    queue.lambda_event_source_mappings.pop(function_arn, None)
