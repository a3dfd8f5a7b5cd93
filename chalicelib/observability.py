"""Powertools Logger and Metrics, created once with the service name, and the decorators that
``app.py`` puts on every handler as Chalice middleware.

Metric names are the contract of the CloudWatch alarms and dashboard in ``infra/``;
dimensions stay low-cardinality (severity, team, level, channel, source — never an id).

Personal data (the customer's phone, e-mail, push token, what they wrote) never goes into a
log line or a metric: the handlers' events are never logged (``log_event=False``, whatever
``POWERTOOLS_LOGGER_LOG_EVENT`` says), the code logs ids and error classes, not payloads.

No X-Ray SDK: traces come from Lambda active tracing and Step Functions' X-Ray tracing, both
switched on in the template (``infra/``). The SDK would cost every cold start ~1/3 of
``import boto3`` (it builds a sampler and two botocore clients when imported) and bring a
second botocore into the bundle; see bench/README.md (cold start).
"""

from __future__ import annotations

import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = "complaints"
NAMESPACE = "ComplaintManagement"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

# The handler decorators, for ``chalice.ConvertToMiddleware``: the Lambda context (request
# id, function name, cold start) on every log line of an invocation, the API Gateway request
# id as correlation id, and one metrics flush per invocation with the ColdStart metric.
api_logging = logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST,
                                           log_event=False, clear_state=True)
function_logging = logger.inject_lambda_context(log_event=False, clear_state=True)
metrics_flush = metrics.log_metrics(capture_cold_start_metric=True)
# count() writes every metric as its own EMF record (each with its own dimensions), so the
# shared Metrics object is empty at the end of most invocations; that is not a mistake.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def count(name: str, value: float = 1, **dimensions: object) -> None:
    """Emit one metric now as its own EMF record, with its own dimensions."""
    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="service", value=SERVICE)
        for key, val in dimensions.items():
            metric.add_dimension(name=key, value=str(val))


def error_fields(exc: BaseException) -> dict[str, Any]:
    """What a log line says about an error: its type and, for a validation error, the fields and
    what was wrong with each — never the values (they can be a customer's phone or e-mail) and
    never the message (pydantic's and botocore's quote the input)."""
    fields: dict[str, Any] = {"error": type(exc).__name__}
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            found = errors(include_input=False, include_url=False, include_context=False)
        except TypeError:  # an ``errors`` that is not pydantic's
            return fields
        fields["invalid"] = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('type')}" for e in found]
    return fields
