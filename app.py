"""Entry points of the complaint service: HTTP routes, the SQS import handler and the Lambda
functions the state machines call. Each one translates its input and calls one function of
``chalicelib``; the rules live there.

Every function of the deployment runs this module, so its top imports only what all of them
need (Chalice, the HTTP plumbing, Powertools logging and metrics): each handler imports the
service code it runs when it first runs, and a function never pays for another's modules at
cold start (bench/README.md, cold start).
"""

from __future__ import annotations

import gc

_collector_was_on = gc.isenabled()
gc.disable()  # no collector passes while the function loads (chalicelib/coldstart.py)

from typing import TYPE_CHECKING, Any

from chalice import Chalice, CognitoUserPoolAuthorizer, ConvertToMiddleware, Response
from chalice.app import DynamoDBEvent, SQSEvent

from chalicelib import coldstart
from chalicelib.bootstrap import services
from chalicelib.config import IMPORT_QUEUE_NAME, STREAM_ARN_PLACEHOLDER, USER_POOL_ARN_PLACEHOLDER
from chalicelib.http import STAFF, ConsoleCors, HttpError, json_body, json_response
from chalicelib.observability import api_logging, function_logging, metrics_flush
from chalicelib.operations import PUBLIC, Operations

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

    from chalicelib.models import (
        Caller,
        ComplaintIn,
        ContactIn,
        EscalateIn,
        NoteIn,
        PauseIn,
        ProfileIn,
        RatingIn,
        ReplyIn,
        ResolveIn,
        ResumeIn,
        TriageIn,
    )
    from chalicelib.responses import CustomerPageQuery, QueuePageQuery
    from chalicelib.uploads import UploadIn

app = Chalice(app_name="complaints")  # app.log is Powertools' logger: POWERTOOLS_LOG_LEVEL sets its level
app.api.cors = ConsoleCors()  # every route: the agent console's origin only (CONSOLE_ORIGIN)
# The outermost middleware ends the cold start after the first invocation (the collector back on);
# Powertools on every handler: Lambda context + correlation id on each log line, one metrics
# flush per invocation (chalice docs, "Integrating with AWS Lambda Powertools").
app.register_middleware(coldstart.end_after_first_invocation, "all")
app.register_middleware(ConvertToMiddleware(api_logging), "http")
for _event_type in ("pure_lambda", "sqs", "dynamodb"):
    app.register_middleware(ConvertToMiddleware(function_logging), _event_type)
app.register_middleware(ConvertToMiddleware(metrics_flush), "all")
auth = CognitoUserPoolAuthorizer("ComplaintsUserPool", provider_arns=[USER_POOL_ARN_PLACEHOLDER])


def _req() -> Any:
    return app.current_request


api = Operations(app, auth)  # every route declared once: run by it, documented from it (GET /openapi.json)
M, R, F = "chalicelib.models:", "chalicelib.responses:", "chalicelib.reports.figures:"
CUSTOMERS, READERS, PROFILES = ("customers",), ("customers", *STAFF, "ops"), ("supervisors", "ops")


@api.route("GET", "/health", "Is the API up?", groups=PUBLIC, answers={200: R + "Health"})
def health() -> Response:
    return json_response({"status": "ok"})


@api.route("GET", "/openapi.json", "This document", groups=PUBLIC, answers={200: R + "OpenApiDocument"},
           description="The OpenAPI 3.1 document of every route, generated from the route table and its models.")
def openapi_document() -> Response:
    from chalicelib import openapi

    return json_response(openapi.document(app))


# -- customers -------------------------------------------------------------------------------
@api.route("POST", "/complaints", "File a complaint", groups=CUSTOMERS, body=M + "ComplaintIn",
           answers={202: R + "Accepted"}, errors=(403, 409, 503),
           headers={"Idempotency-Key": "1 to 255 characters: the same key and body within 24 h answers the same "
                                       "and creates nothing new; another body with it is a 409"})
def submit_complaint(caller: Caller, body: ComplaintIn) -> Response:
    from chalicelib import intake

    if body.customer_id != caller.username:
        raise HttpError(403, "forbidden", "customer_id must be your own")
    key = _req().headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= 255:
        raise HttpError(400, "validation_error", "bad Idempotency-Key",
                        [{"field": "Idempotency-Key", "message": "1 to 255 characters"}])
    answer = intake.submit(services(), json_body(_req()), caller.username, key, app.lambda_context)
    return json_response(answer["body"], answer["status"], {"Location": answer["location"]})


@api.route("GET", "/complaints/{complaint_id}", "A complaint, its clocks and timeline", groups=READERS,
           answers={200: R + "Complaint"}, errors=(404,),
           description="Customers: their own (another's is a 404, as if it did not exist). Staff: any.")
def get_complaint(complaint_id: str, caller: Caller) -> Response:
    from chalicelib import queries

    return json_response(queries.complaint(services(), complaint_id, caller))


@api.route("POST", "/complaints/uploads", "Ask where to upload an attachment", groups=CUSTOMERS,
           body="chalicelib.uploads:UploadIn", answers={201: "chalicelib.uploads:UploadOut"})
def new_upload(caller: Caller, body: UploadIn) -> Response:
    from chalicelib import attachments

    return json_response(attachments.new_upload(services(), caller, body).model_dump(), 201)


@api.route("GET", "/orders/{order_id}/prefill", "What the complaint form shows of one's order", groups=CUSTOMERS,
           answers={200: "chalicelib.orders:OrderPrefill"}, errors=(404,))
def order_prefill(order_id: str, caller: Caller) -> Response:
    from chalicelib import queries

    return json_response(queries.order_prefill(services(), order_id, caller))


@api.route("GET", "/customers/{customer_id}/complaints", "A customer's complaints, newest first", groups=READERS,
           query=R + "CustomerPageQuery", answers={200: R + "ComplaintPage"},
           description="Customers: their own (another's list is a 403). Staff: anyone's.")
def customer_complaints(customer_id: str, caller: Caller, query: CustomerPageQuery) -> Response:
    from chalicelib import queries

    if not caller.is_staff and caller.username != customer_id:
        raise HttpError(403, "forbidden", "you may list only your own complaints")
    return json_response(queries.customer_complaints(services(), customer_id, query.limit, query.next))


@api.route("POST", "/complaints/{complaint_id}/satisfaction", "Rate a resolved complaint", groups=CUSTOMERS,
           body=M + "RatingIn", answers={200: R + "Summary"}, errors=(404, 409))
def rate_complaint(complaint_id: str, caller: Caller, body: RatingIn) -> Response:
    from chalicelib import actions

    return json_response(actions.rate(services(), complaint_id, caller, body).summary())


@api.route("POST", "/complaints/{complaint_id}/reply", "Answer what an agent asked", groups=CUSTOMERS,
           body=M + "ReplyIn", answers={200: R + "Summary"}, errors=(404, 409))
def reply(complaint_id: str, caller: Caller, body: ReplyIn) -> Response:
    from chalicelib import actions

    return json_response(actions.reply(services(), complaint_id, caller, body).summary())


# -- staff -----------------------------------------------------------------------------------
@api.route("GET", "/queues/{team}", "A team's open complaints, soonest due first", groups=STAFF,
           query=R + "QueuePageQuery", answers={200: R + "QueuePage"}, errors=(404,))
def team_queue(team: str, caller: Caller, query: QueuePageQuery) -> Response:
    from chalicelib import queries
    from chalicelib.models import TEAMS

    if team not in TEAMS:
        raise HttpError(404, "not_found", f"no team {team!r}; teams are {', '.join(TEAMS)}")
    return json_response(queries.team_queue(services(), team, query.limit, query.next))


@api.route("POST", "/complaints/{complaint_id}/contact", "Record the first contact", groups=STAFF,
           body=M + "ContactIn", answers={200: R + "Summary"}, errors=(404, 409))
def contact(complaint_id: str, caller: Caller, body: ContactIn) -> Response:
    from chalicelib import actions

    return json_response(actions.contact(services(), complaint_id, caller, body).summary())


@api.route("POST", "/complaints/{complaint_id}/resolve", "Resolve a complaint", groups=STAFF,
           body=M + "ResolveIn", answers={200: R + "Summary"}, errors=(404, 409))
def resolve(complaint_id: str, caller: Caller, body: ResolveIn) -> Response:
    from chalicelib import actions

    return json_response(actions.resolve(services(), complaint_id, caller, body).summary())


@api.route("POST", "/complaints/{complaint_id}/escalate", "Escalate a complaint one level", groups=STAFF,
           body=M + "EscalateIn", answers={200: R + "Summary"}, errors=(404, 409))
def escalate(complaint_id: str, caller: Caller, body: EscalateIn) -> Response:
    from chalicelib import actions

    return json_response(actions.escalate(services(), complaint_id, caller, body).summary())


@api.route("POST", "/complaints/{complaint_id}/pause", "Pause the clocks to ask the customer", groups=STAFF,
           body=M + "PauseIn", answers={200: R + "Summary"}, errors=(404, 409))
def pause(complaint_id: str, caller: Caller, body: PauseIn) -> Response:
    from chalicelib import actions

    return json_response(actions.pause(services(), complaint_id, caller, body).summary())


@api.route("POST", "/complaints/{complaint_id}/resume", "Resume paused clocks", groups=STAFF,
           body=M + "ResumeIn", answers={200: R + "Summary"}, errors=(404, 409))
def resume(complaint_id: str, caller: Caller, body: ResumeIn) -> Response:
    from chalicelib import actions

    return json_response(actions.resume(services(), complaint_id, caller, body).summary())


@api.route("POST", "/complaints/{complaint_id}/triage", "Correct the triage", groups=STAFF,
           body=M + "TriageIn", answers={200: R + "Summary"}, errors=(404, 409))
def retriage(complaint_id: str, caller: Caller, body: TriageIn) -> Response:
    from chalicelib import actions

    return json_response(actions.retriage(services(), complaint_id, caller, body).summary())


@api.route("POST", "/complaints/{complaint_id}/notes", "Add an internal note", groups=STAFF,
           body=M + "NoteIn", answers={201: R + "TimelineEvent"}, errors=(404, 409))
def add_note(complaint_id: str, caller: Caller, body: NoteIn) -> Response:
    from chalicelib import actions

    return json_response(actions.add_note(services(), complaint_id, caller, body), 201)


@api.route("PUT", "/customers/{customer_id}/profile", "Set a customer's tier and locale", groups=PROFILES,
           body=M + "ProfileIn", answers={200: R + "Profile"})
def put_profile(customer_id: str, caller: Caller, body: ProfileIn) -> Response:
    from chalicelib import queries

    return json_response(queries.put_profile(services(), customer_id, body))


# -- workflow and import functions -------------------------------------------------------------
@app.lambda_function(name="lifecycle_step")
def lifecycle_step(event: dict[str, Any], context: Any) -> Any:
    from chalicelib import steps

    return steps.run(services(), event)


@app.on_sqs_message(queue=IMPORT_QUEUE_NAME, batch_size=10, name="import_batch")
def import_batch(event: SQSEvent) -> PartialItemFailureResponse:
    from chalicelib import importer

    return importer.handle_sqs(services(), event.to_dict())


@api.route("GET", "/imports/{batch_id}", "The import report of a marketplace batch", groups=PROFILES,
           answers={200: R + "ImportReport"}, errors=(404,))
def import_report(batch_id: str, caller: Caller) -> Response:
    from chalicelib import queries

    report = queries.import_report(services(), batch_id)
    if report is None:
        raise HttpError(404, "not_found", "no such import batch")
    return json_response(report)


# -- reports (ops, supervisors) ----------------------------------------------------------------
@api.route("GET", "/reports/summary", "Complaints created in a window: counts, SLA, durations, CSAT",
           groups=PROFILES, query=F + "SummaryQuery", answers={200: R + "SummaryReport"})
def report_summary(caller: Caller, query: Any) -> Response:
    return json_response(_report("summary"))


@api.route("GET", "/reports/hotspots", "SKUs and categories whose complaints rose", groups=PROFILES,
           query=F + "HotspotsQuery", answers={200: R + "HotspotsReport"})
def report_hotspots(caller: Caller, query: Any) -> Response:
    return json_response(_report("hotspots"))


@api.route("GET", "/reports/triage", "How triage did, judged by staff's corrections, with rule proposals",
           groups=PROFILES, query=F + "TriageQuery", answers={200: R + "TriageReport"})
def report_triage(caller: Caller, query: Any) -> Response:
    return json_response(_report("triage"))


def _report(kind: str) -> dict[str, Any]:
    from chalicelib.reports import figures, handlers

    try:
        return handlers.serve(services(), kind, _req().query_params or {})
    except figures.ReportParamError as exc:
        raise HttpError(400, "validation_error", exc.message, [{"field": exc.field, "message": exc.message}]) from exc


# The tickets table's stream -> the per-day aggregates the reports read (infra.template binds
# the stream; the local system delivers it with local/streams.py).
@app.on_dynamodb_record(stream_arn=STREAM_ARN_PLACEHOLDER, batch_size=100, starting_position="TRIM_HORIZON", name="analytics")
def analytics(event: DynamoDBEvent) -> dict[str, Any]:
    from chalicelib.reports import handlers

    return handlers.handle_stream(services(), event.to_dict())


# The tickets table's stream (its new timeline items: the outbox) -> the integration events on
# the event bus (docs/integration.md; infra.template binds the stream and its filter).
@app.on_dynamodb_record(stream_arn=STREAM_ARN_PLACEHOLDER, batch_size=100, starting_position="TRIM_HORIZON",
                        name="integration")
def integration(event: DynamoDBEvent) -> dict[str, Any]:
    from chalicelib.integration import outbox

    return outbox.handle_stream(services(), event.to_dict())


coldstart.app_loaded(_collector_was_on)
