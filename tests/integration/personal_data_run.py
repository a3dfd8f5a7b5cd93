"""Every Lambda handler of the app run with a customer's personal data, in the local system,
with all the product's logging on: Powertools at DEBUG, events asked to be logged
(``POWERTOOLS_LOGGER_LOG_EVENT``), metrics on. Also the unhappy paths that carry personal
data into error messages: an SMS gateway that names the number it refuses, an import record
that is rejected, a ticket image the stream consumer cannot read.

    python -m tests.integration.personal_data_run

Run by ``tests/integration/test_observability.py`` in a fresh interpreter, so that what the
process writes to stdout and stderr is everything the product logged, traced or measured. The
last line is ``RESULT <json>``: what happened, for the test to check the run did what it says.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.client import ClientCreator
from botocore.exceptions import ClientError
from chalice.test import Client

from local.runtime import LocalSystem

PHONE = "+8613912345678"
REFUSED_PHONE = "+8613987654321"
EMAIL = "li.lei.private@example.com"
PUSH_TOKEN = "push-token-3f9a8c7e6d5b"
IMPORTED_PHONE = "+8615011112222"
IMPORTED_EMAIL = "han.meimei.private@example.org"
PERSONAL = (PHONE, REFUSED_PHONE, EMAIL, PUSH_TOKEN, IMPORTED_PHONE, IMPORTED_EMAIL)
LOUD = {"POWERTOOLS_LOG_LEVEL": "DEBUG", "POWERTOOLS_LOGGER_LOG_EVENT": "true", "POWERTOOLS_METRICS_DISABLED": "false"}
DATA = Path(__file__).resolve().parents[1] / "data"


def _body(customer: str, channel: str, contact: dict[str, Any]) -> dict[str, Any]:
    return {"customer_id": customer, "order_id": f"O-{customer}", "channel": channel, "desired_outcome": "refund",
            "description": "快递到的时候杯子碎了", "contact": contact}


def _wait(what: str, check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise TimeoutError(f"waited {timeout:.0f} s for {what}")


def run() -> dict[str, Any]:
    created_clients: list[str] = []
    original = ClientCreator.create_client

    def recording(self: ClientCreator, service_name: str, *args: Any, **kwargs: Any) -> Any:
        created_clients.append(service_name)
        return original(self, service_name, *args, **kwargs)

    ClientCreator.create_client = recording  # type: ignore[method-assign]  # every botocore client of the process
    with tempfile.TemporaryDirectory() as tmp, \
            LocalSystem(port=0, aws_port=0, time_scale=3600, secret_path=Path(tmp) / "secret", extra_env=LOUD) as system, \
            Client(system.app, stage_name="dev") as client:
        staff = {"Authorization": f"Bearer {system.token('S-1', 'supervisors')}"}

        def headers(customer: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {system.token(customer, 'customers')}", "Content-Type": "application/json"}

        def view(cid: str) -> dict[str, Any]:
            return dict(client.http.get(f"/complaints/{cid}", headers=staff).json_body)

        sqs, sns = system.client("sqs"), system.client("sns")
        inbox = sqs.create_queue(QueueName="push-inbox")["QueueUrl"]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=system.env["CUSTOMER_PUSH_TOPIC_ARN"], Protocol="sqs", Endpoint=inbox_arn,
                      Attributes={"RawMessageDelivery": "true"})

        def refuse(params: dict[str, Any], **_: Any) -> None:  # what SNS says about a number it will not text
            if params.get("PhoneNumber") == REFUSED_PHONE:
                raise ClientError({"Error": {"Code": "InvalidParameter",
                                             "Message": f"Invalid parameter: PhoneNumber Reason: {REFUSED_PHONE} is not valid"}},
                                  "Publish")

        from chalicelib.adapters import aws

        aws.client("sns").meta.events.register("before-parameter-build.sns.Publish", refuse)
        # The API: customers file complaints with every kind of contact route, then read them
        ids = {}
        for customer, channel, contact in (
                ("C-PII-1", "app", {"locale": "en", "push_token": PUSH_TOKEN, "phone": PHONE, "email": EMAIL}),
                ("C-PII-2", "web", {"locale": "zh-CN", "email": EMAIL}),
                ("C-PII-3", "phone", {"locale": "zh-CN", "phone": REFUSED_PHONE})):
            resp = client.http.post("/complaints", headers=headers(customer), body=json.dumps(_body(customer, channel, contact)))
            assert resp.status_code == 202, resp.body
            ids[customer] = resp.json_body["complaint_id"]
            assert client.http.get(f"/complaints/{ids[customer]}", headers=headers(customer)).status_code == 200
        bad = client.http.post("/complaints", headers=headers("C-PII-4"),
                               body=json.dumps({**_body("C-PII-4", "app", {"phone": "call " + PHONE}), "channel": "fax"}))

        def unavailable(**_: Any) -> None:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "try later"}}, "StartExecution")

        sfn = aws.client("stepfunctions")
        sfn.meta.events.register_first("before-parameter-build.states.StartExecution", unavailable)
        try:
            not_started = client.http.post("/complaints", headers=headers("C-PII-5"),
                                           body=json.dumps(_body("C-PII-5", "web", {"email": EMAIL, "phone": PHONE})))
        finally:
            sfn.meta.events.unregister("before-parameter-build.states.StartExecution", unavailable)
        # The workflow: Triage, the customer's acknowledgement (push, e-mail, a refused SMS)
        def types(cid: str) -> list[str]:
            return [e["type"] for e in view(cid)["timeline"]]

        for customer, cid in ids.items():
            _wait(f"{customer} acknowledged", lambda cid=cid: view(cid)["status"] == "awaiting_contact" and "acknowledged" in types(cid))
        _wait("the refused SMS recorded", lambda: "notification_failed" in types(ids["C-PII-3"]))
        timelines = {customer: types(cid) for customer, cid in ids.items()}
        staff_contact = view(ids["C-PII-1"]).get("contact")
        pushed = _wait("the push message", lambda: sqs.receive_message(QueueUrl=inbox, MessageAttributeNames=["All"],
                                                                        WaitTimeSeconds=1).get("Messages"))
        # The import: one good record with contact details, one rejected because of them
        batch = json.loads((DATA / "imports" / "generic.json").read_text(encoding="utf-8"))
        record = {**batch["records"][0], "external_id": "PII-1", "customer_id": "C-PII-5", "order_id": "O-PII-5",
                  "contact": {"locale": "zh-CN", "phone": IMPORTED_PHONE, "email": IMPORTED_EMAIL}}
        rejected = {**record, "external_id": "PII-2", "order_id": "O-PII-6",
                    "contact": {"locale": "zh-CN", "phone": f"phone {IMPORTED_PHONE}", "email": f"at {IMPORTED_EMAIL}"}}
        message = {**batch, "batch_id": "pii-batch", "records": [record, rejected]}
        event = client.events.generate_sqs_event(queue_name="complaints-import",
                                                 message_bodies=[json.dumps(message), f"call {IMPORTED_PHONE} or {IMPORTED_EMAIL}"])
        for n, sqs_record in enumerate(event["Records"]):
            sqs_record["messageId"] = f"msg-{n}"  # chalice gives every record the same id
        imported = client.lambda_.invoke("import_batch", event).payload
        report = client.http.get("/imports/pii-batch", headers=staff).json_body
        # The stream consumer: an image of a ticket it cannot read (a status no version knows)
        ddb = system.client("dynamodb")
        item = ddb.get_item(TableName=system.env["TABLE_NAME"], Key={"pk": {"S": f"C#{ids['C-PII-1']}"}, "sk": {"S": "TICKET"}})["Item"]
        complaint = item["complaint"]["M"]  # as an older version might have written it: an e-mail that no longer validates
        broken = {**item, "complaint": {"M": {**complaint, "contact": {"M": {**complaint["contact"]["M"], "email": {"S": f"{EMAIL} (work)"}}}}}}
        stream_event = {"Records": [{"eventID": "1", "eventName": "MODIFY", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
                                     "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/s",
                                     "dynamodb": {"Keys": {"pk": item["pk"], "sk": item["sk"]}, "NewImage": broken,
                                                  "SequenceNumber": "900000000000000000001", "StreamViewType": "NEW_IMAGE"}}]}
        analytics = client.lambda_.invoke("analytics", stream_event).payload
        emails = system.client("ses").get_send_quota()["SentLast24Hours"]
    return {
        "complaints": ids,
        "timelines": timelines,
        "rejected_body_status": bad.status_code,
        "workflow_unavailable_status": not_started.status_code,
        "staff_sees_contact": staff_contact is not None,
        "push_messages": len(pushed),
        "push_token_attribute": (pushed[0].get("MessageAttributes", {}).get("push_token", {}).get("StringValue") == PUSH_TOKEN),
        "emails_sent": emails,
        "import": {"answer": imported, "created": report.get("created"), "rejected": len(report.get("rejected", []))},
        "analytics": analytics,
        "xray_modules": sorted(m for m in sys.modules if m.startswith("aws_xray_sdk")),
        "clients": sorted(set(created_clients)),
    }


if __name__ == "__main__":
    result = run()
    print("RESULT " + json.dumps(result, default=str), flush=True)
