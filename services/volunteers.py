"""Volunteer registry and training command handlers."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import msgspec

from domain.identity import PersonalDataAccess
from domain.ledger import AccountKind, account_id_for
from domain.provenance import Provenance
from domain.rules import KeyReused, NotFound, RuleViolated
from domain.volunteer import (
    Rating,
    Training,
    Volunteer,
    VolunteerStatus,
    enrol,
    hold_training,
    training_id_for,
    volunteer_id_for,
)
from services.bus import Receipt
from services.eventstore import Timebank, retried_on_conflict
from services.identity.records import member_of
from services.vault import Vault


class VolunteerDetails(msgspec.Struct, frozen=True, kw_only=True):
    """The basic information of Art. 5 that names a person: sealed, never in an event."""

    name: str
    gender: str
    birth_date: date
    id_number: str
    area: str  # area of residence
    contact: str


def volunteer_of(app: Timebank, volunteer_id: UUID) -> Volunteer:
    volunteer = app.find(volunteer_id, Volunteer)
    if volunteer is None:
        raise NotFound("volunteer-not-found", f"There is no volunteer {volunteer_id}.")
    return volunteer


def open_details(
    app: Timebank, vault: Vault, *, volunteer_id: UUID, purpose: str, by: Provenance
) -> tuple[Volunteer, VolunteerDetails | None, int]:
    """The volunteer's Art. 5 details (None once the member was erased), after recording in
    the personal-data access log who opened them and why, as for a member's details."""
    volunteer = volunteer_of(app, volunteer_id)
    access = PersonalDataAccess(member_id=volunteer.member_id, purpose=purpose, by=by)
    position = app.record(access)
    details = vault.open(volunteer.member_id, volunteer.sealed_details, VolunteerDetails)
    return volunteer, details, position


def masked(name: str) -> str:
    """A name as public screens show it, the way Chinese public services do: 王秀英 → 王*英,
    王五 → 王*."""
    name = name.strip()
    if len(name) <= 2:
        return name[:1] + "*" * (len(name) - 1)
    return name[0] + "*" * (len(name) - 2) + name[-1]


def masked_name(app: Timebank, vault: Vault, volunteer_id: UUID) -> str | None:
    """The volunteer's masked name (None once their personal data was erased). Only the
    masked form leaves this function, so it is no opening of their details to log."""
    volunteer = volunteer_of(app, volunteer_id)
    details = vault.open(volunteer.member_id, volunteer.sealed_details, VolunteerDetails)
    return masked(details.name) if details is not None else None


def is_volunteer(app: Timebank, member_id: UUID) -> bool:
    """Whether the member acts as a volunteer (active or paused; not once they left)."""
    volunteer = app.find(volunteer_id_for(member_id), Volunteer)
    return volunteer is not None and volunteer.status is not VolunteerStatus.LEFT


@retried_on_conflict
def register(
    app: Timebank,
    vault: Vault,
    *,
    member_id: UUID,
    details: VolunteerDetails,
    consent_version: str,
    skills: tuple[str, ...],
    categories: tuple[str, ...],
    building: str,
    today: date,
    by: Provenance,
) -> Receipt:
    member = member_of(app, member_id)
    if not member.is_active or member.is_erased:
        raise RuleViolated("member-inactive", "Only an active member can become a volunteer.")
    if volunteer_id_for(member_id) in app.repository:
        raise RuleViolated(
            "already-a-volunteer",
            "This member is already registered as a volunteer; change their status instead.",
        )
    volunteer = enrol(
        member_id=member_id,
        account_id=account_id_for(str(member_id), AccountKind.MEMBER),
        # Sealed with the member's own key: erasing the member erases these too.
        sealed_details=vault.seal(member_id, details),
        consent_version=consent_version,
        skills=skills,
        categories=categories,
        building=building,
        registered_on=today,
        by=by,
    )
    return Receipt(volunteer.id, app.record(volunteer))


@retried_on_conflict
def change_status(
    app: Timebank, *, volunteer_id: UUID, status: VolunteerStatus, reason: str, by: Provenance
) -> Receipt:
    volunteer = volunteer_of(app, volunteer_id)
    volunteer.change_status(status, reason, by)
    return Receipt(volunteer.id, app.record(volunteer))


@retried_on_conflict
def update_profile(
    app: Timebank,
    *,
    volunteer_id: UUID,
    skills: tuple[str, ...],
    categories: tuple[str, ...],
    building: str,
    by: Provenance,
) -> Receipt:
    volunteer = volunteer_of(app, volunteer_id)
    volunteer.update_profile(skills, categories, building, by)
    return Receipt(volunteer.id, app.record(volunteer))


@retried_on_conflict
def give_award(
    app: Timebank,
    *,
    volunteer_id: UUID,
    name: str,
    awarded_on: date,
    awarded_by: str,
    by: Provenance,
) -> Receipt:
    volunteer = volunteer_of(app, volunteer_id)
    volunteer.give_award(name, awarded_on, awarded_by, by)
    return Receipt(volunteer.id, app.record(volunteer))


@retried_on_conflict
def evaluate(
    app: Timebank,
    *,
    volunteer_id: UUID,
    rating: Rating,
    stars: int | None,
    evaluated_on: date,
    note: str,
    by: Provenance,
) -> Receipt:
    volunteer = volunteer_of(app, volunteer_id)
    volunteer.evaluate(rating, stars, evaluated_on, note, by)
    return Receipt(volunteer.id, app.record(volunteer))


@retried_on_conflict
def record_training(
    app: Timebank,
    *,
    idempotency_key: str,
    name: str,
    content: str,
    minutes: int,
    organiser: str,
    held_on: date,
    today: date,
    attendees: tuple[UUID, ...],
    by: Provenance,
) -> Receipt:
    existing = app.find(training_id_for(idempotency_key), Training)
    if existing is not None:
        same = (existing.name, existing.minutes, existing.held_on, existing.attendees)
        if same != (name, minutes, held_on, attendees):
            raise KeyReused
        return Receipt(existing.id, app.last_position(), replayed=True)
    training = hold_training(
        idempotency_key=idempotency_key,
        name=name,
        content=content,
        minutes=minutes,
        organiser=organiser,
        held_on=held_on,
        today=today,
        attendees=tuple(volunteer_of(app, attendee) for attendee in attendees),
        by=by,
    )
    return Receipt(training.id, app.record(training))
