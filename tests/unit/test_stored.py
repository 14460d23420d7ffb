"""How values go into the read store and come out on the pages, at the ends of what a
datetime and a BIGINT hold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from projections.stored import in_utc, in_zone, later_by, month_of, stamp, storable
from services.pages import i18n

EAST = timezone(timedelta(hours=14))
WEST = timezone(timedelta(hours=-14))


def test_instants_utc_cannot_hold_are_stored_at_the_ends_of_the_calendar_in_order():
    first, last = datetime(1, 1, 1, tzinfo=EAST), datetime(9999, 12, 31, 23, 59, tzinfo=WEST)
    assert in_utc(first) == datetime.min.replace(tzinfo=UTC)
    assert in_utc(last) == datetime.max.replace(tzinfo=UTC)
    ordinary = datetime(2026, 12, 7, 9, 30, tzinfo=EAST)
    assert stamp(first) < stamp(ordinary) < stamp(last)
    assert len({len(stamp(each)) for each in (first, ordinary, last)}) == 1, "fixed width"


def test_a_span_past_the_calendar_ends_at_its_end():
    settled = datetime(2026, 12, 7, tzinfo=UTC)
    assert later_by(settled, hours=24 * 999_999_999) == datetime.max.replace(tzinfo=UTC)
    assert later_by(settled, hours=2**70) == datetime.max.replace(tzinfo=UTC)
    assert later_by(settled, hours=2) == settled + timedelta(hours=2)


def test_months_have_four_digit_years():
    assert month_of(date(1, 2, 3)) == "0001-02"
    assert month_of(date(2026, 12, 7)) == "2026-12"


def test_numbers_beyond_bigint_are_held_at_its_ends_and_nul_is_replaced():
    row = {"cap": 2**64 - 1, "floor": -(2**70), "memo": "a\x00b", "minutes": 60, "at": None}
    assert storable(row) == {
        "cap": 2**63 - 1,
        "floor": -(2**63),
        "memo": "a\ufffdb",
        "minutes": 60,
        "at": None,
    }
    ordinary = {"minutes": 60, "memo": "tea"}
    assert storable(ordinary) is ordinary, "the common case is passed through untouched"


def test_the_last_stored_instant_shows_east_of_utc():
    shanghai = ZoneInfo("Asia/Shanghai")
    last = stamp(datetime.max.replace(tzinfo=UTC))
    assert in_zone(datetime.fromisoformat(last), shanghai) == datetime.max.replace(tzinfo=UTC)
    assert "9999" in i18n.moment(last, shanghai)
