"""Council meetings: when and where, who is entitled to vote, the agenda and who came."""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.listing import check_no_contact_details
from domain.provenance import Provenance
from domain.rules import RuleViolated
from domain.station import DEFAULT_STATION, NamesItsStation

_MEETING_NAMESPACE = uuid5(NAMESPACE_URL, "urn:timebank:meeting")


def meeting_id_for(idempotency_key: str) -> UUID:
    return uuid5(_MEETING_NAMESPACE, idempotency_key)


class Meeting(Aggregate):
    @staticmethod
    def create_id(idempotency_key: str) -> UUID:
        return meeting_id_for(idempotency_key)

    class MeetingCalled(NamesItsStation, Aggregate.Created):
        """Names the station whose council meets."""

        idempotency_key: str
        title: str
        starts_at: datetime
        place: str
        entitled: tuple[UUID, ...]
        by: Provenance
        station: UUID

    @event(MeetingCalled)
    def __init__(
        self,
        idempotency_key: str,
        title: str,
        starts_at: datetime,
        place: str,
        entitled: tuple[UUID, ...],
        by: Provenance,
        station: UUID = DEFAULT_STATION,
    ) -> None:
        self.station = station
        self.title = title
        self.starts_at = starts_at
        self.entitled = frozenset(entitled)  # the council members who may vote here
        self.agenda: list[UUID] = []
        self.present: frozenset[UUID] = frozenset()
        self.attendance_recorded = False
        self.is_closed = False

    def gives_notice(self, now: datetime) -> bool:
        """Whether a motion put on the agenda ``now`` is noticed in advance: it is on the agenda
        published before the meeting begins (公示), not added once the meeting has started."""
        return now < self.starts_at

    def _check_open(self) -> None:
        if self.is_closed:
            raise RuleViolated("meeting-closed", "This meeting is closed.")

    def add_to_agenda(self, motion: UUID, by: Provenance) -> None:
        self._check_open()
        self._add_to_agenda(motion=motion, by=by)

    @event("AgendaItemAdded")
    def _add_to_agenda(self, motion: UUID, by: Provenance) -> None:
        self.agenda.append(motion)

    def reorder(self, agenda: tuple[UUID, ...], by: Provenance) -> None:
        self._check_open()
        if sorted(agenda) != sorted(self.agenda):
            raise RuleViolated(
                "agenda-mismatch", "Reorder the motions on the agenda: the same ones, once each."
            )
        self._reorder(agenda=agenda, by=by)

    def move(self, motion: UUID, step: int, by: Provenance) -> None:
        """Move ``motion`` ``step`` places on the agenda (kept within it): the order it is
        moved in is the one recorded now, whoever reordered it last."""
        order = list(self.agenda)
        if motion not in order:
            raise RuleViolated("not-on-agenda", "That motion is not on this meeting's agenda.")
        here = order.index(motion)
        there = min(max(here + step, 0), len(order) - 1)
        order[here], order[there] = order[there], order[here]
        self.reorder(tuple(order), by)

    @event("AgendaReordered")
    def _reorder(self, agenda: tuple[UUID, ...], by: Provenance) -> None:
        self.agenda = list(agenda)

    def record_attendance(self, present: tuple[UUID, ...], by: Provenance) -> None:
        self._check_open()
        strangers = set(present) - self.entitled
        if strangers:
            raise RuleViolated(
                "not-a-council-member",
                f"{len(strangers)} of those named are not members entitled at this meeting.",
            )
        self._record_attendance(present=tuple(sorted(set(present))), by=by)

    @event("AttendanceRecorded")
    def _record_attendance(self, present: tuple[UUID, ...], by: Provenance) -> None:
        self.present = frozenset(present)
        self.attendance_recorded = True

    def check_vote_may_open(self, now: datetime) -> None:
        """A vote opens at a meeting under way whose attendance is on record: opening it
        snapshots who is present, and quorum is counted from that snapshot, so a vote opened
        on an empty list fails for want of a roll call, not of members."""
        self._check_open()
        if now < self.starts_at:
            raise RuleViolated(
                "meeting-not-started",
                f"The meeting begins at {self.starts_at.isoformat(timespec='minutes')}; open the"
                " vote once it is under way.",
            )
        if not self.attendance_recorded:
            raise RuleViolated(
                "attendance-not-recorded",
                "Record who is present at the meeting before opening the vote: quorum is"
                " counted from it.",
            )

    def close(self, by: Provenance) -> None:
        self._check_open()
        self._close(by=by)

    @event("MeetingClosed")
    def _close(self, by: Provenance) -> None:
        self.is_closed = True


def call_meeting(
    *,
    idempotency_key: str,
    title: str,
    starts_at: datetime,
    place: str,
    entitled: tuple[UUID, ...],
    by: Provenance,
    station: UUID = DEFAULT_STATION,
) -> Meeting:
    if not title.strip() or not place.strip():
        raise RuleViolated("meeting-incomplete", "A meeting needs a title and a place.")
    check_no_contact_details(title, place)  # meetings are listed to anyone
    if not entitled:
        raise RuleViolated("nobody-entitled", "Name the council members entitled to vote.")
    if len(set(entitled)) != len(entitled):
        raise RuleViolated("duplicate-member", "Each member is entitled once.")
    return Meeting(
        idempotency_key=idempotency_key,
        title=title.strip(),
        starts_at=starts_at,
        place=place.strip(),
        entitled=entitled,
        by=by,
        station=station,
    )
