"""A name on a shared screen shows its first and last characters only (王*英): one function for
the kiosk and the public certificate."""

from __future__ import annotations

import pytest

from services.volunteers.handlers import masked


@pytest.mark.parametrize(
    ("name", "shown"),
    [("王秀英", "王*英"), ("李明", "李*"), ("欧阳春华", "欧**华"), ("王", "王"), ("", "")],
)
def test_a_name_is_masked_but_for_its_first_and_last_characters(name: str, shown: str) -> None:
    assert masked(name) == shown
