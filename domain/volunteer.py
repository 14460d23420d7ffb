"""Volunteers: the registry of 《志愿服务记录与证明出具办法》 Art. 5–10.

Rules:
- a volunteer is a member registered with the basic information of Art. 5, entered with their
  consent, the consent's notice version recorded (Art. 6); the personal fields are sealed with
  the member's own key, so erasing the member erases them too;
- status is active, paused or left (and back); only an active volunteer's service is recorded;
- awards (Art. 9) and evaluations (Art. 10) are events on the volunteer; trainings (Art. 8) are
  sessions of their own (``Training``), attended by many;
- the volunteer keeps the span of each of their service entries, so an entry overlapping
  another, or a day of more than 16 hours, is flagged when it is recorded.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.provenance import Provenance
from domain.rules import RuleViolated, require_reason
from domain.station import DEFAULT_STATION, NamesItsStation

_VOLUNTEER_NAMESPACE = uuid5(NAMESPACE_URL, "urn:timebank:volunteer")
_TRAINING_NAMESPACE = uuid5(NAMESPACE_URL, "urn:timebank:training")
MAX_MINUTES_A_DAY = 16 * 60


class VolunteerStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    LEFT = "left"


class Rating(StrEnum):
    """Art. 10's quality rating (优秀 / 良好 / 合格 / 不合格)."""

    EXCELLENT = "excellent"
    GOOD = "good"
    PASS = "pass"
    FAIL = "fail"


class Flag(StrEnum):
    """Why a coordinator should look twice at an entry before approving it."""

    LATE = "late"  # recorded more than 10 working days after the activity (Art. 11)
    OVERLAP = "overlap"  # overlaps another entry of the same volunteer
    LONG_DAY = "long-day"  # the volunteer's day would exceed 16 hours


def volunteer_id_for(member_id: UUID) -> UUID:
    return uuid5(_VOLUNTEER_NAMESPACE, str(member_id))


def _check_reason(reason: str) -> None:
    require_reason(reason, "Say why, so the record can show it.")


def _check_labels(labels: tuple[str, ...], what: str) -> None:
    if any(not label.strip() or len(label) > 40 or "|" in label for label in labels):
        raise RuleViolated(
            f"invalid-{what}", f"Each of the {what} is 1–40 characters, without '|'."
        )


class Volunteer(Aggregate):
    @staticmethod
    def create_id(member_id: UUID) -> UUID:
        return volunteer_id_for(member_id)

    @event("VolunteerRegistered")
    def __init__(
        self,
        member_id: UUID,
        account_id: UUID,
        sealed_details: str,
        consent_version: str,
        skills: tuple[str, ...],
        categories: tuple[str, ...],
        building: str,
        registered_on: date,
        by: Provenance,
    ) -> None:
        self.member_id = member_id
        self.account_id = account_id
        self.sealed_details = sealed_details  # Art. 5 fields, sealed with the member's key
        self.consent_version = consent_version
        self.skills = tuple(skills)
        self.categories = tuple(categories)
        self.building = building
        self.status = VolunteerStatus.ACTIVE
        self.spans: dict[UUID, tuple[datetime, int]] = {}  # entry -> (start, minutes)

    def check_may_serve(self) -> None:
        if self.status is VolunteerStatus.LEFT:
            raise RuleViolated(
                "volunteer-left", "This volunteer has left; their service cannot be recorded."
            )
        if self.status is VolunteerStatus.PAUSED:
            raise RuleViolated(
                "volunteer-paused",
                "This volunteer is paused; make them active again before recording service.",
            )

    def change_status(self, status: VolunteerStatus, reason: str, by: Provenance) -> None:
        _check_reason(reason)
        if status is self.status:
            raise RuleViolated("status-unchanged", f"The volunteer is already {status.value}.")
        self._change_status(status=status, reason=reason, by=by)

    @event("VolunteerStatusChanged")
    def _change_status(self, status: VolunteerStatus, reason: str, by: Provenance) -> None:
        self.status = VolunteerStatus(status)

    def update_profile(
        self, skills: tuple[str, ...], categories: tuple[str, ...], building: str, by: Provenance
    ) -> None:
        _check_labels(skills, "skills")
        _check_labels(categories, "categories")
        self._update_profile(skills=skills, categories=categories, building=building, by=by)

    @event("VolunteerProfileUpdated")
    def _update_profile(
        self, skills: tuple[str, ...], categories: tuple[str, ...], building: str, by: Provenance
    ) -> None:
        self.skills = tuple(skills)
        self.categories = tuple(categories)
        self.building = building

    def give_award(self, name: str, awarded_on: date, awarded_by: str, by: Provenance) -> None:
        if not name.strip() or not awarded_by.strip():
            raise RuleViolated("award-incomplete", "An award names itself and who gave it.")
        self._give_award(name=name, awarded_on=awarded_on, awarded_by=awarded_by, by=by)

    @event("AwardGiven")
    def _give_award(self, name: str, awarded_on: date, awarded_by: str, by: Provenance) -> None:
        pass

    def evaluate(
        self, rating: Rating, stars: int | None, evaluated_on: date, note: str, by: Provenance
    ) -> None:
        if stars is not None and not 1 <= stars <= 5:
            raise RuleViolated("invalid-stars", "A star rating is 1 to 5 stars.")
        self._evaluate(rating=rating, stars=stars, evaluated_on=evaluated_on, note=note, by=by)

    @event("VolunteerEvaluated")
    def _evaluate(
        self, rating: Rating, stars: int | None, evaluated_on: date, note: str, by: Provenance
    ) -> None:
        pass

    def flags_for(self, entry_id: UUID, started_at: datetime, minutes: int) -> set[Flag]:
        """What is odd about a span of service, next to this volunteer's other entries."""
        flags = set()
        ends_at = started_at + timedelta(minutes=minutes)
        others = [span for other, span in self.spans.items() if other != entry_id]
        if any(
            start < ends_at and started_at < start + timedelta(minutes=length)
            for start, length in others
        ):
            flags.add(Flag.OVERLAP)
        same_day = sum(length for start, length in others if start.date() == started_at.date())
        if same_day + minutes > MAX_MINUTES_A_DAY:
            flags.add(Flag.LONG_DAY)
        return flags

    @event("ServiceSpanKept")
    def keep_span(self, entry_id: UUID, started_at: datetime, minutes: int, by: Provenance) -> None:
        self.spans[entry_id] = (started_at, minutes)

    @event("ServiceSpanDropped")
    def drop_span(self, entry_id: UUID, by: Provenance) -> None:
        self.spans.pop(entry_id, None)


def enrol(
    *,
    member_id: UUID,
    account_id: UUID,
    sealed_details: str,
    consent_version: str,
    skills: tuple[str, ...],
    categories: tuple[str, ...],
    building: str,
    registered_on: date,
    by: Provenance,
) -> Volunteer:
    if not consent_version.strip():
        raise RuleViolated(
            "consent-required",
            "Record the version of the notice the volunteer consented to (Art. 6).",
        )
    _check_labels(skills, "skills")
    _check_labels(categories, "categories")
    return Volunteer(
        member_id=member_id,
        account_id=account_id,
        sealed_details=sealed_details,
        consent_version=consent_version,
        skills=skills,
        categories=categories,
        building=building.strip(),
        registered_on=registered_on,
        by=by,
    )


def training_id_for(idempotency_key: str) -> UUID:
    return uuid5(_TRAINING_NAMESPACE, idempotency_key)


class Training(Aggregate):
    """A training session (Art. 8) and who attended it."""

    @staticmethod
    def create_id(idempotency_key: str) -> UUID:
        return training_id_for(idempotency_key)

    class TrainingHeld(NamesItsStation, Aggregate.Created):
        """Names the station that held the training."""

        idempotency_key: str
        name: str
        content: str
        minutes: int
        organiser: str
        held_on: date
        attendees: tuple[UUID, ...]
        by: Provenance
        station: UUID

    @event(TrainingHeld)
    def __init__(
        self,
        idempotency_key: str,
        name: str,
        content: str,
        minutes: int,
        organiser: str,
        held_on: date,
        attendees: tuple[UUID, ...],
        by: Provenance,
        station: UUID = DEFAULT_STATION,
    ) -> None:
        self.station = station
        self.name = name
        self.minutes = minutes
        self.held_on = held_on
        self.attendees = tuple(attendees)


def hold_training(
    *,
    idempotency_key: str,
    name: str,
    content: str,
    minutes: int,
    organiser: str,
    held_on: date,
    today: date,
    attendees: tuple[Volunteer, ...],
    by: Provenance,
    station: UUID = DEFAULT_STATION,
) -> Training:
    if not name.strip() or not organiser.strip():
        raise RuleViolated("training-incomplete", "A training names itself and its organiser.")
    if type(minutes) is not int or minutes <= 0:
        raise RuleViolated("invalid-minutes", "Minutes are whole numbers above zero.")
    if held_on > today:
        raise RuleViolated("date-in-future", "A training is recorded after it was held.")
    if not attendees:
        raise RuleViolated("no-attendees", "Name the volunteers who attended.")
    if len({volunteer.id for volunteer in attendees}) != len(attendees):
        raise RuleViolated("duplicate-attendee", "Each volunteer attends a training once.")
    return Training(
        idempotency_key=idempotency_key,
        name=name,
        content=content,
        minutes=minutes,
        organiser=organiser,
        held_on=held_on,
        attendees=tuple(volunteer.id for volunteer in attendees),
        by=by,
        station=station,
    )
