"""Every patch that turns moto into the local system's engine, one module per service.

=====================  =================================================================
``core``               request dispatch without per-request reflection and global lock
``stepfunctions``      scaled timers, one thread per waiting execution, parsed definitions
                       cached, clients shared, JSONPath memoized, StopExecution that stops
``dynamodb``           serialized requests, item-level transactions, stream shards,
                       Queries through an index, observed Puts (the console's timeline)
``sqs``                scaled visibility timeouts and delays, push delivery detached
``s3``                 a presigned POST's ``tagging`` field tags the object
``awslambda``          invocations run the registered Python handlers
``cloudformation``     a stack's state machine in the executing backend, substitutions applied
``logs``               moto's and werkzeug's noise kept off the console
=====================  =================================================================

Each patch is a context manager: installed on enter, removed on exit, so nothing outlives
the :class:`~local.runtime.LocalSystem` (or test) that needed it. :func:`engine` is the set the
local system runs with. Every moto attribute a patch touches is a :class:`Target` in its
module's ``TARGETS``; ``tests/unit/test_moto_contract.py`` checks them all against the pinned
:data:`MOTO_VERSION`. ``docs/local-engine.md`` says what each patch does and why.
"""

from __future__ import annotations

from contextlib import ExitStack

from local.moto import awslambda, cloudformation, core, dynamodb, logs, s3, sqs, stepfunctions
from local.moto._targets import Target
from local.timescale import TimeScale

MOTO_VERSION = "5.2.5"  # every Target was read from this version (requirements-dev.txt pins it)

TARGETS: tuple[Target, ...] = (
    *core.TARGETS,
    *stepfunctions.TARGETS,
    *dynamodb.TARGETS,
    *sqs.TARGETS,
    *s3.TARGETS,
    *awslambda.TARGETS,
    *cloudformation.TARGETS,
)


def engine(clock: TimeScale) -> ExitStack:
    """Every patch the local system runs with (the Lambda dispatcher installs its own,
    :func:`local.moto.awslambda.dispatching`)."""
    stack = ExitStack()
    try:
        stack.enter_context(core.patched())
        stack.enter_context(stepfunctions.patched(clock))
        stack.enter_context(sqs.scaled(clock))
        stack.enter_context(s3.tagged_posts())
        stack.enter_context(dynamodb.patched())
        stack.enter_context(cloudformation.state_machines())
        stack.enter_context(logs.quiet())
    except BaseException:
        stack.close()
        raise
    return stack


__all__ = [
    "MOTO_VERSION", "TARGETS", "Target", "awslambda", "cloudformation", "core", "dynamodb", "engine", "logs", "s3", "sqs",
    "stepfunctions",
]
