"""All configuration, read from the environment in one place, once, lazily.

Lambda gets these variables from the deployment template (`infra/`); the local system sets
them before it imports the app. Nothing else in the code base reads ``os.environ``.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Chalice binds the SQS handler to a queue name at import time; the template uses the same.
IMPORT_QUEUE_NAME = "complaints-import"
# Receives of an import message before its queue's redrive policy dead-letters it (the
# template's RedrivePolicy; the import handler counts the last one as dead-lettered).
IMPORT_MAX_RECEIVE_COUNT = 5
# How long before intake a complaint may have been raised (an imported record's raised_at):
# older records are rejected with the reason in the import report (docs/import.md), so no
# clock starts years overdue. Later than intake (plus clock skew) is rejected too.
RAISED_AT_HORIZON = timedelta(days=30)
RAISED_AT_SKEW = timedelta(minutes=5)
# Replaced by the user pool's ARN in the deployment template (infra/).
USER_POOL_ARN_PLACEHOLDER = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_placeholder"
# Chalice binds the stream handler at import time; the deployment template replaces this ARN
# with the tickets table's stream (infra.template), the local system reads that stream itself.
STREAM_ARN_PLACEHOLDER = "arn:aws:dynamodb:us-east-1:000000000000:table/complaints-tickets/stream/placeholder"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: str = "dev"
    table_name: str = "complaints-dev-tickets"
    idempotency_table_name: str = "complaints-dev-idempotency"
    orders_table_name: str = "complaints-dev-orders"  # the order directory (docs/integration.md)
    uploads_bucket: str = "complaints-dev-uploads"  # customers' photos and videos
    event_bus_name: str = "complaints-dev"  # the integration events (docs/integration.md)
    # where presigned upload/download URLs point (the endpoint customers' apps reach): the
    # local system's moto endpoint; unset in AWS (S3's regional endpoint)
    uploads_endpoint_url: str | None = None
    lifecycle_state_machine_arn: str = ""
    # staff alert topics: {"team:product": arn, "team:logistics": arn, "team:service": arn,
    #                      "level:2": arn, "level:3": arn}
    staff_alert_topics: dict[str, str] = Field(default_factory=dict)
    customer_push_topic_arn: str = ""
    email_sender: str = "no-reply@complaints.example.com"
    # local runtime only: SLA time runs this many times faster than the wall clock
    time_scale: float = 1.0
    clock_epoch: float | None = None  # wall-clock second at which scaled time starts
    aws_endpoint_url: str | None = None
    max_body_bytes: int = 64 * 1024
    # the agent console's origin (https://<CloudFront domain>), the only one CORS lets call the
    # API from a browser; "" = none (the local system serves the console on the API's origin)
    console_origin: str = ""

    @field_validator("staff_alert_topics", mode="before")
    @classmethod
    def _parse_topics(cls, value: object) -> object:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value


_ENV = {
    "stage": "STAGE",
    "table_name": "TABLE_NAME",
    "idempotency_table_name": "IDEMPOTENCY_TABLE_NAME",
    "orders_table_name": "ORDERS_TABLE_NAME",
    "uploads_bucket": "UPLOADS_BUCKET",
    "event_bus_name": "EVENT_BUS_NAME",
    "uploads_endpoint_url": "UPLOADS_ENDPOINT_URL",
    "lifecycle_state_machine_arn": "LIFECYCLE_STATE_MACHINE_ARN",
    "staff_alert_topics": "STAFF_ALERT_TOPICS",
    "customer_push_topic_arn": "CUSTOMER_PUSH_TOPIC_ARN",
    "email_sender": "EMAIL_SENDER",
    "time_scale": "TIME_SCALE",
    "clock_epoch": "CLOCK_EPOCH",
    "aws_endpoint_url": "AWS_ENDPOINT_URL",
    "console_origin": "CONSOLE_ORIGIN",
}


def in_lambda() -> bool:
    """Whether this process is a Lambda function (the runtime sets ``AWS_LAMBDA_FUNCTION_NAME``;
    tests, the local system and the CLIs do not)."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


@cache
def settings() -> Settings:
    """The process-wide settings (``settings.cache_clear()`` after changing the environment)."""
    values = {field: os.environ[var] for field, var in _ENV.items() if os.environ.get(var)}
    return Settings.model_validate(values)
