"""The kiosk pages: a shared touch screen in the community centre where residents — many of
them elderly — sign in with their member number and PIN and use the time bank and the
council board. Large type and targets, every action that moves time said in plain words
first, and an idle countdown that signs the resident out."""

from __future__ import annotations

from typing import Any

from services.pages.kiosk import council, donations, family, giving, receiving
from services.pages.kiosk.enrolment import enrol, enrol_form
from services.pages.kiosk.first_pin import choose_pin, first_pin_form
from services.pages.kiosk.home import KioskHome
from services.pages.kiosk.hours import VolunteerHours
from services.pages.kiosk.motions import PROPOSE, NewMotion
from services.pages.kiosk.offers import Offers
from services.pages.kiosk.signing import KioskSetup, sign_in, sign_in_form, sign_out, still_here

PAGES: list[Any] = [
    sign_in_form,
    first_pin_form,
    sign_out,
    still_here,
    KioskSetup,
    enrol_form,
    KioskHome,
    giving.Giving,
    *giving.ACTIONS,
    receiving.Receiving,
    *receiving.ACTIONS,
    donations.Donating,
    *donations.ACTIONS,
    family.Family,
    *family.ACTIONS,
    Offers,
    VolunteerHours,
    council.CouncilBoard,
    *council.ACTIONS,
    NewMotion,
    PROPOSE,
]
# Rate-limited per client address, like the API's sign-in.
SIGN_IN_PAGES: list[Any] = [sign_in, choose_pin, enrol]
