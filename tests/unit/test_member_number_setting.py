"""How many digits new member numbers have is a setting (issue 17): 6 to 10, and any other
value stops every command at start with what is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from services.composition.cli import main
from services.composition.config import Settings, SettingsRefused

VARIABLE = "TIMEBANK_MEMBER_NUMBER_DIGITS"


def test_new_member_numbers_have_six_digits_unless_set(monkeypatch, tmp_path):
    monkeypatch.delenv(VARIABLE, raising=False)
    assert Settings.from_env(data_dir=tmp_path).member_number_digits == 6
    monkeypatch.setenv(VARIABLE, "8")
    assert Settings.from_env(data_dir=tmp_path).member_number_digits == 8


@pytest.mark.parametrize("written", ["5", "11", "0", "eight"])
def test_a_length_outside_6_to_10_is_refused(monkeypatch, tmp_path, written):
    monkeypatch.setenv(VARIABLE, written)
    with pytest.raises(SettingsRefused, match=r"member_number_digits|MEMBER_NUMBER_DIGITS"):
        Settings.from_env(data_dir=tmp_path)


def test_a_settings_struct_made_in_code_is_held_to_the_same_bounds(tmp_path):
    with pytest.raises(ValueError, match=VARIABLE):
        Settings(data_dir=tmp_path, member_number_digits=11)


def test_a_command_started_with_a_refused_length_says_why_and_stops(monkeypatch, tmp_path):
    monkeypatch.setenv(VARIABLE, "12")
    monkeypatch.setenv("TIMEBANK_DATA", str(tmp_path))
    result = CliRunner().invoke(main, ["api"])
    assert result.exit_code == 1
    assert f"{VARIABLE} must be 6 to 10, not 12" in result.output
    assert "Traceback" not in result.output


def test_every_form_takes_member_numbers_by_the_one_pattern():
    """A page written with six digits in mind would refuse a district's longer numbers."""
    pages = Path(__file__).resolve().parents[2] / "services" / "pages"
    spelled_out = [
        path.relative_to(pages)
        for path in (*pages.rglob("*.html"), *pages.rglob("*.py"))
        if re.search(r"\[1-9\]\[0-9\]\{5\}|[\"']6[\"'],\s*\"\[1-9\]", path.read_text("utf-8"))
    ]
    assert not spelled_out, f"use MEMBER_NUMBER_PATTERN in {spelled_out}"
