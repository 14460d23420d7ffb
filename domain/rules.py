"""The one way a domain rule says no, and the rules every context shares about text."""

from __future__ import annotations

import unicodedata
from datetime import date


class RuleViolated(Exception):
    """A command broke a business rule; nothing was recorded.

    ``code`` is stable and machine-readable (clients branch on it); ``message`` is for people;
    ``field``, when one field of the command is at fault, names it (a form marks that field).
    """

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class NotFound(Exception):
    """The command names something that does not exist."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class KeyReused(RuleViolated):
    """A client's idempotency key came back with a different request than it first named."""

    def __init__(self) -> None:
        super().__init__(
            "idempotency-key-reused",
            "This idempotency key was already used for a different request; use a new key.",
        )


# Control characters have no place in text people read: a NUL cuts a string short in other
# programs, and the rest corrupt screens, logs and exports. Tab and line breaks are text.
CONTROL_CHARACTERS = frozenset(chr(code) for code in [*range(0x20), 0x7F]) - set("\t\n\r")


def plain_text(field: str, text: str) -> None:
    """Refuse ``text`` (the value of ``field``) if it holds a control character."""
    found = CONTROL_CHARACTERS.intersection(text)
    if found:
        shown = ", ".join(f"U+{ord(character):04X}" for character in sorted(found))
        raise RuleViolated(
            "control-character",
            f"{field} holds a control character ({shown}); remove it and try again.",
        )


# Characters that show nothing: spaces of every width, joiners and marks of direction (format
# characters), and the blank letters that pass for a space.
_BLANK_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})
_BLANK_LETTERS = frozenset("\u115f\u1160\u2800\u3164\uffa0")


def is_blank(text: str) -> bool:
    """Whether ``text`` shows nothing a reader could take as words."""
    return all(
        character.isspace()
        or character in _BLANK_LETTERS
        or unicodedata.category(character) in _BLANK_CATEGORIES
        for character in text
    )


def check_period(first: date | str, last: date | str) -> None:
    """A period (of days, or of months written ``YYYY-MM``) starts before it ends, or on the
    day it ends."""
    if first > last:  # type: ignore[operator]
        raise RuleViolated("invalid-period", "The period starts before it ends.")


def require_reason(reason: str, message: str) -> None:
    """A reason the record can show: refused when it shows nothing (spaces only, say)."""
    if is_blank(reason):
        raise RuleViolated("reason-required", message)
