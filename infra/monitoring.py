"""What ops look at: the alarms (to an SNS topic) and the CloudWatch dashboard.

App metrics come from ``chalicelib/observability.py`` (namespace ``ComplaintManagement``,
dimension ``service=complaints`` plus a few low-cardinality ones). The dashboard reads them
with ``SEARCH`` so a new dimension value shows up by itself; alarms cannot use ``SEARCH``,
so the SLA-breach alarm names its series explicitly (clock x severity).
"""

from __future__ import annotations

import json
from typing import Any, get_args

from chalicelib.lifecycle import BREACH_REASON
from chalicelib.models import Severity
from chalicelib.observability import NAMESPACE, SERVICE
from infra.resources import APP_NAME

STATE_MACHINE = "LifecycleStateMachine"
DLQ = "ImportDeadLetterQueue"
ALARM_TOPIC = "AlarmTopic"
# The four conditions ops are paged for (logical id -> what it means).
ALARMS = {
    "WorkflowFailuresAlarm": "lifecycle executions failed or timed out",
    "ImportDeadLetterAlarm": "import messages reached the dead-letter queue",
    "Api5xxRateAlarm": "share of API requests answered with 5xx",
    "SlaBreachRateAlarm": "service-level breaches per hour",
    "IntegrationEventsFailedAlarm": "integration events the event bus did not take (retried)",
    "IntegrationIteratorAgeAlarm": "integration events falling behind the ticket changes",
    "IntegrationFailureQueueAlarm": "stream records the integration function gave up on",
}
INTEGRATION_FUNCTION = "Integration"
INTEGRATION_DLQ = "IntegrationFailureQueue"
INTEGRATION_MAX_AGE_MS = 5 * 60 * 1000  # events more than 5 minutes behind: ops look
# Metric names of the app the dashboard and alarms read (a test checks the app emits them).
APP_METRICS = (
    "ComplaintsReceived", "ComplaintsTriaged", "Escalations", "SlaBreaches", "VouchersIssued",
    "ComplaintsResolved", "ComplaintsReopened", "ComplaintsClosed", "SatisfactionScore", "Ratings",
    "NotificationsFailed", "WorkflowFailed", "ImportRecordsReceived", "ImportRecordsRejected",
    "ImportMessagesDeadLettered", "IntegrationEventsPublished", "IntegrationEventsFailed",
)
# Alarm thresholds that are CloudFormation parameters (ops may change them on deploy).
THRESHOLD_PARAMETERS: dict[str, dict[str, Any]] = {
    "SlaBreachesPerHourThreshold": {
        "Type": "Number", "MinValue": 1,
        "Description": "SlaBreachRateAlarm fires when more service-level breaches than this happen in an hour",
        "defaults": {"prod": 10, "dev": 50},
    },
    "Api5xxPercentThreshold": {
        "Type": "Number", "MinValue": 0, "MaxValue": 100,
        "Description": "Api5xxRateAlarm fires when more than this percentage of API requests fail with 5xx",
        "defaults": {"prod": 1, "dev": 5},
    },
}
API_MIN_REQUESTS = 20  # below this many requests in 5 minutes the 5xx rate is not judged


def parameters(stage: str) -> dict[str, Any]:
    return {
        name: {**{k: v for k, v in spec.items() if k != "defaults"},
               "Default": spec["defaults"].get(stage, spec["defaults"]["dev"])}
        for name, spec in THRESHOLD_PARAMETERS.items()
    }


def api_name(stage: str) -> str:
    return f"{APP_NAME}-{stage}"


def _alarm(stage: str, suffix: str, description: str, **props: Any) -> dict[str, Any]:
    topic = [{"Ref": ALARM_TOPIC}]
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": f"{APP_NAME}-{stage}-{suffix}",
            "AlarmDescription": description,
            "AlarmActions": topic,
            "OKActions": topic,
            "TreatMissingData": "notBreaching",
            **props,
        },
    }


def _metric(query_id: str, namespace: str, name: str, dimensions: dict[str, Any], stat: str, period: int) -> dict[str, Any]:
    return {
        "Id": query_id,
        "ReturnData": False,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
            },
            "Period": period,
            "Stat": stat,
        },
    }


def alarms(stage: str, api_stage: str) -> dict[str, Any]:
    machine = {"StateMachineArn": {"Ref": STATE_MACHINE}}
    api = {"ApiName": api_name(stage), "Stage": api_stage}
    breach_series = [
        (f"{clock.replace('_', '')}{severity.lower()}", {"service": SERVICE, "clock": clock, "severity": severity})
        for clock in BREACH_REASON
        for severity in get_args(Severity)
    ]
    return {
        "WorkflowFailuresAlarm": _alarm(
            stage, "workflow-failures",
            "A complaint's lifecycle execution failed or timed out: the ticket is marked failed "
            "(see the team queue and the execution's history in the Step Functions console).",
            Metrics=[
                _metric("failed", "AWS/States", "ExecutionsFailed", machine, "Sum", 300),
                _metric("timedout", "AWS/States", "ExecutionsTimedOut", machine, "Sum", 300),
                {"Id": "failures", "Expression": "FILL(failed, 0) + FILL(timedout, 0)",
                 "Label": "failed or timed-out executions", "ReturnData": True},
            ],
            ComparisonOperator="GreaterThanOrEqualToThreshold", Threshold=1,
            EvaluationPeriods=1, DatapointsToAlarm=1,
        ),
        "ImportDeadLetterAlarm": _alarm(
            stage, "import-dlq-not-empty",
            "Marketplace import messages were dead-lettered after repeated failures: inspect them "
            "in the import DLQ and redrive once the cause is fixed.",
            Namespace="AWS/SQS", MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[{"Name": "QueueName", "Value": {"Fn::GetAtt": [DLQ, "QueueName"]}}],
            Statistic="Maximum", Period=300, EvaluationPeriods=1, DatapointsToAlarm=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold", Threshold=1,
        ),
        "Api5xxRateAlarm": _alarm(
            stage, "api-5xx-rate",
            f"More than Api5xxPercentThreshold % of API requests failed with 5xx (judged when at least "
            f"{API_MIN_REQUESTS} requests arrive in 5 minutes).",
            Metrics=[
                _metric("errors", "AWS/ApiGateway", "5XXError", api, "Sum", 300),
                _metric("requests", "AWS/ApiGateway", "Count", api, "Sum", 300),
                {"Id": "rate", "Expression": f"IF(requests >= {API_MIN_REQUESTS}, 100 * errors / requests, 0)",
                 "Label": "5xx %", "ReturnData": True},
            ],
            ComparisonOperator="GreaterThanThreshold", Threshold={"Ref": "Api5xxPercentThreshold"},
            EvaluationPeriods=3, DatapointsToAlarm=2,
        ),
        "SlaBreachRateAlarm": _alarm(
            stage, "sla-breach-rate",
            "More service-level breaches (first contact or resolution, any severity) per hour than "
            "SlaBreachesPerHourThreshold: the teams are not keeping up.",
            Metrics=[
                *(_metric(query_id, NAMESPACE, "SlaBreaches", dims, "Sum", 3600) for query_id, dims in breach_series),
                {"Id": "breaches", "Expression": " + ".join(f"FILL({query_id}, 0)" for query_id, _ in breach_series),
                 "Label": "SLA breaches per hour", "ReturnData": True},
            ],
            ComparisonOperator="GreaterThanThreshold", Threshold={"Ref": "SlaBreachesPerHourThreshold"},
            EvaluationPeriods=1, DatapointsToAlarm=1,
        ),
        **integration_alarms(stage),
    }


def integration_alarms(stage: str) -> dict[str, Any]:
    """The event bus refusing events (they are retried, in order: the platform hears late),
    the stream mapping falling behind, and records it gave up on (older than the stream)."""
    function = [{"Name": "FunctionName", "Value": {"Ref": INTEGRATION_FUNCTION}}]
    return {
        "IntegrationEventsFailedAlarm": _alarm(
            stage, "integration-events-failed",
            "The event bus did not take integration events (PutEvents failed or entries were refused). "
            "They are retried from the tickets table's stream in order, so nothing is lost, but the "
            "platform hears of changes late; see the integration function's logs.",
            Namespace=NAMESPACE, MetricName="IntegrationEventsFailed", Dimensions=[{"Name": "service", "Value": SERVICE}],
            Statistic="Sum", Period=300, EvaluationPeriods=1, DatapointsToAlarm=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold", Threshold=1,
        ),
        "IntegrationIteratorAgeAlarm": _alarm(
            stage, "integration-iterator-age",
            "The integration function is more than 5 minutes behind the ticket changes (the bus "
            "keeps refusing, or the function keeps failing).",
            Namespace="AWS/Lambda", MetricName="IteratorAge", Dimensions=function,
            Statistic="Maximum", Period=60, EvaluationPeriods=5, DatapointsToAlarm=3,
            ComparisonOperator="GreaterThanThreshold", Threshold=INTEGRATION_MAX_AGE_MS,
        ),
        "IntegrationFailureQueueAlarm": _alarm(
            stage, "integration-failures-not-empty",
            "The integration function's stream mapping gave up on records (older than the stream's "
            "24 h): their events were not published. The queue holds the shard and sequence range: "
            "re-publish them from the tickets table's timeline items.",
            Namespace="AWS/SQS", MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[{"Name": "QueueName", "Value": {"Fn::GetAtt": [INTEGRATION_DLQ, "QueueName"]}}],
            Statistic="Maximum", Period=300, EvaluationPeriods=1, DatapointsToAlarm=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold", Threshold=1,
        ),
    }


def alarm_topic(stage: str) -> dict[str, Any]:
    return {
        ALARM_TOPIC: {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": f"{APP_NAME}-{stage}-ops-alarms"}},
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": {"TopicArn": {"Ref": ALARM_TOPIC}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}},
        },
    }


# --- dashboard ----------------------------------------------------------------------------------

def _search(metric: str, stat: str, label: str = "") -> dict[str, Any]:
    query = f"SEARCH('Namespace=\"{NAMESPACE}\" MetricName=\"{metric}\" service=\"{SERVICE}\"', '{stat}', 3600)"
    return {"expression": query, "label": label}


def _widget(title: str, metrics: list[Any], *, x: int, y: int, w: int = 8, h: int = 6, stat: str = "Sum",
            view: str = "timeSeries", stacked: bool = False, period: int = 3600) -> dict[str, Any]:
    numbered = []
    for i, m in enumerate(metrics):
        numbered.append({**m, "id": f"e{i + 1}"} if isinstance(m, dict) else m)
    return {
        "type": "metric", "x": x, "y": y, "width": w, "height": h,
        "properties": {"title": title, "metrics": numbered, "view": view, "stacked": stacked,
                       "region": "${AWS::Region}", "stat": stat, "period": period},
    }


def dashboard_body(stage: str, api_stage: str) -> str:
    """The dashboard JSON, with ``${...}`` for ``Fn::Sub`` (region, ARNs, names)."""
    state_machine = ["AWS/States", "ExecutionsStarted", "StateMachineArn", "${LifecycleStateMachine}"]
    api = ["ApiName", api_name(stage), "Stage", api_stage]
    widgets = [
        {"type": "text", "x": 0, "y": 0, "width": 24, "height": 2, "properties": {"markdown": (
            f"# Complaints ({stage})\nIntake, service levels, compensation and satisfaction (hourly); "
            "the operations row below. Timings live in `state_machines/lifecycle.asl.json` (ServiceLevelPolicy).")}},
        _widget("Complaints received (by channel and source)", [_search("ComplaintsReceived", "Sum")],
                x=0, y=2, stacked=True, view="timeSeries"),
        _widget("Triaged (by severity and team)", [_search("ComplaintsTriaged", "Sum")], x=8, y=2, stacked=True),
        _widget("Resolved / reopened / closed", [
            _search("ComplaintsResolved", "Sum"), _search("ComplaintsReopened", "Sum"), _search("ComplaintsClosed", "Sum"),
        ], x=16, y=2),
        _widget("SLA breaches (by clock and severity)", [_search("SlaBreaches", "Sum")], x=0, y=8, stacked=True),
        _widget("Escalations (by level; manual or clock)", [_search("Escalations", "Sum")], x=8, y=8, stacked=True),
        _widget("Delay-compensation vouchers issued (by severity)", [_search("VouchersIssued", "Sum")],
                x=16, y=8, stacked=True),
        _widget("CSAT: average satisfaction score (1-5)",
                [[NAMESPACE, "SatisfactionScore", "service", SERVICE, {"stat": "Average", "label": "CSAT"}]],
                x=0, y=14, stat="Average", period=86400),
        _widget("Ratings (by score)", [_search("Ratings", "Sum")], x=8, y=14, stacked=True, period=86400),
        _widget("Notifications failed / workflows failed", [
            _search("NotificationsFailed", "Sum"), _search("WorkflowFailed", "Sum"),
        ], x=16, y=14),
        {"type": "alarm", "x": 0, "y": 20, "width": 24, "height": 3, "properties": {
            "title": "Alarms", "alarms": [f"${{{alarm}.Arn}}" for alarm in ALARMS]}},
        _widget("Lifecycle executions", [
            state_machine,
            [".", "ExecutionsSucceeded", ".", "."],
            [".", "ExecutionsFailed", ".", "."],
            [".", "ExecutionsTimedOut", ".", "."],
        ], x=0, y=23, period=300),
        _widget("Marketplace import", [
            _search("ImportRecordsReceived", "Sum"), _search("ImportRecordsRejected", "Sum"),
            _search("ImportMessagesDeadLettered", "Sum"),
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "${ImportDeadLetterQueue.QueueName}",
             {"stat": "Maximum", "label": "messages in the DLQ"}],
        ], x=8, y=23, period=300),
        _widget("API requests, 4xx, 5xx", [
            ["AWS/ApiGateway", "Count", *api],
            [".", "4XXError", ".", ".", ".", "."],
            [".", "5XXError", ".", ".", ".", "."],
        ], x=16, y=23, period=300),
        _widget("Integration events published / failed", [
            _search("IntegrationEventsPublished", "Sum"), _search("IntegrationEventsFailed", "Sum"),
        ], x=0, y=29, period=300),
        _widget("API latency p90 (ms)", [["AWS/ApiGateway", "Latency", *api, {"stat": "p90"}]],
                x=16, y=29, stat="p90", period=300),
    ]
    return json.dumps({"widgets": widgets}, ensure_ascii=False)


def dashboard(stage: str, api_stage: str) -> dict[str, Any]:
    return {
        "Dashboard": {
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": {"DashboardName": f"{APP_NAME}-{stage}", "DashboardBody": {"Fn::Sub": dashboard_body(stage, api_stage)}},
        }
    }
