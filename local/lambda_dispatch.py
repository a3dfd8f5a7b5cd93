"""Lambda invocations -> in-process Python handlers.

moto's Docker-less Lambda backend (``LambdaSimpleBackend.invoke``) only echoes. While
:meth:`LambdaDispatcher.installed` is active (``local.moto.awslambda.dispatching``) it runs the
handler registered for the function instead, for every caller: Step Functions tasks (``lambda:invoke``, legacy ARN resources,
``.waitForTaskToken``), ``lambda.invoke`` over the API, and the SQS poller. A handler error
answers the way Lambda does (``X-Amz-Function-Error`` + ``{"errorType", "errorMessage"}``)
so ASL ``Retry``/``Catch`` match it by exception class name.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from local.moto import awslambda

LOG = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Any]


@dataclass
class LambdaContext:
    """What a Python Lambda handler gets as ``context`` (the fields handlers actually use)."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 128
    timeout_s: float = 60.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class Invocation:
    """One finished invocation, as listeners (the event printer) see it."""

    function_name: str
    event: Any
    result: Any = None
    error_type: str | None = None
    error_message: str | None = None
    exception: BaseException | None = field(default=None, repr=False, compare=False)


Listener = Callable[[Invocation], None]


def _function_error(exc: BaseException, context: LambdaContext) -> dict[str, Any]:
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "requestId": context.aws_request_id,
        "stackTrace": traceback.format_tb(exc.__traceback__.tb_next if exc.__traceback__ else None),
    }


class LambdaDispatcher:
    """Function name -> Python handler, plus the patch that makes moto call them."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._listeners: list[Listener] = []
        self._async_pool: ThreadPoolExecutor | None = None

    def register(self, function_name: str, handler: Handler) -> None:
        self._handlers[function_name] = handler

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    @property
    def function_names(self) -> list[str]:
        return sorted(self._handlers)

    def invoke_local(self, function_name: str, event: Any, context: LambdaContext) -> Invocation:
        """Run the handler of ``function_name`` on ``event`` and tell the listeners."""
        handler = self._handlers.get(function_name)
        if handler is None:
            outcome = Invocation(
                function_name, event, error_type="Runtime.HandlerNotFound",
                error_message=f"no local handler registered for {function_name}",
            )
        else:
            try:
                outcome = Invocation(function_name, event, result=handler(event, context))
            except Exception as exc:  # a handler error is an answer, not a crash
                LOG.info("%s raised %s: %s", function_name, type(exc).__name__, exc, exc_info=True)
                outcome = Invocation(
                    function_name, event, error_type=type(exc).__name__, error_message=str(exc), exception=exc
                )
        for listener in self._listeners:
            try:
                listener(outcome)
            except Exception:  # a broken printer must never break the system
                LOG.exception("invocation listener failed")
        return outcome

    def moto_invoke(
        self,
        backend: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: dict[str, Any],
    ) -> bytes:
        fn = backend.get_function(function_name, qualifier)  # raises ResourceNotFound like AWS
        event = json.loads(body) if body else {}
        context = LambdaContext(
            function_name=fn.function_name,
            invoked_function_arn=fn.function_arn,
            memory_limit_in_mb=int(fn.memory_size or 128),
            timeout_s=float(fn.timeout or 3),
        )
        response_headers["x-amz-executed-version"] = "$LATEST"
        if (headers or {}).get("X-Amz-Invocation-Type") == "Event" and self._async_pool is not None:
            self._async_pool.submit(self.invoke_local, fn.function_name, event, context)
            return b""
        outcome = self.invoke_local(fn.function_name, event, context)
        if outcome.error_type is not None:
            response_headers["x-amz-function-error"] = "Unhandled"
            payload = (
                _function_error(outcome.exception, context)
                if outcome.exception is not None
                else {"errorType": outcome.error_type, "errorMessage": outcome.error_message}
            )
            return json.dumps(payload).encode()
        try:
            return json.dumps(outcome.result).encode()
        except (TypeError, ValueError) as exc:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": "Runtime.MarshalError", "errorMessage": str(exc)}).encode()

    @contextmanager
    def installed(self) -> Iterator[LambdaDispatcher]:
        """moto's Docker-less Lambda backend dispatches here while the block runs."""
        self._async_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lambda-async")
        try:
            with awslambda.dispatching(self.moto_invoke):
                yield self
        finally:
            self._async_pool.shutdown(wait=True, cancel_futures=True)
            self._async_pool = None
