"""``generic`` — for integrations that map the data themselves.

The record is the ``POST /complaints`` body of docs/api.md plus two fields:

- ``external_id`` (required): the sender's own id for the complaint; identity is
  ``("generic", external_id)``, so a re-sent record is a duplicate, not a new complaint.
- ``raised_at`` (required): when the buyer complained, ISO 8601 with ``Z`` or an offset
  (a time without an offset is rejected, not guessed).

``channel`` may be left out and then is ``"marketplace"``. ``customer_id`` is kept as sent (the
sender chose it; no ``generic:`` prefix). Everything is validated with ``ComplaintIn`` exactly
like the API does, so unknown fields are rejected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.marketplaces.base import (
    Adapter,
    ImportedComplaint,
    RecordRejected,
    build_complaint,
    parse_time,
    pick,
    rejecting,
    required_id,
)

SOURCE = "generic"
TITLE = "Generic (pre-mapped POST /complaints body)"

# The mapping is the identity: their field == our field. Only these two are added to the body.
EXTERNAL_ID = "external_id"
RAISED_AT = "raised_at"
DEFAULT_CHANNEL = "marketplace"


def map_record(raw: Mapping[str, Any]) -> ImportedComplaint:
    external_id = required_id(raw, [EXTERNAL_ID], "external id (the sender's own complaint id)")
    with rejecting(external_id):
        found = pick(raw, [RAISED_AT])
        if found is None:
            raise RecordRejected(f"{RAISED_AT}: missing (ISO 8601 time the buyer complained)")
        raised_at = parse_time(RAISED_AT, found[1])
        body = {key: value for key, value in raw.items() if key not in (EXTERNAL_ID, RAISED_AT)}
        body.setdefault("channel", DEFAULT_CHANNEL)
        return ImportedComplaint(
            source=SOURCE,
            external_id=external_id,
            raised_at=raised_at,
            complaint=build_complaint(body, {}),
        )


ADAPTER = Adapter(source=SOURCE, title=TITLE, map_record=map_record)
