"""The adapters of the service layer, behind the ports of :mod:`~chalicelib.adapters.ports`:

- :mod:`~chalicelib.adapters.store` — tickets, timelines, profiles, import reports in DynamoDB;
- :mod:`~chalicelib.adapters.workflow` — the lifecycle executions in Step Functions;
- :mod:`~chalicelib.adapters.notifier` — customer messages and staff alerts via SNS and SES;
- :mod:`~chalicelib.adapters.memory` — all of them (and idempotency records) in memory;
- :mod:`~chalicelib.adapters.layout` — the table's key layout (pure, shared by both stores);
- :mod:`~chalicelib.adapters.dynamodb` — item (de)serialization, pagination, batch retries;
- :mod:`~chalicelib.adapters.aws` — the boto3 clients and the retryable AWS error codes.
"""
