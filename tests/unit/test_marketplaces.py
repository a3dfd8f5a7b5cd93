"""Marketplace batch import, pure domain: envelope, registry and the four adapters."""

from __future__ import annotations

import collections
import importlib.util
import json
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib import marketplaces
from chalicelib.marketplaces import (
    ADAPTERS,
    MAX_RECORDS,
    Adapter,
    Batch,
    BatchInvalid,
    ImportedComplaint,
    RecordRejected,
    UnknownSource,
    amazon,
    get_adapter,
    jd,
    map_record,
    parse_batch,
    tmall,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "imports"
README = Path(marketplaces.__file__).with_name("README.md")


def sample(source: str) -> str:
    return (DATA / f"{source}.json").read_text(encoding="utf-8")


def envelope(source: str = "tmall", records: list[Any] | None = None, **extra: Any) -> str:
    body = {
        "source": source,
        "batch_id": "test-batch-0001",
        "exported_at": "2026-11-22T08:00:00Z",
        "records": records if records is not None else [{}],
        **extra,
    }
    return json.dumps(body, ensure_ascii=False)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ------------------------------------------------------------------ the sample files

# (source, index) -> what the imported complaint must look like
EXPECTED: dict[tuple[str, int], dict[str, Any]] = {
    ("generic", 0): dict(
        external_id="WS-2026-000101",
        raised_at="2026-11-22T07:55:00Z",
        customer_id="C-1001",
        order_id="O-20261122-0001",
        channel="marketplace",
        category="damaged_in_transit",
        outcome="refund",
        amount=("129.00", "CNY"),
        description="快递到的时候杯子碎了",
        sku="SKU-88",
        locale="zh-CN",
    ),
    ("generic", 1): dict(
        external_id="WS-2026-000102",
        raised_at="2026-11-22T07:20:00Z",
        customer_id="C-1002",
        order_id="O-20261119-0417",
        channel="web",
        category="delivery_delay",
        outcome="compensation",
        amount=("356.00", "CNY"),
        description="下单五天了还显示待发货，客服一直说在催",
    ),
    ("generic", 2): dict(
        external_id="WS-2026-000103",
        raised_at="2026-11-22T06:40:12Z",
        customer_id="C-2044",
        channel="marketplace",
        category=None,
        outcome="return",
        amount=("499.00", "CNY"),
        locale="en",
        description="The jacket's zipper broke the first time I used it.",
    ),
    ("generic", 3): dict(
        external_id="WS-2026-000104",
        raised_at="2026-11-22T07:58:41Z",
        category=None,
        outcome="refund",
        amount=("12800.00", "CNY"),
        description="电暖器用了两天插头发烫冒烟，还漏电，孩子碰了一下被电到了",
    ),
    ("tmall", 0): dict(
        external_id="201935784512345678",
        raised_at="2026-11-22T07:41:07Z",
        customer_id="tmall:AAGx7mK9zQpL3nJ8vR2wT5sY",
        order_id="3894728374629384756",
        channel="marketplace",
        category="damaged_in_transit",
        outcome="refund",
        amount=("129.00", "CNY"),
        description="快递到的时候杯子碎了，外箱也压扁了",
        sku="SKU-88",
        name="晶透玻璃水杯 450ml 耐热双层",
        locale="zh-CN",
    ),
    ("tmall", 1): dict(
        external_id="201935784512345702",
        raised_at="2026-11-22T06:05:33Z",
        category="lost_parcel",
        outcome="refund",
        amount=("59.90", "CNY"),
        sku="652384719877",
    ),
    ("tmall", 2): dict(
        external_id="201935784512345733",
        raised_at="2026-11-22T06:20:00Z",
        category="counterfeit",
        outcome="return",
        amount=("12999.00", "CNY"),
    ),
    ("tmall", 3): dict(
        external_id="201935784512345790",
        raised_at="2026-11-22T02:12:48Z",
        category="not_as_described",
        outcome="return",
        amount=("239.00", "CNY"),
    ),
    ("tmall", 4): dict(
        external_id="201935784512345811",
        raised_at="2026-11-22T07:30:00Z",
        category="product_quality",
        outcome="refund",
        amount=("45.80", "CNY"),
        description="酸奶收到就胀袋了，打开有酸臭味，已经变质，孩子喝了一口就吐了",
    ),
    ("tmall", 5): dict(
        external_id="201935784512345846",
        raised_at="2026-11-21T13:55:19Z",
        category="after_sales",
        outcome="return",
        description="七天无理由退换货",
    ),
    ("tmall", 6): dict(
        external_id="48213377065",
        raised_at="2026-11-22T01:02:11Z",
        order_id="3894728374629395123",
        category=None,
        outcome="exchange",
        amount=None,
        description="鞋码偏小一码，想换大一码的",
    ),
    ("jd", 0): dict(
        external_id="1853920345",
        raised_at="2026-11-22T01:30:00Z",
        customer_id="jd:jd_5f3a2b9c81d4e",
        order_id="301234567890",
        channel="marketplace",
        category="damaged_in_transit",
        outcome="return",
        amount=("159.00", "CNY"),
        description="水壶到手壶身凹进去一块，底座的插头也断了",
        sku="100012043978",
        name="美的电热水壶 1.7L 304不锈钢",
        locale="zh-CN",
    ),
    ("jd", 1): dict(
        external_id="1853920377",
        raised_at="2026-11-22T02:45:30Z",
        category="product_quality",
        outcome="exchange",
        amount=("2399.00", "CNY"),
        description="热水器漏电，洗澡时手碰到外壳被电了一下，太危险了",
        sku="100038291755",
    ),
    ("jd", 2): dict(
        external_id="1853920402",
        raised_at="2026-11-21T23:48:26Z",
        category="counterfeit",
        outcome="return",
        amount=("680.00", "CNY"),
    ),
    ("jd", 3): dict(
        external_id="1853920433",
        raised_at="2026-11-21T23:12:05Z",
        category=None,
        outcome="exchange",
        amount=("1299.00", "CNY"),
    ),
    ("jd", 4): dict(
        external_id="1853920460",
        raised_at="2026-11-22T05:15:42Z",
        category="delivery_delay",
        outcome="return",
        amount=("69.90", "CNY"),
    ),
    ("jd", 5): dict(
        external_id="1853920488",
        raised_at="2026-11-22T00:00:00Z",
        category="product_quality",
        outcome="return",
        amount=("15999.00", "CNY"),
    ),
    ("amazon", 0): dict(
        external_id="9876543210123",
        raised_at="2026-11-21T18:42:10Z",
        customer_id="amazon:A2QW3ERTY7UIOP",
        order_id="114-3941689-8772232",
        channel="marketplace",
        category="lost_parcel",
        outcome="refund",
        amount=("49.99", "USD"),
        sku="MUG-BLK-12",
        locale="en",
        email="x7k2m9q3p1z8@marketplace.amazon.com",
        description="Tracking says delivered but nothing arrived at my door. Neighbors don't have it either.",
    ),
    ("amazon", 1): dict(
        external_id="9876543210456",
        raised_at="2026-11-21T18:15:00Z",
        category="not_as_described",
        amount=("89.00", "USD"),
        sku="B0D1ABC456",
    ),
    ("amazon", 2): dict(
        external_id="9876543210789",
        raised_at="2026-11-22T01:05:44Z",
        category="damaged_in_transit",
        amount=("229.99", "USD"),
    ),
    ("amazon", 3): dict(
        external_id="9876543211012",
        raised_at="2026-11-22T06:30:00Z",
        category="product_quality",
        amount=("1299.00", "EUR"),
    ),
    ("amazon", 4): dict(external_id="9876543211345", category=None, amount=("35.50", "USD")),
    ("amazon", 5): dict(
        external_id="9876543211678",
        raised_at="2026-11-21T22:18:03Z",
        customer_id="amazon:q9w8e7r6t5y4@marketplace.amazon.com",
        category="damaged_in_transit",
        amount=("64.00", "USD"),
        description="Amazon claim reason: CR-DAMAGED_BY_CARRIER",
    ),
}

# (source, index) -> (the field the reason must name, the external id it must carry)
REJECTED: dict[tuple[str, int], tuple[str, str | None]] = {
    ("generic", 4): ("priority", "WS-2026-000105"),
    ("generic", 5): ("raised_at", "WS-2026-000106"),
    ("tmall", 7): ("tid", "201935784512345901"),
    ("tmall", 8): ("refund_fee", "201935784512345937"),
    ("jd", 6): ("applyTime", "1853920511"),
    ("jd", 7): ("afsServiceId", None),
    ("amazon", 6): ("claim-date", "9876543211901"),
    ("amazon", 7): ("claim-amount", "9876543212234"),
}


@pytest.mark.parametrize("source", ["generic", "tmall", "jd", "amazon"])
def test_sample_file_is_a_valid_batch_with_every_record_accounted_for(source: str) -> None:
    # Given the committed sample export of a marketplace
    batch = parse_batch(sample(source))
    # Then it is a batch of that source, and every record is either expected or rejected
    assert batch.source == source
    indexes = {index for src, index in EXPECTED | REJECTED if src == source}
    assert indexes == set(range(len(batch.records)))
    assert 5 <= len(batch.records) <= 10


@pytest.mark.parametrize(("source", "index"), sorted(EXPECTED))
def test_valid_sample_record_maps_to_the_expected_complaint(source: str, index: int) -> None:
    # Given a valid record of a sample file
    batch = parse_batch(sample(source))
    want = EXPECTED[(source, index)]
    # When it is mapped
    got = map_record(batch.source, index, batch.records[index])
    # Then every expected field is right
    complaint = got.complaint
    assert isinstance(got, ImportedComplaint)
    assert got.source == source
    assert got.identity == (source, want["external_id"])
    assert got.external_id == want["external_id"]
    if "raised_at" in want:
        assert got.raised_at == utc(want["raised_at"])
    assert got.raised_at.utcoffset() is not None and got.raised_at.utcoffset().total_seconds() == 0
    assert got.raised_at.microsecond == 0
    if "customer_id" in want:
        assert complaint.customer_id == want["customer_id"]
    else:
        assert source == "generic" or complaint.customer_id.startswith(f"{source}:")
    if "order_id" in want:
        assert complaint.order_id == want["order_id"]
    assert complaint.channel == want.get("channel", "marketplace")
    assert complaint.category == want["category"]
    if "outcome" in want:
        assert complaint.desired_outcome == want["outcome"]
    if "amount" in want:
        if want["amount"] is None:
            assert complaint.order_amount is None
        else:
            assert complaint.order_amount is not None
            amount, currency = want["amount"]
            assert complaint.order_amount.amount == Decimal(amount)
            assert complaint.order_amount.currency == currency
            assert complaint.order_amount.model_dump(mode="json")["amount"] == amount
    if "description" in want:
        assert complaint.description == want["description"]
    if "sku" in want:
        assert complaint.product is not None and complaint.product.sku == want["sku"]
    if "name" in want:
        assert complaint.product is not None and complaint.product.name == want["name"]
    if "locale" in want:
        assert complaint.contact is not None and complaint.contact.locale == want["locale"]
    if "email" in want:
        assert complaint.contact is not None and complaint.contact.email == want["email"]


@pytest.mark.parametrize(("source", "index"), sorted(REJECTED))
def test_invalid_sample_record_is_rejected_with_a_reason_naming_the_field(source: str, index: int) -> None:
    # Given an invalid record of a sample file
    batch = parse_batch(sample(source))
    field, external_id = REJECTED[(source, index)]
    # When it is mapped
    with pytest.raises(RecordRejected) as caught:
        map_record(batch.source, index, batch.records[index])
    # Then it is rejected alone, with a reason that names their field, and its ids
    assert field in caught.value.reason
    assert caught.value.external_id == external_id
    assert caught.value.index == index


def test_chinese_text_passes_through_unchanged() -> None:
    # Given Tmall and JD records with Chinese text and punctuation
    tmall_raw = parse_batch(sample("tmall")).records[0]
    jd_raw = parse_batch(sample("jd")).records[1]
    # When mapped and serialised the way the API does
    from_tmall = map_record("tmall", 0, tmall_raw).complaint
    from_jd = map_record("jd", 1, jd_raw).complaint
    # Then the text is byte for byte what the buyer wrote
    assert from_tmall.description == tmall_raw["desc"]
    assert from_tmall.product is not None and from_tmall.product.name == tmall_raw["title"]
    assert from_jd.description == jd_raw["questionDesc"]
    assert json.loads(from_jd.model_dump_json())["description"] == jd_raw["questionDesc"]


# ------------------------------------------------------------------------ envelope


def test_registry_lists_at_least_four_sources() -> None:
    assert {"generic", "tmall", "jd", "amazon"} <= set(ADAPTERS)
    assert len(ADAPTERS) >= 4
    for source, adapter in ADAPTERS.items():
        assert isinstance(adapter, Adapter) and adapter.source == source and adapter.title
        assert get_adapter(source) is adapter


def test_unknown_source_adapter_raises_unknown_source() -> None:
    with pytest.raises(UnknownSource) as caught:
        get_adapter("ebay")
    assert isinstance(caught.value, BatchInvalid)
    assert "ebay" in caught.value.reason and "tmall" in caught.value.reason


def test_unknown_source_batch_is_invalid() -> None:
    with pytest.raises(BatchInvalid) as caught:
        parse_batch(envelope(source="pinduoduo"))
    assert "source" in caught.value.reason and "pinduoduo" in caught.value.reason


@pytest.mark.parametrize("body", ["", "not json", "{'source': 'tmall'}", b"\xff\xfe{", '{"source": "tmall",'])
def test_not_json_is_invalid(body: str | bytes) -> None:
    with pytest.raises(BatchInvalid) as caught:
        parse_batch(body)
    assert caught.value.reason.startswith("not JSON")


@pytest.mark.parametrize("body", ["[]", '"tmall"', "42", "null"])
def test_json_that_is_not_an_object_is_invalid(body: str) -> None:
    with pytest.raises(BatchInvalid) as caught:
        parse_batch(body)
    assert "not a batch" in caught.value.reason


def test_more_than_500_records_is_invalid() -> None:
    # Given a message of 501 records (a bigger export must be split into several messages)
    body = envelope(records=[{"refund_id": str(n)} for n in range(MAX_RECORDS + 1)])
    # Then the whole message is refused, saying why
    with pytest.raises(BatchInvalid) as caught:
        parse_batch(body)
    assert "records" in caught.value.reason and "500" in caught.value.reason


def test_exactly_500_records_is_a_batch() -> None:
    batch = parse_batch(envelope(records=[{"refund_id": str(n)} for n in range(MAX_RECORDS)]))
    assert len(batch.records) == MAX_RECORDS


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"records": []}, "records"),
        ({"batch_id": "has space"}, "batch_id"),
        ({"batch_id": "x" * 129}, "batch_id"),
        ({"exported_at": "2026-11-22T08:00:00"}, "exported_at"),
        ({"exported_at": "yesterday"}, "exported_at"),
        ({"records": {"a": 1}}, "records"),
        ({"priority": "high"}, "priority"),
    ],
)
def test_malformed_envelope_is_invalid_naming_the_field(change: dict[str, Any], field: str) -> None:
    body = json.loads(envelope())
    body.update(change)
    with pytest.raises(BatchInvalid) as caught:
        parse_batch(json.dumps(body))
    assert field in caught.value.reason


def test_missing_source_is_invalid() -> None:
    body = json.loads(envelope())
    del body["source"]
    with pytest.raises(BatchInvalid) as caught:
        parse_batch(json.dumps(body))
    assert "source" in caught.value.reason


def test_batch_times_become_utc_and_the_model_refuses_unknown_sources() -> None:
    batch = parse_batch(envelope(exported_at="2026-11-22T16:00:00+08:00"))
    assert batch.exported_at == datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    with pytest.raises(ValidationError):
        Batch.model_validate({**json.loads(envelope()), "source": "ebay"})


def test_a_record_that_is_not_an_object_is_rejected_alone() -> None:
    # Given a batch whose second record is not a JSON object
    batch = parse_batch(envelope(source="tmall", records=[json.loads(sample("tmall"))["records"][0], "oops"]))
    # Then the batch is fine, the first record maps and the second alone is rejected
    assert map_record("tmall", 0, batch.records[0]).external_id == "201935784512345678"
    with pytest.raises(RecordRejected) as caught:
        map_record("tmall", 1, batch.records[1])
    assert caught.value.index == 1 and "record" in caught.value.reason


def test_an_adapter_bug_rejects_the_record_instead_of_the_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(raw: Any) -> ImportedComplaint:
        raise KeyError("surprise")

    monkeypatch.setitem(ADAPTERS, "broken", Adapter(source="broken", title="Broken", map_record=broken))
    with pytest.raises(RecordRejected) as caught:
        map_record("broken", 3, {})
    assert caught.value.index == 3 and "KeyError" in caught.value.reason


def test_map_record_for_an_unknown_source_is_a_batch_error() -> None:
    with pytest.raises(UnknownSource):
        map_record("ebay", 0, {})


def test_imported_complaint_is_frozen_and_utc() -> None:
    got = map_record("tmall", 0, parse_batch(sample("tmall")).records[0])
    with pytest.raises(ValidationError):
        got.external_id = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        ImportedComplaint(source="x", external_id="1", raised_at=datetime(2026, 1, 1), complaint=got.complaint)


# ------------------------------------------------------------------------- generic


def generic_record(**change: Any) -> dict[str, Any]:
    record: dict[str, Any] = dict(json.loads(sample("generic"))["records"][0])
    record.update(change)
    return {key: value for key, value in record.items() if value is not None}


def test_generic_unknown_field_is_rejected() -> None:
    with pytest.raises(RecordRejected) as caught:
        map_record("generic", 0, generic_record(tier="vip"))
    assert "tier" in caught.value.reason and caught.value.external_id == "WS-2026-000101"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"external_id": None}, "external_id"),
        ({"external_id": "has space"}, "external_id"),
        ({"raised_at": "2026-11-22T07:55:00"}, "raised_at"),  # no offset: not guessed
        ({"raised_at": "2026-11-22"}, "raised_at"),
        ({"order_id": None}, "order_id"),
        ({"channel": "fax"}, "channel"),
        ({"description": ""}, "description"),
        ({"order_amount": {"amount": "-1.00", "currency": "CNY"}}, "order_amount"),
        ({"product": {"sku": "S", "colour": "red"}}, "product"),
    ],
)
def test_generic_invalid_record_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(RecordRejected) as caught:
        map_record("generic", 0, generic_record(**change))
    assert field in caught.value.reason


def test_generic_keeps_the_senders_channel_and_customer() -> None:
    got = map_record("generic", 0, generic_record(channel="app"))
    assert got.complaint.channel == "app" and got.complaint.customer_id == "C-1001"


# --------------------------------------------------------------------------- tmall


def tmall_record(**change: Any) -> dict[str, Any]:
    record: dict[str, Any] = dict(json.loads(sample("tmall"))["records"][0])
    record.update(change)
    return {key: value for key, value in record.items() if value is not None}


def test_tmall_beijing_time_becomes_utc() -> None:
    got = map_record("tmall", 0, tmall_record(created="2026-11-22 00:30:00"))
    assert got.raised_at == datetime(2026, 11, 21, 16, 30, tzinfo=UTC)


def test_tmall_unknown_reason_gives_no_category_and_is_not_rejected() -> None:
    got = map_record("tmall", 0, tmall_record(reason="买家觉得不合适"))
    assert got.complaint.category is None
    assert got.complaint.description == "快递到的时候杯子碎了，外箱也压扁了"


def test_tmall_reason_matches_full_width_variants() -> None:
    got = map_record("tmall", 0, tmall_record(reason="包装／商品破损／污渍"))
    assert got.complaint.category == "damaged_in_transit"


@pytest.mark.parametrize(
    ("change", "outcome"),
    [
        ({"dispute_type": "TMALL_EXCHANGE"}, "exchange"),
        ({"dispute_type": None, "dispute_request": "退货退款"}, "return"),
        ({"dispute_type": None, "has_good_return": True}, "return"),
        ({"dispute_type": None, "has_good_return": None}, "refund"),
        ({"special_refund_type": "价保服务"}, "compensation"),
    ],
)
def test_tmall_desired_outcome(change: dict[str, Any], outcome: str) -> None:
    assert map_record("tmall", 0, tmall_record(**change)).complaint.desired_outcome == outcome


def test_tmall_dispute_list_record_uses_biz_order_id() -> None:
    got = map_record("tmall", 0, tmall_record(tid=None, biz_order_id=123456789, dispute_request="仅退款"))
    assert got.complaint.order_id == "123456789"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"refund_id": None}, "refund_id"),
        ({"refund_id": 1.5}, "refund_id"),
        ({"tid": None}, "tid"),
        ({"buyer_open_uid": None, "buyer_nick": None}, "buyer_open_uid"),
        ({"created": None}, "created"),
        ({"created": "2026/11/22 10:00"}, "created"),
        ({"created": "1970-01-01 08:00:00"}, "created"),
        ({"total_fee": "-1.00"}, "total_fee"),
        ({"refund_fee": "12.345"}, "refund_fee"),
        ({"refund_fee": "¥12"}, "refund_fee"),
        ({"refund_fee": True}, "refund_fee"),
        ({"desc": None, "reason": None}, "desc"),
    ],
)
def test_tmall_invalid_record_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(RecordRejected) as caught:
        map_record("tmall", 0, tmall_record(**change))
    assert field in caught.value.reason


# ------------------------------------------------------------------------------ jd


def jd_record(**change: Any) -> dict[str, Any]:
    record: dict[str, Any] = dict(json.loads(sample("jd"))["records"][0])
    record.update(change)
    return {key: value for key, value in record.items() if value is not None}


@pytest.mark.parametrize(
    "apply_time",
    [1795311000000, "1795311000000", "2026-11-22 09:30:00", "2026-11-22T01:30:00Z"],
)
def test_jd_time_forms_all_become_the_same_utc_time(apply_time: Any) -> None:
    got = map_record("jd", 0, jd_record(applyTime=apply_time))
    assert got.raised_at == datetime(2026, 11, 22, 1, 30, tzinfo=UTC)


def test_jd_seconds_instead_of_milliseconds_are_rejected() -> None:
    with pytest.raises(RecordRejected) as caught:
        map_record("jd", 0, jd_record(applyTime=1795311000))
    assert "applyTime" in caught.value.reason and "range" in caught.value.reason


def test_jd_reason_by_level_text_and_by_id() -> None:
    by_level = jd_record(questionTypeName=None, applyReasonLevelOne="质量问题", applyReasonLevelTwo="其他")
    # level two 其他 says nothing more: level one decides
    assert map_record("jd", 0, by_level).complaint.category == "product_quality"
    by_id = jd_record(questionTypeName=None, questionTypeCid2=1004)
    assert map_record("jd", 0, by_id).complaint.category == "lost_parcel"
    unknown_id = jd_record(questionTypeName=None, questionTypeCid1=99999)
    assert map_record("jd", 0, unknown_id).complaint.category is None


def test_jd_expectation_codes() -> None:
    assert map_record("jd", 0, jd_record(customerExpect=20)).complaint.desired_outcome == "exchange"
    no_expect = jd_record(customerExpect=None, customerExpectName=None)
    assert map_record("jd", 0, no_expect).complaint.desired_outcome == "return"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"orderId": None}, "orderId"),
        ({"customerPin": None}, "customerPin"),
        ({"applyTime": None}, "applyTime"),
        ({"payPrice": "-159.00"}, "payPrice"),
        ({"orderPayment": "abc"}, "orderPayment"),
    ],
)
def test_jd_invalid_record_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(RecordRejected) as caught:
        map_record("jd", 0, jd_record(**change))
    assert field in caught.value.reason
    assert caught.value.external_id == "1853920345"


# -------------------------------------------------------------------------- amazon


def amazon_record(**change: Any) -> dict[str, Any]:
    record: dict[str, Any] = dict(json.loads(sample("amazon"))["records"][0])
    record.update(change)
    return {key: value for key, value in record.items() if value is not None}


def test_amazon_returns_report_row_maps_through_normalised_columns() -> None:
    # Given a row of the returns report with its own column headers
    row = {
        "Order ID": "114-1234567-7654321",
        "Amazon RMA ID": "DkRt5mZpRRMA",
        "Return request date": "2026-11-21T09:00:00-08:00",
        "Return reason": "CR-DEFECTIVE",
        "Order Amount": "59.99",
        "Currency code": "GBP",
        "Merchant SKU": "KTL-UK-1",
        "Item Name": "Electric kettle",
        "Resolution": "Replacement",
        "buyer_id": "A9ZZ8YY7XX6WW5",
    }
    got = map_record("amazon", 0, row)
    assert got.external_id == "DkRt5mZpRRMA"
    assert got.complaint.order_id == "114-1234567-7654321"
    assert got.raised_at == datetime(2026, 11, 21, 17, 0, tzinfo=UTC)
    assert got.complaint.category == "product_quality"
    assert got.complaint.desired_outcome == "exchange"
    assert got.complaint.order_amount is not None
    assert (got.complaint.order_amount.amount, got.complaint.order_amount.currency) == (Decimal("59.99"), "GBP")
    assert got.complaint.product is not None and got.complaint.product.sku == "KTL-UK-1"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"a-to-z-claim-id": None}, "claim-id"),
        ({"amazon-order-id": None}, "amazon-order-id"),
        ({"buyer-id": None, "buyer-email": None}, "buyer-id"),
        ({"claim-date": "2026-11-21T18:42:10"}, "claim-date"),
        ({"claim-date": None}, "claim-date"),
        ({"currency": None}, "currency"),
        ({"currency": "US$"}, "currency"),
        ({"claim-amount": "49,99"}, "claim-amount"),
        ({"buyer-email": "not-an-email", "buyer-id": "A1"}, "buyer-email"),
    ],
)
def test_amazon_invalid_record_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(RecordRejected) as caught:
        map_record("amazon", 0, amazon_record(**change))
    assert field in caught.value.reason


def test_amazon_without_amount_has_no_money_and_needs_no_currency() -> None:
    got = map_record("amazon", 0, amazon_record(**{"claim-amount": None, "currency": None}))
    assert got.complaint.order_amount is None


# ------------------------------------------------------------------- docs and demo


@pytest.mark.parametrize("module", [tmall, jd, amazon], ids=lambda m: m.SOURCE)
def test_readme_documents_every_reason_of_every_adapter(module: ModuleType) -> None:
    readme = README.read_text(encoding="utf-8")
    assert f"## {module.SOURCE}" in readme
    for reason in module.REASONS:
        assert reason in readme, f"{module.SOURCE} reason {reason!r} missing from README.md"
    for their_fields in module.FIELDS.values():
        for field in their_fields:
            assert field in readme, f"{module.SOURCE} field {field!r} missing from README.md"


def load_make_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_demo", DATA / "make_demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_demo_file_is_what_the_script_generates() -> None:
    make_demo = load_make_demo()
    committed = (DATA / "mixed-demo.jsonl").read_text(encoding="utf-8")
    assert make_demo.render(make_demo.generate()) == committed


def test_demo_file_maps_as_described() -> None:
    # Given the committed demo set
    lines = [json.loads(line) for line in (DATA / "mixed-demo.jsonl").read_text(encoding="utf-8").splitlines()]
    mapped: list[ImportedComplaint] = []
    rejected: list[RecordRejected] = []
    # When every record is mapped by its source's adapter
    for index, line in enumerate(lines):
        try:
            mapped.append(map_record(line["source"], index, line["record"]))
        except RecordRejected as exc:
            rejected.append(exc)
    # Then it has the advertised composition
    assert len(lines) == 300
    assert {line["source"] for line in lines} == {"generic", "tmall", "jd", "amazon"}
    assert len(rejected) == 15 and all(":" in exc.reason for exc in rejected)
    identities = collections.Counter(item.identity for item in mapped)
    assert sum(count - 1 for count in identities.values()) == 6
    assert len(identities) == 279
    # and the variety a demo needs
    categories = {item.complaint.category for item in mapped}
    assert categories >= {
        "product_quality",
        "not_as_described",
        "counterfeit",
        "delivery_delay",
        "damaged_in_transit",
        "lost_parcel",
        "after_sales",
        "promotion_rules",
        "service_attitude",
        None,
    }
    texts = [item.complaint.description for item in mapped]
    for word in ("变质", "过敏", "漏电", "起火", "过期"):
        assert any(word in text for text in texts), word
    assert any(text.isascii() for text in texts) and any(not text.isascii() for text in texts)
    high = [
        item
        for item in mapped
        if item.complaint.order_amount is not None
        and item.complaint.order_amount.currency == "CNY"
        and item.complaint.order_amount.amount >= 10000
    ]
    assert len(high) >= 5
    assert all(item.raised_at <= datetime(2026, 11, 22, 8, 0, tzinfo=UTC) for item in mapped)
