"""``tmall`` — Tmall / Taobao seller-side after-sale exports (售后 / 退款 / 维权 / 换货).

One record is one element of what the Taobao Open Platform returns to the seller:

- the refund list (``taobao.refunds.receive.get`` / ``taobao.refund.get``, a ``Refund``):
  ``refund_id``, ``tid``, ``oid``, ``buyer_nick``, ``buyer_open_uid``, ``total_fee``,
  ``refund_fee``, ``payment``, ``reason``, ``desc``, ``created``, ``title``, ``num_iid``,
  ``outer_id``, ``sku``, ``has_good_return``, ``dispute_type``, ``special_refund_type``,
  ``status``, ``good_status``, ``refund_phase`` …
- the Tmall dispute list (``tmall.dispute.receive.get``): same names, but the order id is
  ``biz_order_id`` and the kind of request is the Chinese ``dispute_request``
  (仅退款 / 退货退款 / 换货);
- the Tmall exchange list (``tmall.exchange.receive.get``): the id is ``dispute_id``.

Times (``created``) are Beijing time ``yyyy-MM-dd HH:mm:ss`` without an offset; an ISO time with
an offset is accepted too. Money is yuan as a decimal string (``"200.07"``). ``reason`` is the
Chinese reason the buyer picked from Taobao's list; an unknown one gives no category (triage
classifies the text), never a rejection. Fields not named here are ignored (``status``,
``good_status``, addresses, logistics …). Assumed: ``dispute_type`` values as documented for
``taobao.refund.get``; ``payment`` is *not* the order amount there (it is what the seller keeps).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.marketplaces.base import (
    BEIJING,
    Adapter,
    ImportedComplaint,
    RecordRejected,
    amounts,
    as_id,
    build_complaint,
    label,
    lookup,
    optional_text,
    parse_time,
    pick,
    rejecting,
    required_id,
)
from chalicelib.models import Category, DesiredOutcome

SOURCE = "tmall"
TITLE = "Tmall / Taobao (退款 / 维权 / 换货)"
LOCALE = "zh-CN"

# ---------------------------------------------------------------- the mapping, as data
# our field -> their fields, first present wins
FIELDS: dict[str, tuple[str, ...]] = {
    "external_id": ("refund_id", "dispute_id"),
    "order_id": ("tid", "biz_order_id"),
    "customer_id": ("buyer_open_uid", "buyer_nick"),  # -> "tmall:<buyer>"
    "raised_at": ("created",),
    "description": ("desc", "reason"),  # the buyer's 退款说明; the reason when it is empty
    "category": ("reason", "special_refund_type"),
    "desired_outcome": ("special_refund_type", "dispute_type", "dispute_request", "has_good_return"),
    "order_amount": ("total_fee", "refund_fee"),  # yuan; every one present is checked
    "product.sku": ("outer_id", "num_iid"),
    "product.name": ("title",),
}

# their reason (as the buyer picked it) -> our category; None = known, left to triage (the next field is tried)
REASONS: dict[str, Category | None] = {
    # logistics
    "商品破损": "damaged_in_transit",
    "收到商品破损": "damaged_in_transit",
    "商品破损/少件": "damaged_in_transit",
    "包装/商品破损": "damaged_in_transit",
    "包装/商品破损/污渍": "damaged_in_transit",
    "货物破损已拒签": "damaged_in_transit",
    "未收到货": "lost_parcel",
    "快递/物流一直未送到": "lost_parcel",
    "快递/物流无跟踪记录": "lost_parcel",
    "空包裹": "lost_parcel",
    "少件/漏发": "lost_parcel",
    "未按约定时间发货": "delivery_delay",
    "卖家虚假发货": "delivery_delay",
    "发货太慢": "delivery_delay",
    # product
    "质量问题": "product_quality",
    "商品质量问题": "product_quality",
    "做工问题": "product_quality",
    "商品变质/发霉/有异物": "product_quality",
    "功能故障": "product_quality",
    "假冒品牌": "counterfeit",
    "假货": "counterfeit",
    "描述不符": "not_as_described",
    "商品与描述不符": "not_as_described",
    "商品信息描述不符": "not_as_described",
    "颜色/图案/款式与商品描述不符": "not_as_described",
    "材质与商品描述不符": "not_as_described",
    "大小/尺寸与商品描述不符": "not_as_described",
    "商品成分描述不符": "not_as_described",
    "生产日期/保质期描述不符": "not_as_described",
    "卖家发错货": "not_as_described",
    "发错货": "not_as_described",
    # service
    "七天无理由": "after_sales",
    "七天无理由退换货": "after_sales",
    "7天无理由退换货": "after_sales",
    "多拍/拍错/不想要": "after_sales",
    "协商一致退款": "after_sales",
    "退运费": "after_sales",
    "发票问题": "after_sales",
    "缺货": "after_sales",
    "价格保护": "promotion_rules",
    "价保服务": "promotion_rules",
    "退差返现": "promotion_rules",
    "赠品未收到": "promotion_rules",
    "服务态度差": "service_attitude",
    # known, deliberately left to triage (the text says more than the reason)
    "不喜欢/效果不好": None,
    "其他": None,
}

# dispute_type (taobao.refund.get) -> desired outcome
DISPUTE_TYPES: dict[str, DesiredOutcome] = {
    "REFUND": "refund",
    "REFUND_AND_RETURN": "return",
    "TMALL_EXCHANGE": "exchange",
    "TAOBAO_EXCHANGE": "exchange",
    "REPAIR": "exchange",  # no "repair" outcome: the buyer wants working goods back
    "RESHIPPING": "exchange",  # 补寄: the missing goods sent again
}
# dispute_request (tmall.dispute.receive.get) -> desired outcome
DISPUTE_REQUESTS: dict[str, DesiredOutcome] = {
    "仅退款": "refund",
    "退货退款": "return",
    "换货": "exchange",
    "维修": "exchange",
    "补寄": "exchange",
}
SPECIAL_REFUND_OUTCOME: DesiredOutcome = "compensation"  # 价保 / 退差返现: a price difference
EXCHANGE_ID_OUTCOME: DesiredOutcome = "exchange"  # a dispute_id record comes from the exchange list
DEFAULT_OUTCOME: DesiredOutcome = "refund"  # has_good_return false or absent
# ------------------------------------------------------------------------------------


def _category(raw: Mapping[str, Any]) -> Category | None:
    for name in FIELDS["category"]:
        category = lookup(REASONS, optional_text(raw, [name]))
        if category is not None:
            return category
    return None


def _desired_outcome(raw: Mapping[str, Any], id_field: str) -> DesiredOutcome:
    if pick(raw, ["special_refund_type"]) is not None:
        return SPECIAL_REFUND_OUTCOME
    for name, table in (("dispute_type", DISPUTE_TYPES), ("dispute_request", DISPUTE_REQUESTS)):
        outcome = lookup(table, optional_text(raw, [name]))
        if outcome is not None:
            return outcome
    has_good_return = raw.get("has_good_return")
    if has_good_return is True or str(has_good_return).strip().lower() == "true":
        return "return"
    if id_field == "dispute_id":
        return EXCHANGE_ID_OUTCOME
    return DEFAULT_OUTCOME


def map_record(raw: Mapping[str, Any]) -> ImportedComplaint:
    id_found = pick(raw, FIELDS["external_id"])
    if id_found is None:
        raise RecordRejected(f"{label(FIELDS['external_id'])}: missing dispute id")
    external_id = as_id(*id_found)
    with rejecting(external_id):
        order_id = required_id(raw, FIELDS["order_id"], "order id")
        buyer = required_id(raw, FIELDS["customer_id"], "buyer id")
        time_found = pick(raw, FIELDS["raised_at"])
        if time_found is None:
            raise RecordRejected(f"{label(FIELDS['raised_at'])}: missing time the buyer complained")
        raised_at = parse_time(*time_found, naive_tz=BEIJING)
        description = optional_text(raw, FIELDS["description"])
        if description is None:
            raise RecordRejected(f"{label(FIELDS['description'])}: no text at all")
        amount = amounts(raw, FIELDS["order_amount"])
        sku = optional_text(raw, FIELDS["product.sku"])
        name = optional_text(raw, FIELDS["product.name"])
        values: dict[str, Any] = {
            "customer_id": f"{SOURCE}:{buyer}",
            "order_id": order_id,
            "channel": "marketplace",
            "desired_outcome": _desired_outcome(raw, id_found[0]),
            "description": description,
            "category": _category(raw),
            "order_amount": {"amount": amount[1], "currency": "CNY"} if amount else None,
            "product": {"sku": sku, "name": name} if sku or name else None,
            "contact": {"locale": LOCALE},
        }
        their = {ours: label(theirs) for ours, theirs in FIELDS.items()}
        their["product"] = label(FIELDS["product.sku"] + FIELDS["product.name"])
        return ImportedComplaint(
            source=SOURCE,
            external_id=external_id,
            raised_at=raised_at,
            complaint=build_complaint(values, their),
        )


ADAPTER = Adapter(source=SOURCE, title=TITLE, map_record=map_record)
