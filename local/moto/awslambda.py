"""moto's Docker-less Lambda backend runs the local system's Python handlers.

With ``use_docker: False`` moto's ``LambdaSimpleBackend.invoke`` only echoes the event. While
:func:`dispatching` is active it hands every invocation - Step Functions tasks, ``lambda.invoke``
over the API, the local pollers - to ``invoke`` (:meth:`local.lambda_dispatch.LambdaDispatcher.moto_invoke`).

The target is checked by ``tests/unit/test_moto_contract.py``; see ``docs/local-engine.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from local.moto._targets import Target

INVOKE = Target("moto.awslambda_simple.models.LambdaSimpleBackend", "invoke",
                "runs the registered Python handler instead of echoing the event",
                "(self, function_name, qualifier, body, headers, response_headers)")
GET_FUNCTION = Target("moto.awslambda.models.LambdaBackend", "get_function",
                      "the function being invoked (raises ResourceNotFound like AWS)",
                      "(self, function_name_or_arn, qualifier=None)")
TARGETS = (INVOKE, GET_FUNCTION)

Invoke = Callable[[Any, str, "str | None", Any, Any, dict[str, Any]], bytes]


def dispatching(invoke: Invoke) -> ExitStack:
    """``LambdaSimpleBackend.invoke(backend, function_name, qualifier, body, headers,
    response_headers)`` -> ``invoke(...)`` with the same arguments while the block runs."""

    def patched_invoke(backend: Any, function_name: str, qualifier: str | None, body: Any, headers: Any,
                       response_headers: dict[str, Any]) -> bytes:
        return invoke(backend, function_name, qualifier, body, headers, response_headers)

    stack = ExitStack()
    stack.enter_context(INVOKE.replaced_by(patched_invoke))
    return stack
