"""Volunteer registry and training command handlers: plain functions of a command and what
the bus gives them; and the registry's loaders and queries (``volunteer_of``, ``masked``...)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import msgspec

from domain.identity import PersonalDataAccess
from domain.ledger import AccountKind, account_id_for
from domain.provenance import Provenance
from domain.rules import KeyReused, NotFound, RuleViolated
from domain.volunteer import (
    Training,
    Volunteer,
    VolunteerStatus,
    enrol,
    hold_training,
    training_id_for,
    volunteer_id_for,
)
from services.bus import Acting, Handler, Receipt
from services.identity.records import member_of
from services.stations.handlers import check_sees_people, check_works_at, station_for
from services.store.eventstore import Timebank, retried_on_conflict
from services.store.vault import Vault
from services.volunteers.commands import (
    ChangeVolunteerStatus,
    RecordAward,
    RecordEvaluation,
    RecordTraining,
    RegisterVolunteer,
    UpdateVolunteerProfile,
    VolunteerBasics,
)


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


def volunteer_at_hand(acting: Acting, volunteer_id: UUID) -> Volunteer:
    """A volunteer to act on: only the staff of their home station (or over it) may."""
    volunteer = volunteer_of(acting.app, volunteer_id)
    check_works_at(acting.app, acting.by, member_of(acting.app, volunteer.member_id).station)
    return volunteer


def open_details(
    app: Timebank, vault: Vault, *, volunteer_id: UUID, purpose: str, by: Provenance
) -> tuple[Volunteer, VolunteerDetails | None, int]:
    """The volunteer's Art. 5 details (None once the member was erased), after recording in
    the personal-data access log who opened them and why, as for a member's details."""
    volunteer = volunteer_of(app, volunteer_id)
    check_sees_people(app, by, member_of(app, volunteer.member_id).station)
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


def details_of(basics: VolunteerBasics) -> VolunteerDetails:
    return VolunteerDetails(
        name=basics.name,
        gender=basics.gender,
        birth_date=basics.birth_date,
        id_number=basics.id_number,
        area=basics.area,
        contact=basics.contact,
    )


@retried_on_conflict
def register(command: RegisterVolunteer, acting: Acting) -> Receipt:
    """Register an active member as a volunteer, their Art. 5 details sealed in the vault."""
    app, member_id = acting.app, command.member_id
    member = member_of(app, member_id)
    check_works_at(app, acting.by, member.station)
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
        sealed_details=acting.vault.seal(member_id, details_of(command)),
        consent_version=command.consent_version,
        skills=tuple(command.skills),
        categories=tuple(command.categories),
        building=command.building,
        registered_on=acting.local_now().date(),
        by=acting.by,
    )
    return Receipt(volunteer.id, app.record(volunteer))


@retried_on_conflict
def change_status(command: ChangeVolunteerStatus, acting: Acting) -> Receipt:
    volunteer = volunteer_at_hand(acting, command.volunteer_id)
    volunteer.change_status(command.status, command.reason, acting.by)
    return Receipt(volunteer.id, acting.app.record(volunteer))


@retried_on_conflict
def update_profile(command: UpdateVolunteerProfile, acting: Acting) -> Receipt:
    volunteer = volunteer_at_hand(acting, command.volunteer_id)
    skills, categories = tuple(command.skills), tuple(command.categories)
    volunteer.update_profile(skills, categories, command.building, acting.by)
    return Receipt(volunteer.id, acting.app.record(volunteer))


@retried_on_conflict
def give_award(command: RecordAward, acting: Acting) -> Receipt:
    volunteer = volunteer_at_hand(acting, command.volunteer_id)
    volunteer.give_award(command.name, command.awarded_on, command.awarded_by, acting.by)
    return Receipt(volunteer.id, acting.app.record(volunteer))


@retried_on_conflict
def evaluate(command: RecordEvaluation, acting: Acting) -> Receipt:
    volunteer = volunteer_at_hand(acting, command.volunteer_id)
    volunteer.evaluate(command.rating, command.stars, command.evaluated_on, command.note, acting.by)
    return Receipt(volunteer.id, acting.app.record(volunteer))


@retried_on_conflict
def record_training(command: RecordTraining, acting: Acting) -> Receipt:
    """Record a training session and who attended, at the station named or the caller's own;
    a retry answers as the first one did."""
    app, attendees = acting.app, tuple(command.attendees)
    existing = app.find(training_id_for(command.idempotency_key), Training)
    if existing is not None:
        same = (existing.name, existing.minutes, existing.held_on, existing.attendees)
        if same != (command.name, command.minutes, command.held_on, attendees):
            raise KeyReused
        return Receipt(existing.id, app.last_position(), replayed=True)
    training = hold_training(
        idempotency_key=command.idempotency_key,
        name=command.name,
        content=command.content,
        minutes=command.minutes,
        organiser=command.organiser,
        held_on=command.held_on,
        today=acting.local_now().date(),
        attendees=tuple(volunteer_of(app, attendee) for attendee in attendees),
        by=acting.by,
        station=station_for(acting, command.station),
    )
    return Receipt(training.id, app.record(training))


HANDLERS: dict[type, Handler] = {
    RegisterVolunteer: register,
    ChangeVolunteerStatus: change_status,
    UpdateVolunteerProfile: update_profile,
    RecordAward: give_award,
    RecordEvaluation: evaluate,
    RecordTraining: record_training,
}
