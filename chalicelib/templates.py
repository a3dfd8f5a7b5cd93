"""Customer messages and staff alerts, in zh-CN and en. Wording after the practice documents:
apologise first, say what happens next and by when."""

from __future__ import annotations

from typing import Any

TEAM_NAMES = {
    "zh-CN": {"product": "商品质量组", "logistics": "物流协调组", "service": "服务质量组"},
    "en": {"product": "Product Quality team", "logistics": "Logistics team", "service": "Service Quality team"},
}

CUSTOMER: dict[str, dict[str, tuple[str, str]]] = {
    # template -> locale -> (subject, body)
    "acknowledged": {
        "zh-CN": ("我们已收到您的投诉", "您好，您的投诉（编号 {complaint_id}）已收到，由{team_name}负责处理。我们会在 {first_contact_due} 前与您联系。"),
        "en": ("We have received your complaint", "Your complaint {complaint_id} has been received and assigned to our {team_name}. We will contact you by {first_contact_due}."),
    },
    "apology": {
        "zh-CN": ("抱歉让您久等了", "非常抱歉，您的投诉（编号 {complaint_id}）处理慢了，我们已加急处理。"),
        "en": ("We are sorry for the delay", "We are sorry that your complaint {complaint_id} is taking longer than promised. It has been escalated."),
    },
    "voucher": {
        "zh-CN": ("延误补偿券", "为表歉意，我们向您发放了一张 {amount} {currency} 的补偿券（投诉编号 {complaint_id}）。"),
        "en": ("A voucher for the delay", "To apologise for the delay we have issued you a {amount} {currency} voucher (complaint {complaint_id})."),
    },
    "progress": {
        "zh-CN": ("处理进度", "您的投诉（编号 {complaint_id}）已由客服经理跟进，我们会尽快给您答复。"),
        "en": ("An update on your complaint", "Your complaint {complaint_id} is now being followed by our customer-service manager."),
    },
    "pending_customer": {
        "zh-CN": ("需要您补充信息", "您好，为了继续处理您的投诉（编号 {complaint_id}），我们需要您补充一些信息：{ask}请直接在投诉页面回复我们。收到回复后我们会马上继续处理；如 {expires_at} 前未收到回复，我们也会继续跟进。"),
        "en": ("We need a little more from you", "To keep working on your complaint {complaint_id} we need a little more from you: {ask}Please reply on the complaint's page. We will carry on as soon as you answer, and by {expires_at} at the latest even without an answer."),
    },
    "resolved": {
        "zh-CN": ("投诉已处理", "您的投诉（编号 {complaint_id}）已处理完毕。稍后我们会邀请您评价本次服务。"),
        "en": ("Your complaint has been resolved", "Your complaint {complaint_id} has been resolved. We will ask you shortly how we did."),
    },
    "survey": {
        "zh-CN": ("请评价本次服务", "请为投诉（编号 {complaint_id}）的处理打分（1–5 分），{expires_at} 前有效。"),
        "en": ("How did we do?", "Please rate how we handled complaint {complaint_id} (1–5) before {expires_at}."),
    },
    "survey_reminder": {
        "zh-CN": ("评价提醒", "提醒：您还可以在 {expires_at} 前为投诉（编号 {complaint_id}）的处理打分。"),
        "en": ("A reminder", "You can still rate how we handled complaint {complaint_id} until {expires_at}."),
    },
    "reopened": {
        "zh-CN": ("投诉已重新处理", "很抱歉没能让您满意，您的投诉（编号 {complaint_id}）已重新打开并加急处理，我们会在 {resolution_due} 前给您答复。"),
        "en": ("We have reopened your complaint", "We are sorry we did not get it right. Complaint {complaint_id} is reopened with priority; we will get back to you by {resolution_due}."),
    },
    "closed": {
        "zh-CN": ("感谢您的反馈", "感谢您的评价，投诉（编号 {complaint_id}）已关闭。"),
        "en": ("Thank you for your feedback", "Thank you for your rating. Complaint {complaint_id} is now closed."),
    },
}

# what a customer is asked for when the agent gave no text of their own (``ask``)
GENERIC_ASK = {"zh-CN": "客服人员向您询问的信息或照片。", "en": "the details or photos our agent asked you for. "}

STAFF = {
    "at_risk": "[at risk] {severity} complaint {complaint_id} ({team}): its {clock} window is due {due} (level {level}).",
    "pause_expired": "{severity} complaint {complaint_id} ({team}) waited for the customer since {paused_at} without a reply; its clock runs again, due {resolution_due}.",
    "customer_replied": "The customer of {severity} complaint {complaint_id} ({team}) replied; its clock runs again, due {resolution_due}.",
    "retriaged": "{severity} complaint {complaint_id} was re-triaged to {team} by {by}: {reason}",
    "breach": "[L{level}] {severity} complaint {complaint_id} ({team}) missed its {clock} window; next due {next_due}.",
    "manual_escalation": "[L{level}] {severity} complaint {complaint_id} ({team}) escalated by {by}: {reason}",
    "reopened": "Complaint {complaint_id} ({team}, {severity}) reopened after a score of {score} (reopen {reopen_count}).",
    "closed_unsatisfied": "Complaint {complaint_id} ({team}) closed unsatisfied after {reopen_count} reopens (score {score}).",
}


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "-"


def _sentence(ask: str, locale: str) -> str:
    """The agent's question as the sentence the template expects (ends with its stop)."""
    ask = ask.strip()
    if not ask:
        return GENERIC_ASK.get(locale, GENERIC_ASK["zh-CN"])
    if not ask.endswith(("。", ".", "？", "?", "！", "!")):
        ask += "。" if locale == "zh-CN" else "."
    return ask if locale == "zh-CN" else ask + " "


def customer_message(template: str, locale: str, params: dict[str, Any]) -> tuple[str, str]:
    texts = CUSTOMER[template].get(locale) or CUSTOMER[template]["zh-CN"]
    names = TEAM_NAMES.get(locale, TEAM_NAMES["zh-CN"])
    values = _Missing(params, team_name=names.get(str(params.get("team")), params.get("team", "")))
    if "ask" in params:
        values["ask"] = _sentence(str(params["ask"] or ""), locale)
    return texts[0].format_map(values), texts[1].format_map(values)


def staff_message(template: str, params: dict[str, Any]) -> tuple[str, str]:
    body = STAFF[template].format_map(_Missing(params))
    return body[:100], body
