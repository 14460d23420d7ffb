"""The pages' languages: Simplified Chinese first, English as a switch.

Strings are written in English in the code and templates and translated through gettext
catalogs (``locale/<lang>/LC_MESSAGES/*.po``, one per area of the pages, merged at start-up).
The catalogs are read from their ``.po`` sources with Babel, so there is no compiled file to
keep in step. Numbers, dates and hours are formatted for the reader's locale by Babel too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, tzinfo
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations

from projections.stored import in_zone

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT = "zh_CN"
LANGUAGES = {"zh_CN": "中文", "en": "English"}  # each named in its own language
LANGUAGE_COOKIE = "lang"

_current: ContextVar[str] = ContextVar("page_language", default=DEFAULT)


def N_(message: str) -> str:
    """Marks a string for the catalogs where it is defined; it is translated where shown."""
    return message


def catalog_files(language: str) -> list[Path]:
    return sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po"))


@cache
def translations(language: str) -> NullTranslations:
    """Every catalog of ``language`` merged into one (English, the source, needs none)."""
    merged: NullTranslations = NullTranslations()
    for path in catalog_files(language):
        with path.open("rb") as source:
            catalog = read_po(source, locale=language)
        compiled = BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        part = Translations(compiled)
        if isinstance(merged, Translations):
            merged.merge(part)
        else:
            merged = part
    return merged


def chosen(requested: str | None) -> str:
    """The language to show: the one asked for if we have it, else Chinese."""
    return requested if requested in LANGUAGES else DEFAULT


def language() -> str:
    return _current.get()


@contextmanager
def speaking(lang: str) -> Iterator[None]:
    """Everything rendered inside speaks ``lang``."""
    token = _current.set(chosen(lang))
    try:
        yield
    finally:
        _current.reset(token)


def use(lang: str) -> None:
    """Set the language for the rest of this request (it runs in its own context)."""
    _current.set(chosen(lang))


def gettext(message: str) -> str:
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(language()).ngettext(singular, plural, n)


def _locale() -> Locale:
    return Locale.parse(language())


def number(value: float) -> str:
    return format_decimal(value, locale=_locale())


def hours(minutes: int) -> str:
    """Minutes as the hours people count in: 90 → "1.5 小时" / "1.5 hours"."""
    value = round(minutes / 60, 2)
    count = 1 if value == 1 else 2  # the plural form follows the number shown, not minutes
    return ngettext("%(hours)s hour", "%(hours)s hours", count) % {"hours": number(value)}


def purpose(text: str) -> str:
    """Why personal data was opened, as the access log shows it: the service's own purposes
    (marked with N_ where they are recorded) in the reader's language, a person's as typed."""
    return gettext(text) if text else ""


def percent(value: float) -> str:
    return format_percent(value, locale=_locale())


def day(value: date | str | None) -> str:
    if not value:
        return ""
    when = date.fromisoformat(value) if isinstance(value, str) else value
    return format_date(when, "long", locale=_locale())


def _when(value: datetime | str, zone: tzinfo | None) -> datetime:
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return in_zone(when, zone) if zone is not None and when.tzinfo is not None else when


def moment(value: datetime | str | None, zone: tzinfo | None = None) -> str:
    """A date and time to the minute (seconds mean nothing to a reader), in the station's
    zone when given one: the locale's medium date with its short time."""
    if not value:
        return ""
    locale = _locale()
    pattern = locale.datetime_formats["medium"].format(
        locale.time_formats["short"].pattern, locale.date_formats["medium"].pattern
    )
    return format_datetime(_when(value, zone), pattern, locale=locale)


def clock(value: datetime | str | None, zone: tzinfo | None = None) -> str:
    """The time of day, in the station's zone when given one."""
    return "" if not value else format_time(_when(value, zone), "short", locale=_locale())
