"""A simulation's load: one complaint per JSON line, read (:func:`read_load`) or made up
(:func:`make_load`).

A line is the body of ``POST /complaints`` — or, with ``source``, a marketplace record as that
marketplace exports it (``chalicelib/marketplaces``) — plus:

- ``at`` (required): when it arrives, an ISO time or seconds after ``--start``;
- ``customer`` (optional): how its customer behaves, ``{"rates": true, "answer_after_s": 5400,
  "replies": true}`` — answers surveys (after about that long) or never, replies when asked;
- ``profile`` (optional): the customer's profile the service holds, ``{"tier": "vip"}``;
- ``resolution`` (optional): what the agent resolves with (default: the desired outcome);
- ``needs_info`` (optional, default false): the agent pauses the complaint after the first
  contact to ask the customer for something (where the service layer has ``pause``);
- ``agent`` (optional): a scripted agent for this complaint instead of the team's queue,
  ``{"contact_after_s": 3600, "resolve_after_s": 7200}`` (seconds after the customer
  complained; either may be left out) — what the cross-check with the local system uses.

Every line is validated before the simulation starts; a bad one stops it with its line number.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from chalicelib.clock import parse
from chalicelib.marketplaces import BatchInvalid, RecordRejected, map_record
from chalicelib.models import ComplaintIn, ProfileIn, Resolution

EXTRA_KEYS = ("at", "source", "customer", "profile", "resolution", "agent", "needs_info")
SCRIPT_ACTIONS = ("contact", "resolve")
DEFAULT_START = "2026-11-30T00:00:00+08:00"  # a Monday, in the teams' time zone
LOCAL_ZONE = "Asia/Shanghai"  # where the synthetic customers live: their day has its peaks
DEFAULT_ANSWER_AFTER_S = 4 * 3600


class LoadError(ValueError):
    """A load file that cannot be simulated; the message names the file and line."""


@dataclass(frozen=True)
class Arrival:
    line: int  # 1-based line of the load file
    at: datetime
    record: dict[str, Any]  # the POST /complaints body, or the marketplace record
    customer_id: str
    source: str | None = None
    profile: dict[str, Any] = field(default_factory=dict)
    rates: bool = True
    replies: bool = True
    answer_after_s: int = DEFAULT_ANSWER_AFTER_S
    resolution: Resolution = "explanation"
    script: tuple[tuple[int, str], ...] = ()  # (seconds after it was raised, "contact" | "resolve"), in order
    needs_info: bool = False


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


def parse_line(text: str, line: int, start: datetime, where: str) -> Arrival:
    def fail(why: str) -> LoadError:
        return LoadError(f"{where}:{line}: {why}")

    try:
        data = json.loads(text)
    except ValueError as exc:
        raise fail(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise fail(f"expected a JSON object, got {type(data).__name__}")
    if "at" not in data:
        raise fail("missing 'at' (an ISO time or seconds after the start)")
    at_value = data["at"]
    try:
        if isinstance(at_value, int | float) and not isinstance(at_value, bool):
            at = start + timedelta(seconds=float(at_value))
        elif isinstance(at_value, str):
            at = parse(at_value)
        else:
            raise ValueError(f"{at_value!r}")
    except ValueError:
        raise fail(f"at: {at_value!r} is neither an ISO time nor a number of seconds") from None
    at = at.replace(microsecond=0)
    record = {k: v for k, v in data.items() if k not in EXTRA_KEYS}
    customer = data.get("customer", {})
    if not isinstance(customer, dict) or set(customer) - {"rates", "replies", "answer_after_s"}:
        raise fail("customer: expected {\"rates\": bool, \"replies\": bool, \"answer_after_s\": seconds}")
    after = customer.get("answer_after_s", DEFAULT_ANSWER_AFTER_S)
    if not isinstance(after, int) or isinstance(after, bool) or after < 1:
        raise fail(f"customer.answer_after_s: {after!r} is not a positive whole number of seconds")
    try:
        profile = ProfileIn.model_validate(data.get("profile", {})).model_dump() if "profile" in data else {}
    except ValidationError as exc:
        raise fail(f"profile.{_first_error(exc)}") from None
    source = data.get("source")
    if source is not None:
        try:
            mapped = map_record(str(source), line, record)
        except (RecordRejected, BatchInvalid) as exc:
            raise fail(f"{source} record: {exc}") from None
        complaint = mapped.complaint
    else:
        try:
            complaint = ComplaintIn.model_validate(record)
        except ValidationError as exc:
            raise fail(f"not a POST /complaints body: {_first_error(exc)}") from None
    agent = data.get("agent")
    script: list[tuple[int, str]] = []
    if agent is not None:
        if not isinstance(agent, dict) or not agent or set(agent) - {f"{a}_after_s" for a in SCRIPT_ACTIONS}:
            raise fail("agent: expected {\"contact_after_s\": seconds, \"resolve_after_s\": seconds}")
        for action in SCRIPT_ACTIONS:
            value = agent.get(f"{action}_after_s")
            if value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise fail(f"agent.{action}_after_s: {value!r} is not a whole number of seconds")
            script.append((value, action))
        script.sort()
    resolution: Resolution = data.get("resolution", complaint.desired_outcome)
    if resolution not in get_args(Resolution):
        raise fail(f"resolution: {resolution!r} is not one of {', '.join(get_args(Resolution))}")
    return Arrival(line=line, at=at, record=record, customer_id=complaint.customer_id, source=source,
                   profile=profile, rates=bool(customer.get("rates", True)),
                   replies=bool(customer.get("replies", True)), answer_after_s=after, resolution=resolution,
                   script=tuple(script), needs_info=bool(data.get("needs_info", False)))


def read_load(path: Path, start: datetime) -> list[Arrival]:
    """The arrivals of a load file, in the order they arrive (ties: file order)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(f"cannot read the load {path}: {exc}") from None
    arrivals = [parse_line(raw, n, start, str(path)) for n, raw in enumerate(text.splitlines(), 1) if raw.strip()]
    if not arrivals:
        raise LoadError(f"{path}: no complaints in it")
    return sorted(arrivals, key=lambda a: (a.at, a.line))


# -- a synthetic week ----------------------------------------------------------------------------
# Category mix of the seeds: the product team's share 45 %, logistics 30 %, service 25 %.
TEAM_MIX = {"product": 0.45, "logistics": 0.30, "service": 0.25}
# Arrivals per hour of the local day (relative): quiet nights, a late-morning and an evening peak.
HOURLY = (2, 1, 1, 1, 1, 2, 3, 5, 8, 11, 13, 12, 10, 9, 9, 10, 10, 9, 8, 10, 13, 14, 10, 5)
ENGLISH_SHARE = 0.25
NEEDS_INFO_SHARE = 0.15  # the agent has to ask the customer for something (a photo, an order number)
# (rates, replies, answer_after_s): customers who rate soon, rate late, only reply, never answer
BEHAVIOURS = (((True, True, 1800), 35), ((True, True, 6 * 3600), 25), ((False, True, 0), 15),
              ((False, False, 0), 25))
TIERS = (("standard", 88), ("gold", 9), ("vip", 3))
CHANNELS = (("app", 60), ("web", 25), ("phone", 10), ("social", 5))

# Texts per team: (kind, desired outcome, [zh templates], [en templates]) with {item} slots.
# The shape of the labelled triage examples, new sentences; a few are safety risks (P1).
_TEXTS: dict[str, list[tuple[str, str, list[str], list[str]]]] = {
    "product": [
        ("home", "exchange", ["{item}用了不到一周就坏了", "{item}开关失灵，按了没反应"],
         ["The {item} stopped working after five days", "The switch on the {item} does nothing"]),
        ("apparel", "return", ["{item}洗了一次就严重缩水", "{item}的拉链第一天就掉了"],
         ["The {item} shrank badly after one wash", "The zip of the {item} came off on day one"]),
        ("electronics", "refund", ["{item}屏幕有一条竖线，开机就有", "{item}充不进电，换了线也不行"],
         ["The {item} screen has a dead line from the start", "The {item} will not charge with any cable"]),
        ("food", "refund", ["{item}打开发霉了，已经变质", "吃了{item}以后肚子疼，怀疑变质了"],
         ["The {item} was mouldy when I opened it", "The {item} smelled spoiled and made me sick"]),
        ("cosmetics", "refund", ["用了{item}脸上起红疹，过敏了", "{item}和图片完全不一样，像是假的"],
         ["My skin broke out in a rash after using the {item}", "The {item} looks nothing like the real one"]),
        ("electronics", "refund", ["{item}充电的时候冒出一股烟", "{item}用着用着突然烫手冒烟"],
         ["The {item} started smoking while charging", "The {item} got hot and gave off smoke"]),
    ],
    "logistics": [
        ("other", "explanation", ["下单一周了{item}还没发货", "{item}的物流三天没更新了"],
         ["My {item} has not shipped after a week", "Tracking for my {item} has not moved in three days"]),
        ("home", "exchange", ["收到的{item}外箱压扁了，里面也碎了", "{item}送到的时候包装全破了"],
         ["The {item} arrived crushed in a broken box", "The box was torn and the {item} is dented"]),
        ("other", "refund", ["快递显示已签收但我没收到{item}", "{item}在运输中丢了，快递也不管"],
         ["The {item} shows as delivered but never reached me", "The courier lost my {item}"]),
    ],
    "service": [
        ("other", "explanation", ["客服态度很差，问{item}的事直接挂电话", "在线客服半天不回，{item}的问题没人管"],
         ["The agent hung up when I asked about my {item}", "Nobody in chat answers my question about the {item}"]),
        ("other", "refund", ["{item}退货寄回十天了还没退款", "申请{item}售后被拒，也不给理由"],
         ["I returned the {item} ten days ago and still no refund", "My after-sales request for the {item} was refused"]),
        ("other", "compensation", ["{item}的满减券结账时用不了", "说好的{item}第二件半价没有减"],
         ["The coupon for the {item} was not applied at checkout", "The second {item} was not half price as promised"]),
    ],
}
# How often each of those texts comes up: the safety risks (food, cosmetics, smoke) are rare.
_TEXT_WEIGHTS = {"product": (30, 25, 30, 5, 6, 2), "logistics": (45, 25, 30), "service": (35, 40, 25)}
_ITEMS = {
    "home": (("电水壶", "kettle"), ("台灯", "desk lamp"), ("花瓶", "vase"), ("电饭煲", "rice cooker")),
    "apparel": (("羽绒服", "down jacket"), ("牛仔裤", "jeans"), ("运动鞋", "trainers")),
    "electronics": (("蓝牙耳机", "earbuds"), ("平板", "tablet"), ("充电宝", "power bank"), ("手机", "phone")),
    "food": (("牛奶", "milk"), ("坚果礼盒", "nut box"), ("月饼", "mooncakes")),
    "cosmetics": (("面霜", "face cream"), ("精华液", "serum"), ("口红", "lipstick")),
    "other": (("包裹", "parcel"), ("订单", "order"), ("礼品卡", "gift card"), ("行李箱", "suitcase")),
}
_AMOUNTS = {"home": (59, 899), "apparel": (49, 1299), "electronics": (99, 2999), "food": (19, 299),
            "cosmetics": (39, 899), "other": (29, 1999)}


def _weighted(rng: random.Random, options: Any) -> Any:
    values, weights = zip(*options, strict=True)
    return rng.choices(values, weights=weights)[0]


def make_load(*, days: int, per_day: int, seed: int, start: datetime) -> list[dict[str, Any]]:
    """``per_day`` complaints on each of ``days`` days after ``start`` (local day peaks), as load lines."""
    rng = random.Random(f"load:{seed}")
    tz = ZoneInfo(LOCAL_ZONE)
    lines: list[tuple[datetime, dict[str, Any]]] = []
    customers = max(20, days * per_day // 3)  # some customers complain more than once
    for day in range(days):
        midnight = datetime.combine((start.astimezone(tz) + timedelta(days=day)).date(), time(0), tzinfo=tz)
        hours = rng.choices(range(24), weights=HOURLY, k=per_day)
        for n, hour in enumerate(hours):
            at = midnight + timedelta(hours=hour, seconds=rng.randrange(3600))
            team = _weighted(rng, TEAM_MIX.items())
            kind, outcome, zh, en = rng.choices(_TEXTS[team], weights=_TEXT_WEIGHTS[team])[0]
            english = rng.random() < ENGLISH_SHARE
            item_zh, item_en = rng.choice(_ITEMS[kind])
            text = rng.choice(en).format(item=item_en) if english else rng.choice(zh).format(item=item_zh)
            low, high = _AMOUNTS[kind]
            amount = Decimal(round(math.exp(rng.uniform(math.log(low), math.log(high))) * 100)) / 100  # mostly cheap
            customer = f"C-{rng.randrange(customers) + 1:05d}"
            rates, replies, after = _weighted(rng, BEHAVIOURS)
            body: dict[str, Any] = {
                "at": at.isoformat(),
                "customer_id": customer,
                "order_id": f"O-{at:%Y%m%d}-{day * per_day + n + 1:05d}",
                "channel": _weighted(rng, CHANNELS),
                "desired_outcome": outcome,
                "description": text,
                "order_amount": {"amount": f"{amount:.2f}", "currency": "CNY"},
                "product": {"name": item_en if english else item_zh, "kind": kind},
                "contact": {"locale": "en" if english else "zh-CN", "phone": f"+86138{rng.randrange(10**8):08d}"},
                "customer": {"rates": rates, "replies": replies, **({"answer_after_s": after} if rates else {})},
            }
            if rng.random() < NEEDS_INFO_SHARE:
                body["needs_info"] = True
            tier = _weighted(rng, TIERS)
            if tier != "standard":
                body["profile"] = {"tier": tier, "locale": "en" if english else "zh-CN"}
            lines.append((at, body))
    lines.sort(key=lambda pair: pair[0])
    return [body for _, body in lines]


def write_load(lines: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for body in lines:
            out.write(json.dumps(body, ensure_ascii=False) + "\n")
