"""``jd`` — JD (京东) POP seller after-sale service exports (售后服务单 / 纠纷).

One record is one after-sale service order as JD's seller APIs and 京麦 exports describe it
(``afsServiceId``, ``afsApplyId``, ``orderId``, ``customerPin``, ``customerName``,
``customerExpect`` + ``customerExpectName``, ``questionTypeCid1``/``questionTypeCid2``,
``applyReasonLevelOne``/``applyReasonLevelTwo``, ``questionDesc``, ``questionPic``,
``afsApplyTime``, ``wareId``, ``wareName`` …).

Assumed (confirm with the integration that produces the export):

- ``applyTime`` is the export's name for ``afsApplyTime``; both are read. A time is either
  milliseconds since the Unix epoch (number or digit string) or ``yyyy-MM-dd HH:mm:ss`` Beijing
  time (UTC+8); both become UTC.
- ``questionTypeName`` is the reason text an export adds next to the numeric ids; the reason is
  looked up by text first (``questionTypeName``, ``applyReasonLevelTwo``,
  ``applyReasonLevelOne``), then by id (``questionTypeCid2``, ``questionTypeCid1``).
- The numeric question-type ids are configured per shop and product category by JD. The id table
  below is *this shop's* dictionary (as used by the sample and demo files) — replace it with the
  ids from your 京麦 after-sale settings; an id not in it simply gives no category.
- Amounts are yuan decimal strings: ``orderPayment`` (joined from the order export, 用户应付),
  else ``payPrice`` (the ware's paid price), else ``refundMoney``.
- ``skuId`` (if the export has it) is preferred to ``wareId`` as the product sku.

Masked personal data (``customerMobilePhone`` such as ``138****0000``, ``customerName``) is not
imported.
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

SOURCE = "jd"
TITLE = "JD 京东 (售后服务单 / 纠纷)"
LOCALE = "zh-CN"

# ---------------------------------------------------------------- the mapping, as data
# our field -> their fields, first present wins
FIELDS: dict[str, tuple[str, ...]] = {
    "external_id": ("afsServiceId",),
    "order_id": ("orderId",),
    "customer_id": ("customerPin",),  # -> "jd:<pin>"
    "raised_at": ("applyTime", "afsApplyTime"),
    "description": ("questionDesc", "questionTypeName", "applyReasonLevelTwo", "applyReasonLevelOne"),
    "category": ("questionTypeName", "applyReasonLevelTwo", "applyReasonLevelOne"),
    "category_id": ("questionTypeCid2", "questionTypeCid1"),
    "desired_outcome": ("customerExpect", "customerExpectName"),
    "order_amount": ("orderPayment", "payPrice", "refundMoney"),  # yuan; every one present is checked
    "product.sku": ("skuId", "wareId"),
    "product.name": ("wareName", "skuName"),
}

# their reason text -> our category; None = known, left to triage (the next field is tried)
REASONS: dict[str, Category | None] = {
    # product
    "质量问题": "product_quality",
    "商品质量问题": "product_quality",
    "性能故障": "product_quality",
    "功能故障": "product_quality",
    "做工问题": "product_quality",
    "假冒商品": "counterfeit",
    "疑似假货": "counterfeit",
    "假货": "counterfeit",
    "与商品描述不符": "not_as_described",
    "商品与描述不符": "not_as_described",
    "与页面描述不符": "not_as_described",
    "发错货": "not_as_described",
    # logistics
    "商品破损": "damaged_in_transit",
    "运输破损": "damaged_in_transit",
    "外包装破损": "damaged_in_transit",
    "未收到货": "lost_parcel",
    "少件/漏发": "lost_parcel",
    "少件": "lost_parcel",
    "丢件": "lost_parcel",
    "配送超时": "delivery_delay",
    "物流太慢": "delivery_delay",
    # service
    "七天无理由退货": "after_sales",
    "7天无理由退货": "after_sales",
    "不想要了": "after_sales",
    "拍错了": "after_sales",
    "发票问题": "after_sales",
    "安装问题": "after_sales",
    "价格保护": "promotion_rules",
    "赠品未收到": "promotion_rules",
    "服务态度差": "service_attitude",
    "配送员态度差": "service_attitude",
    # known, deliberately left to triage
    "其他": None,
}

# questionTypeCid2 / questionTypeCid1 -> our category. THIS SHOP's ids (see the module doc).
QUESTION_TYPE_IDS: dict[str, Category | None] = {
    "1001": "product_quality",  # 质量问题
    "1002": "damaged_in_transit",  # 商品破损
    "1003": "not_as_described",  # 与商品描述不符
    "1004": "lost_parcel",  # 少件/漏发
    "1005": "counterfeit",  # 假冒商品
    "1006": "after_sales",  # 七天无理由退货
    "1007": "delivery_delay",  # 配送超时
}

# customerExpect (code or name) -> desired outcome
CUSTOMER_EXPECT: dict[str, DesiredOutcome] = {
    "10": "return",
    "退货": "return",
    "20": "exchange",
    "换货": "exchange",
    "30": "exchange",  # 维修: no "repair" outcome — the buyer wants working goods back
    "维修": "exchange",
    "补发": "exchange",
    "仅退款": "refund",
    "退款": "refund",
}
DEFAULT_OUTCOME: DesiredOutcome = "return"  # an after-sale service order is a return by default
# ------------------------------------------------------------------------------------


def _category(raw: Mapping[str, Any]) -> Category | None:
    for name in FIELDS["category"]:
        category = lookup(REASONS, optional_text(raw, [name]))
        if category is not None:
            return category
    for name in FIELDS["category_id"]:
        by_id = lookup(QUESTION_TYPE_IDS, optional_text(raw, [name]))
        if by_id is not None:
            return by_id
    return None


def _desired_outcome(raw: Mapping[str, Any]) -> DesiredOutcome:
    for name in FIELDS["desired_outcome"]:
        outcome = lookup(CUSTOMER_EXPECT, optional_text(raw, [name]))
        if outcome is not None:
            return outcome
    return DEFAULT_OUTCOME


def map_record(raw: Mapping[str, Any]) -> ImportedComplaint:
    external_id = required_id(raw, FIELDS["external_id"], "after-sale service id")
    with rejecting(external_id):
        order_id = required_id(raw, FIELDS["order_id"], "order id")
        buyer = required_id(raw, FIELDS["customer_id"], "buyer pin")
        time_found = pick(raw, FIELDS["raised_at"])
        if time_found is None:
            raise RecordRejected(f"{label(FIELDS['raised_at'])}: missing time the buyer applied")
        raised_at = parse_time(*time_found, naive_tz=BEIJING, epoch_ms=True)
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
            "desired_outcome": _desired_outcome(raw),
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
