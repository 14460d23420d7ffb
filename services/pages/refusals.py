"""What a refusal or failure says to a person, in their language.

The domain explains itself in English for the API's problem details; a resident at the kiosk
reads Chinese. Each refusal code the rules can raise has a plain sentence here, marked for
the catalogs; a test checks that no code the code base raises is missing.
"""

from __future__ import annotations

from eventsourcing.persistence import PersistenceError
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)

from domain.rules import NotFound, RuleViolated
from services.api.problems import ReadModelBehind
from services.eventstore import ConcurrentUpdate
from services.identity import SignInRefused
from services.pages.i18n import N_, gettext

# One sentence per refusal code, said to the person who tried; nothing was recorded.
BY_CODE: dict[str, str] = {}

# When a code has no sentence of its own, what kind of failure it was still says something.
_BY_KIND: tuple[tuple[type[Exception], str], ...] = (
    (
        ConcurrentUpdate,
        N_("Someone else changed the same thing at the same moment. Please try again."),
    ),
    (ReadModelBehind, N_("Your change is saved but not shown yet. Please wait a moment.")),
    (PersistenceError, N_("The system is busy right now. Please try again in a moment.")),
    (SignInRefused, N_("Sign-in did not work. Please check your number and PIN.")),
    (NotAuthorizedException, N_("Please sign in first.")),
    (PermissionDeniedException, N_("This is not something your account can do.")),
    (ValidationException, N_("Some of what was entered is not valid. Please check and try again.")),
    (NotFound, N_("That could not be found. It may have been removed.")),
    (RuleViolated, N_("This is not allowed by the station's rules. Nothing was recorded.")),
)
_UNEXPECTED = N_("Something went wrong. Nothing was recorded. Please ask the station staff.")


def code_of(error: Exception) -> str:
    if isinstance(error, RuleViolated | NotFound | SignInRefused):
        return error.code
    if isinstance(error, HTTPException):
        return f"http-{error.status_code}"
    return type(error).__name__


def explain(error: Exception) -> str:
    """The sentence to show for ``error``, translated."""
    sentence = BY_CODE.get(code_of(error))
    if sentence is None:
        sentence = next((text for kind, text in _BY_KIND if isinstance(error, kind)), _UNEXPECTED)
    return gettext(sentence)
