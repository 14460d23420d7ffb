"""Every string the pages show is in the catalogs, translated into Chinese; every refusal code
the rules can raise has a sentence for people."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from domain.exchange import ExchangeStatus
from domain.hours import EntryStatus
from domain.motion import MotionStatus
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


# Where a refusal names its code: the first argument of a refusal (or of the constructor of
# one with a fixed code, such as KeyReused), or a bulk command's per-item ``code=``.
# A code is lower-case words joined by dashes; built at run time, it has {...} in it.
CODE = r"(f?)\"([a-z0-9-]*(?:\{[^}\"]*\}[a-z0-9-]*)*)\""
RAISED = re.compile(
    rf"(?:RuleViolated|NotFound|SignInRefused|super\(\)\.__init__)\(\s*{CODE}|\bcode={CODE}"
)
# A code built at run time (an f-string, as the source spells it) and every code it becomes.
DYNAMIC_CODES = {
    "entry-{self.status.value}": {f"entry-{status.value}" for status in EntryStatus},
    "exchange-{self.status.value.replace('_', '-')}": {
        f"exchange-{status.value.replace('_', '-')}" for status in ExchangeStatus
    },
    "motion-{self.status.value.replace('_', '-')}": {
        f"motion-{status.value.replace('_', '-')}" for status in MotionStatus
    },
    # domain/hours.py: the fields a service entry cannot leave blank
    "{field}-required": {
        f"{field}-required" for field in ("activity", "organiser", "responsible", "category")
    },
    # domain/volunteer.py: a volunteer's labels
    "invalid-{what}": {"invalid-skills", "invalid-categories"},
}


def raised_codes() -> set[str]:
    """Every refusal code named where a rule refuses, in the domain and the services."""
    codes: set[str] = set()
    for folder in ("domain", "services"):
        for path in (ROOT / folder).rglob("*.py"):
            for match in RAISED.finditer(path.read_text()):
                built, code = match.group(1) or match.group(3), match.group(2) or match.group(4)
                if not built:
                    codes.add(code)
                    continue
                assert code in DYNAMIC_CODES, (
                    f"{path.relative_to(ROOT)} builds the refusal code f{code!r} at run time: "
                    "say in DYNAMIC_CODES every code it can become"
                )
                codes.update(DYNAMIC_CODES[code])
    return codes


def test_every_refusal_code_has_a_sentence_for_people():
    assert raised_codes(), "the code search found nothing: the pattern is out of date"
    missing = raised_codes() - set(refusals.BY_CODE)
    assert not missing, f"refusal codes with no sentence: {sorted(missing)}"
    unused = set(refusals.BY_CODE) - raised_codes()
    assert not unused, f"sentences for refusal codes nothing raises: {sorted(unused)}"


@pytest.mark.parametrize(("lang", "expected"), [("zh_CN", "1.5 小时"), ("en", "1.5 hours")])
def test_hours_read_in_the_readers_language(lang, expected):
    with i18n.speaking(lang):
        assert i18n.hours(90) == expected


def test_no_catalog_says_a_message_twice():
    """Branches merged side by side can each add the same message; gettext would keep one."""
    for path in i18n.catalog_files("zh_CN"):
        ids = re.findall(r'^msgid ((?:".*"\n)+)', path.read_text(encoding="utf-8"), flags=re.M)
        repeated = {msgid for msgid in ids if ids.count(msgid) > 1}
        assert not repeated, f"{path.name} says these twice: {repeated}"
