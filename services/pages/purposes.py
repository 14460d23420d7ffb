"""Why a page showed residents' names: each list view goes on the personal-data access log with
one of these purposes. They are recorded in English, as codes are, and shown to the reader of
the log in their language (``i18n.purpose``)."""

from __future__ import annotations

from services.pages.i18n import N_

HOURS_LIST = N_("console: the list of hour entries")
HOURS_FOUND = N_("console: hour entries found by member number or name")
TIMELINE = N_("console: an hour entry and its audit timeline")
REGISTRY = N_("console: the member registry")
MEMBERS_FOUND = N_("console: members found by name")
ROLL_CALL = N_("council: the roll call of a meeting")
VOLUNTEERS = N_("console: the volunteer registry")
VOLUNTEERS_FOUND = N_("console: volunteers found by name")
POOL = N_("console: the pool's movements")
TRAININGS = N_("console: the trainings and who attended them")
TRAINING_ATTENDEES = N_("console: the volunteers named as a training's attendees")
VOLUNTEER_PAGE = N_("console: a volunteer's page")
MOTION = N_("council: a motion and its timeline")
BALLOTS = N_("council: who voted how in an open vote")
EXCHANGES = N_("console: the list of exchanges")
EXCHANGE = N_("console: an exchange and its dispute")
