"""``amazon`` — Amazon Seller Central A-to-z Guarantee claims (and the returns report).

One record is one row of the seller's A-to-z claims download, column names as in Amazon's flat
files (``a-to-z-claim-id`` or ``claim-id``, ``amazon-order-id``, ``buyer-id``, ``buyer-email``,
``claim-reason``, ``claim-amount``, ``currency``, ``claim-date``, ``asin``, ``sku``,
``item-name``, ``buyer-comments``). Column names are normalised first (lower case, spaces and
underscores → ``-``), so a row of the returns report (``Order ID``, ``Amazon RMA ID``,
``Return reason``, ``Order Amount``, ``Currency code``, ``Merchant SKU``, ``Item Name``,
``Resolution``) maps the same way.

Assumed (confirm with the export): ``claim-date`` (or ``return-request-date``) is ISO 8601 with
``Z`` or an offset — a time without an offset, a date without a time or US ``MM/DD/YYYY`` is
rejected, not guessed; amounts are decimal strings in ``currency`` (kept: Amazon amounts are not
converted to CNY), and an amount without a currency is rejected. ``buyer-email`` is Amazon's
anonymised relay address; it goes into the contact (locale ``en``) and stands in for the buyer id
when ``buyer-id`` is absent. A claim never has a desired outcome other than a refund unless the
returns report says ``Replacement``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from chalicelib.marketplaces.base import (
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

SOURCE = "amazon"
TITLE = "Amazon (A-to-z Guarantee claims / returns report)"
LOCALE = "en"

# ---------------------------------------------------------------- the mapping, as data
# our field -> their (normalised) columns, first present wins
FIELDS: dict[str, tuple[str, ...]] = {
    "external_id": ("a-to-z-claim-id", "claim-id", "amazon-rma-id"),
    "order_id": ("amazon-order-id", "order-id"),
    "customer_id": ("buyer-id", "buyer-email"),  # -> "amazon:<buyer>"
    "raised_at": ("claim-date", "return-request-date"),
    "description": ("buyer-comments", "customer-comments"),
    "category": ("claim-reason", "return-reason"),
    "desired_outcome": ("resolution",),
    "order_amount": ("order-amount", "claim-amount"),  # every one present is checked
    "currency": ("currency", "currency-code"),
    "product.sku": ("sku", "merchant-sku", "seller-sku", "asin"),
    "product.name": ("item-name", "product-name"),
    "contact.email": ("buyer-email",),
}

# their reason code -> our category; None = known, left to triage (the next field is tried)
REASONS: dict[str, Category | None] = {
    # A-to-z Guarantee claim reasons
    "ITEM_NOT_RECEIVED": "lost_parcel",
    "NOT_RECEIVED": "lost_parcel",
    "ITEM_NOT_AS_DESCRIBED": "not_as_described",
    "MATERIALLY_DIFFERENT": "not_as_described",
    "ITEM_MATERIALLY_DIFFERENT": "not_as_described",
    "DAMAGED": "damaged_in_transit",
    "ITEM_DAMAGED": "damaged_in_transit",
    "DEFECTIVE": "product_quality",
    "ITEM_DEFECTIVE": "product_quality",
    "COUNTERFEIT": "counterfeit",
    "INAUTHENTIC": "counterfeit",
    "LATE_DELIVERY": "delivery_delay",
    "RETURN_REFUND_NOT_RECEIVED": "after_sales",
    "REFUND_NOT_RECEIVED": "after_sales",
    # returns report reason codes
    "CR-DAMAGED_BY_CARRIER": "damaged_in_transit",
    "CR-DAMAGED_BY_FC": "damaged_in_transit",
    "CR-DEFECTIVE": "product_quality",
    "CR-QUALITY_UNACCEPTABLE": "product_quality",
    "AMZ-PG-BAD-DESC": "not_as_described",
    "CR-SWITCHEROO": "not_as_described",  # a different item than ordered
    "CR-MISSED_ESTIMATED_DELIVERY": "delivery_delay",
    "CR-UNWANTED_ITEM": "after_sales",
    "CR-ORDERED_WRONG_ITEM": "after_sales",
    "AMZ-PG-MISORDERED": "after_sales",
    "CR-FOUND_BETTER_PRICE": "after_sales",
    "CR-NO_REASON_GIVEN": "after_sales",
    "CR-UNAUTHORIZED_PURCHASE": "other",
    # known, deliberately left to triage
    "CR-MISSING_PARTS": None,
    "CR-NOT_COMPATIBLE": None,
}

# resolution (returns report) -> desired outcome
RESOLUTIONS: dict[str, DesiredOutcome] = {
    "StandardRefund": "refund",
    "Refund": "refund",
    "Replacement": "exchange",
}
DEFAULT_OUTCOME: DesiredOutcome = "refund"  # what an A-to-z claim asks for
# ------------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s_]+")


def normalise_column(name: str) -> str:
    """``"Amazon RMA ID"`` → ``amazon-rma-id``; ``amazon_order_id`` → ``amazon-order-id``."""
    return _SEPARATORS.sub("-", name.strip().lower())


def _category(raw: Mapping[str, Any]) -> Category | None:
    for name in FIELDS["category"]:
        category = lookup(REASONS, optional_text(raw, [name]))
        if category is not None:
            return category
    return None


def _desired_outcome(raw: Mapping[str, Any]) -> DesiredOutcome:
    outcome = lookup(RESOLUTIONS, optional_text(raw, FIELDS["desired_outcome"]))
    return outcome if outcome is not None else DEFAULT_OUTCOME


def _money(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    amount = amounts(raw, FIELDS["order_amount"])
    if amount is None:
        return None
    currency = optional_text(raw, FIELDS["currency"])
    if currency is None:
        raise RecordRejected(f"{label(FIELDS['currency'])}: missing — {amount[0]} needs its currency")
    currency = currency.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise RecordRejected(f"{label(FIELDS['currency'])}: not an ISO 4217 code: {currency!r}")
    return {"amount": amount[1], "currency": currency}


def map_record(raw: Mapping[str, Any]) -> ImportedComplaint:
    raw = {normalise_column(str(key)): value for key, value in raw.items()}
    external_id = required_id(raw, FIELDS["external_id"], "claim id")
    with rejecting(external_id):
        order_id = required_id(raw, FIELDS["order_id"], "order id")
        buyer = required_id(raw, FIELDS["customer_id"], "buyer id")
        time_found = pick(raw, FIELDS["raised_at"])
        if time_found is None:
            raise RecordRejected(f"{label(FIELDS['raised_at'])}: missing time the claim was filed")
        raised_at = parse_time(*time_found)
        category = _category(raw)
        description = optional_text(raw, FIELDS["description"])
        if description is None:
            reason = optional_text(raw, FIELDS["category"])
            if reason is None:
                raise RecordRejected(f"{label(FIELDS['description'] + FIELDS['category'])}: no text at all")
            description = f"Amazon claim reason: {reason}"
        sku = optional_text(raw, FIELDS["product.sku"])
        name = optional_text(raw, FIELDS["product.name"])
        email = optional_text(raw, FIELDS["contact.email"])
        values: dict[str, Any] = {
            "customer_id": f"{SOURCE}:{buyer}",
            "order_id": order_id,
            "channel": "marketplace",
            "desired_outcome": _desired_outcome(raw),
            "description": description,
            "category": category,
            "order_amount": _money(raw),
            "product": {"sku": sku, "name": name} if sku or name else None,
            "contact": {"locale": LOCALE, "email": email.strip() if email else None},
        }
        their = {ours: label(theirs) for ours, theirs in FIELDS.items()}
        their["product"] = label(FIELDS["product.sku"] + FIELDS["product.name"])
        their["contact"] = label(FIELDS["contact.email"])
        their["order_amount"] = label(FIELDS["order_amount"] + FIELDS["currency"])
        return ImportedComplaint(
            source=SOURCE,
            external_id=external_id,
            raised_at=raised_at,
            complaint=build_complaint(values, their),
        )


ADAPTER = Adapter(source=SOURCE, title=TITLE, map_record=map_record)
