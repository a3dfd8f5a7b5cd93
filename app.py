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
from chalicelib.http import (
    STAFF,
    ConsoleCors,
    HttpError,
    caller_of,
    handled,
    json_body,
    json_response,
    limit_param,
    parse,
    require,
)
from chalicelib.observability import api_logging, function_logging, metrics_flush

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

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
ANY = ["*/*"]  # content types are checked by json_body, so a wrong one is a 415 in our error shape


def _req() -> Any:
    return app.current_request


@app.route("/health", methods=["GET"])
def health() -> Response:
    return json_response({"status": "ok"})


# -- customers -------------------------------------------------------------------------------
@app.route("/complaints", methods=["POST"], authorizer=auth, content_types=ANY)
@handled
def submit_complaint() -> Response:
    from chalicelib import intake
    from chalicelib.models import ComplaintIn

    caller = caller_of(_req())
    require(caller, ["customers"])
    body = json_body(_req())
    complaint = parse(ComplaintIn, body)
    if complaint.customer_id != caller.username:
        raise HttpError(403, "forbidden", "customer_id must be your own")
    key = _req().headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= 255:
        raise HttpError(400, "validation_error", "bad Idempotency-Key",
                        [{"field": "Idempotency-Key", "message": "1 to 255 characters"}])
    answer = intake.submit(services(), body, caller.username, key, app.lambda_context)
    return json_response(answer["body"], answer["status"], {"Location": answer["location"]})


@app.route("/complaints/{complaint_id}", methods=["GET"], authorizer=auth)
@handled
def get_complaint(complaint_id: str) -> Response:
    from chalicelib import queries

    return json_response(queries.complaint(services(), complaint_id, caller_of(_req())))


@app.route("/complaints/uploads", methods=["POST"], authorizer=auth, content_types=ANY)
@handled
def new_upload() -> Response:
    from chalicelib import attachments
    from chalicelib.uploads import UploadIn

    caller = caller_of(_req())
    require(caller, ["customers"])
    upload = attachments.new_upload(services(), caller, parse(UploadIn, json_body(_req())))
    return json_response(upload.model_dump(), 201)


@app.route("/orders/{order_id}/prefill", methods=["GET"], authorizer=auth)
@handled
def order_prefill(order_id: str) -> Response:
    from chalicelib import queries

    caller = caller_of(_req())
    require(caller, ["customers"])
    return json_response(queries.order_prefill(services(), order_id, caller))


@app.route("/customers/{customer_id}/complaints", methods=["GET"], authorizer=auth)
@handled
def customer_complaints(customer_id: str) -> Response:
    from chalicelib import queries

    caller = caller_of(_req())
    if not caller.is_staff and caller.username != customer_id:
        raise HttpError(403, "forbidden", "you may list only your own complaints")
    limit, cursor = limit_param(_req(), default=20)
    return json_response(queries.customer_complaints(services(), customer_id, limit, cursor))


@app.route("/complaints/{complaint_id}/satisfaction", methods=["POST"], authorizer=auth, content_types=ANY)
@handled
def rate_complaint(complaint_id: str) -> Response:
    from chalicelib import actions
    from chalicelib.models import RatingIn

    caller = caller_of(_req())
    require(caller, ["customers"])
    ticket = actions.rate(services(), complaint_id, caller, parse(RatingIn, json_body(_req())))
    return json_response(ticket.summary())


@app.route("/complaints/{complaint_id}/reply", methods=["POST"], authorizer=auth, content_types=ANY)
@handled
def reply(complaint_id: str) -> Response:
    from chalicelib import actions
    from chalicelib.models import ReplyIn

    caller = caller_of(_req())
    require(caller, ["customers"])
    return json_response(actions.reply(services(), complaint_id, caller, parse(ReplyIn, json_body(_req()))).summary())


# -- staff -----------------------------------------------------------------------------------
@app.route("/queues/{team}", methods=["GET"], authorizer=auth)
@handled
def team_queue(team: str) -> Response:
    from chalicelib import queries
    from chalicelib.models import TEAMS

    require(caller_of(_req()), STAFF)
    if team not in TEAMS:
        raise HttpError(404, "not_found", f"no team {team!r}; teams are {', '.join(TEAMS)}")
    limit, cursor = limit_param(_req(), default=50)
    return json_response(queries.team_queue(services(), team, limit, cursor))


@app.route("/complaints/{complaint_id}/contact", methods=["POST"], authorizer=auth, content_types=ANY)
@handled
def contact(complaint_id: str) -> Response:
    from chalicelib import actions
    from chalicelib.models import ContactIn

    caller = caller_of(_req())
    require(caller, STAFF)
    return json_response(actions.contact(services(), complaint_id, caller, parse(ContactIn, json_body(_req()))).summary())


@app.route("/complaints/{complaint_id}/resolve", methods=["POST"], authorizer=auth, content_types=ANY)
@handled
def resolve(complaint_id: str) -> Response:
    from chalicelib import actions
    from chalicelib.models import ResolveIn

    caller = caller_of(_req())
    require(caller, STAFF)
    return json_response(actions.resolve(services(), complaint_id, caller, parse(ResolveIn, json_body(_req()))).summary())


@app.route("/complaints/{complaint_id}/escalate", methods=["POST"], authorizer=auth, content_types=ANY)
@handled
def escalate(complaint_id: str) -> Response:
    from chalicelib import actions
    from chalicelib.models import EscalateIn

    caller = caller_of(_req())
    require(caller, STAFF)
    return json_response(actions.escalate(services(), complaint_id, caller, parse(EscalateIn, json_body(_req()))).summary())


@app.route("/complaints/{complaint_id}/pause", methods=["POST"], authorizer=auth, content_types=ANY)
@handled
def pause(complaint_id: str) -> Response:
    from chalicelib import actions
    from chalicelib.models import PauseIn

    caller = caller_of(_req())
    require(caller, STAFF)
    return json_response(actions.pause(services(), complaint_id, caller, parse(PauseIn, json_body(_req()))).summary())


@app.route("/complaints/{complaint_id}/resume", methods=["POST"], authorizer=auth, content_types=ANY)
@handled
def resume(complaint_id: str) -> Response:
    from chalicelib import actions
    from chalicelib.models import ResumeIn

    caller = caller_of(_req())
    require(caller, STAFF)
    return json_response(actions.resume(services(), complaint_id, caller, parse(ResumeIn, json_body(_req()))).summary())


@app.route("/complaints/{complaint_id}/triage", methods=["POST"], authorizer=auth, content_types=ANY)
@handled
def retriage(complaint_id: str) -> Response:
    from chalicelib import actions
    from chalicelib.models import TriageIn

    caller = caller_of(_req())
    require(caller, STAFF)
    return json_response(actions.retriage(services(), complaint_id, caller, parse(TriageIn, json_body(_req()))).summary())


@app.route("/complaints/{complaint_id}/notes", methods=["POST"], authorizer=auth, content_types=ANY)
@handled
def add_note(complaint_id: str) -> Response:
    from chalicelib import actions
    from chalicelib.models import NoteIn

    caller = caller_of(_req())
    require(caller, STAFF)
    return json_response(actions.add_note(services(), complaint_id, caller, parse(NoteIn, json_body(_req()))), 201)


@app.route("/customers/{customer_id}/profile", methods=["PUT"], authorizer=auth, content_types=ANY)
@handled
def put_profile(customer_id: str) -> Response:
    from chalicelib import queries
    from chalicelib.models import ProfileIn

    require(caller_of(_req()), ["supervisors", "ops"])
    return json_response(queries.put_profile(services(), customer_id, parse(ProfileIn, json_body(_req()))))


# -- workflow and import functions -------------------------------------------------------------
@app.lambda_function(name="lifecycle_step")
def lifecycle_step(event: dict[str, Any], context: Any) -> Any:
    from chalicelib import steps

    return steps.run(services(), event)


@app.on_sqs_message(queue=IMPORT_QUEUE_NAME, batch_size=10, name="import_batch")
def import_batch(event: SQSEvent) -> PartialItemFailureResponse:
    from chalicelib import importer

    return importer.handle_sqs(services(), event.to_dict())


@app.route("/imports/{batch_id}", methods=["GET"], authorizer=auth)
@handled
def import_report(batch_id: str) -> Response:
    from chalicelib import queries

    require(caller_of(_req()), ["ops", "supervisors"])
    report = queries.import_report(services(), batch_id)
    if report is None:
        raise HttpError(404, "not_found", "no such import batch")
    return json_response(report)


# -- reports (ops, supervisors) ----------------------------------------------------------------
@app.route("/reports/summary", methods=["GET"], authorizer=auth)
@handled
def report_summary() -> Response:
    require(caller_of(_req()), ["ops", "supervisors"])
    return json_response(_report("summary"))


@app.route("/reports/hotspots", methods=["GET"], authorizer=auth)
@handled
def report_hotspots() -> Response:
    require(caller_of(_req()), ["ops", "supervisors"])
    return json_response(_report("hotspots"))


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
