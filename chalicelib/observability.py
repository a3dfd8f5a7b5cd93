"""Powertools Logger, Metrics and Tracer, created once with the service name.

Metric names are the contract of the CloudWatch alarms and dashboard in ``infra/``;
dimensions stay low-cardinality (severity, team, level, channel, source — never an id)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = "complaints"
NAMESPACE = "ComplaintManagement"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE, patch_modules=["botocore"])  # X-Ray: AWS calls only


def count(name: str, value: float = 1, **dimensions: object) -> None:
    """Emit one metric now as its own EMF record, with its own dimensions."""
    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="service", value=SERVICE)
        for key, val in dimensions.items():
            metric.add_dimension(name=key, value=str(val))
