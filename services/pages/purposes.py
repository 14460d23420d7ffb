"""Why a page showed residents' names: each list view goes on the personal-data access log with
one of these purposes. They are recorded in English, as codes are, and shown to the reader of
the log in their language."""

from __future__ import annotations

from services.pages.i18n import N_, gettext

HOURS_LIST = N_("console: the list of hour entries")
HOURS_FOUND = N_("console: hour entries found by member number or name")
TIMELINE = N_("console: an hour entry and its audit timeline")
REGISTRY = N_("console: the member registry")
MEMBERS_FOUND = N_("console: members found by name")
ROLL_CALL = N_("council: the roll call of a meeting")
VOLUNTEERS = N_("console: the volunteer registry")
VOLUNTEERS_FOUND = N_("console: volunteers found by name")
POOL = N_("console: the pool's movements")

LIST_VIEWS = frozenset(
    {HOURS_LIST, HOURS_FOUND, TIMELINE, REGISTRY, MEMBERS_FOUND, ROLL_CALL, VOLUNTEERS}
    | {VOLUNTEERS_FOUND, POOL}
)


def said(purpose: str) -> str:
    """A recorded purpose in the reader's language (one typed by staff as it was typed)."""
    return gettext(purpose) if purpose in LIST_VIEWS else purpose
