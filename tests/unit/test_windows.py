"""The DONE window's end, as a handler checks an instant against the clock it was given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.rules import RuleViolated
from services.windows import CLOCK_SKEW, check_not_future

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)


def test_help_is_recorded_up_to_the_clocks_disagreement_and_not_after():
    check_not_future(NOW + CLOCK_SKEW, NOW)
    with pytest.raises(RuleViolated) as refusal:
        check_not_future(NOW + CLOCK_SKEW + timedelta(seconds=1), NOW)
    assert refusal.value.code == "occurred-in-future"
