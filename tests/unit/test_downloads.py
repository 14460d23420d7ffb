"""The one CSV writer: text that a spreadsheet would run as a formula is written as text, and
numbers the service writes stay numbers."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from services.web.downloads import FORMULA_STARTS, cell, csv_response


def test_a_number_stays_a_number_and_the_same_text_is_neutralised() -> None:
    assert cell(-5) == -5
    assert cell("-5") == "'-5"
    assert cell("=1+1") == "'=1+1"
    assert cell("3号楼") == "3号楼"
    assert cell(None) is None


@given(st.lists(st.one_of(st.text(), st.integers()), min_size=1, max_size=5))
def test_no_text_cell_begins_a_formula(row: list) -> None:
    answer = csv_response("x", ["a"] * len(row), [row])
    assert answer.media_type == "text/csv"
    [_, written] = list(csv.reader(io.StringIO(str(answer.content)[1:], newline="")))
    for value, shown in zip(row, written, strict=True):
        if isinstance(value, int):
            assert shown == str(value)
        else:
            assert not shown.startswith(FORMULA_STARTS)
            assert shown in (value, "'" + value)
