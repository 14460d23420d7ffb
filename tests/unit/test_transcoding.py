"""The event store's transcoder reads back exactly what it wrote, by its fast path (msgspec)
and by the library's (``json``, for what msgspec refuses), alike."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from eventsourcing.persistence import JSONTranscoder

from domain.ledger import AccountKind, Leg, Limits
from domain.provenance import Provenance
from services.store.transcoding import stored_event_transcoder

VALUE = {
    "id": uuid4(),
    "at": datetime(2026, 12, 7, 9, 30, tzinfo=UTC),
    "day": date(2026, 12, 7),
    "span": timedelta(hours=2),
    "share": Decimal("0.56"),
    "kind": AccountKind.MEMBER,
    "legs": (Leg(uuid4(), -30), Leg(uuid4(), 30)),
    "limits": [Limits(floor=-600, cap=2**70)],
    "by": Provenance(actor="a", channel="api", correlation_id="c"),
    "keyed": {uuid4(): {"nested": (1, 2), "tags": frozenset({"x"})}},
    "tagged_like": {"_type_": "not", "_data_": "a tag", "third": 1},
    "plain": {"text": "社区", "none": None, "list": [1, [2, {"three": 3}]]},
}


def test_what_is_written_reads_back_with_its_types_by_either_path():
    transcoder = stored_event_transcoder()
    written = transcoder.encode(VALUE)
    fast = transcoder.decode(written)
    assert fast == VALUE
    assert fast["kind"] is AccountKind.MEMBER
    assert type(fast["legs"]) is tuple and type(fast["keyed"]) is dict
    slow = JSONTranscoder.decode(transcoder, written)
    assert slow == fast


def test_json_msgspec_refuses_takes_the_librarys_path():
    transcoder = stored_event_transcoder()
    read = transcoder.decode(transcoder.encode({"share": math.nan, "at": VALUE["at"]}))
    assert math.isnan(read["share"]) and read["at"] == VALUE["at"]
