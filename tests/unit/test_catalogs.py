"""Every string the pages show is in the catalogs, translated into Chinese; every refusal code
the rules can raise has a sentence for people."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from services.pages import i18n, refusals

PAGES = Path(i18n.__file__).parent
ROOT = PAGES.parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]


def extracted() -> dict[str, tuple[str, int]]:
    """msgid → where it was first found, from every template and page module."""
    found: dict[str, tuple[str, int]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PAGES),
        method_map=METHODS,
        keywords=KEYWORDS,
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, (filename, lineno))
    return found


def zh_catalog() -> dict[str, object]:
    entries: dict[str, object] = {}
    for path in i18n.catalog_files("zh_CN"):
        with path.open("rb") as source:
            for message in read_po(source, locale="zh_CN"):
                if message.id:
                    key = message.id[0] if isinstance(message.id, tuple) else message.id
                    assert entries.get(key, message.string) == message.string, (
                        f"{key!r} is translated differently in two catalogs ({path.name})"
                    )
                    assert not message.fuzzy, f"{key!r} is marked fuzzy in {path.name}"
                    entries[key] = message.string
    return entries


def test_every_page_string_has_a_chinese_translation():
    catalog = zh_catalog()
    missing = {
        msgid: where
        for msgid, where in extracted().items()
        if not catalog.get(msgid) or (isinstance(catalog[msgid], tuple) and not all(catalog[msgid]))
    }
    assert not missing, f"untranslated: {missing}"


def test_the_catalogs_hold_nothing_the_pages_no_longer_say():
    stale = set(zh_catalog()) - set(extracted())
    assert not stale, f"in the catalogs but said nowhere: {stale}"


def test_translations_keep_their_placeholders():
    for msgid, translated in zh_catalog().items():
        wanted = sorted(re.findall(r"%\(\w+\)s", msgid))
        for text in translated if isinstance(translated, tuple) else (translated,):
            assert sorted(re.findall(r"%\(\w+\)s", text)) == wanted, msgid


def raised_codes() -> set[str]:
    """Every refusal code named where a rule refuses, in the domain and the services."""
    pattern = re.compile(r"(?:RuleViolated|NotFound|KeyReused|SignInRefused)\(\s*\"([a-z0-9-]+)\"")
    codes: set[str] = set()
    for folder in ("domain", "services"):
        for path in (ROOT / folder).rglob("*.py"):
            codes.update(pattern.findall(path.read_text()))
    return codes


def test_every_refusal_code_has_a_sentence_for_people():
    assert raised_codes(), "the code search found nothing: the pattern is out of date"
    missing = raised_codes() - set(refusals.BY_CODE)
    assert not missing, f"refusal codes with no sentence: {sorted(missing)}"


@pytest.mark.parametrize(("lang", "expected"), [("zh_CN", "1.5 小时"), ("en", "1.5 hours")])
def test_hours_read_in_the_readers_language(lang, expected):
    with i18n.speaking(lang):
        assert i18n.hours(90) == expected
