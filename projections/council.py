"""The council's public record: the motion board, each motion's timeline, live tallies, the
implementation tracker, and meetings with their agendas and attendance (for the minutes).

A secret vote's ballots reach this model as who voted and nothing else (their choices stay
sealed in the event store): its counts arrive with ``VotingClosed``, and until then only how
many have voted; nothing here ever names who voted in one."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import msgspec

from domain.council import Choice, Tally, VotingRules, decide
from projections.dispatch import by_payload
from projections.readstore import ReadDb, Row, overdue
from projections.stored import stamp
from services.messaging.envelope import (
    AgendaItemAdded,
    AgendaReordered,
    AttendanceRecorded,
    BallotCast,
    Envelope,
    ImplementationUpdated,
    MeetingCalled,
    MeetingClosed,
    MilestoneAdded,
    MilestoneReached,
    MotionAdmitted,
    MotionDeclined,
    MotionLapsed,
    MotionOwnerReassigned,
    MotionScheduled,
    MotionSeconded,
    MotionSubmitted,
    MotionSupported,
    MotionWithdrawn,
    OwnerAssigned,
    ProgressReported,
    SecretBallotCast,
    VotingClosed,
    VotingOpened,
)

_MOTION_STEPS = (
    MotionSubmitted,
    MotionSupported,
    MotionSeconded,
    MotionLapsed,
    MotionAdmitted,
    MotionDeclined,
    MotionScheduled,
    VotingOpened,
    VotingClosed,
    MotionWithdrawn,
    OwnerAssigned,
    MotionOwnerReassigned,
    ProgressReported,
    MilestoneAdded,
    MilestoneReached,
    ImplementationUpdated,
)
_STATUS_AFTER = {
    MotionSeconded: "seconded",
    MotionLapsed: "lapsed",
    MotionAdmitted: "admitted",
    MotionDeclined: "declined",
    MotionScheduled: "scheduled",
    VotingOpened: "voting",
    MotionWithdrawn: "withdrawn",
    OwnerAssigned: "implementing",
    ProgressReported: "implementing",
}


class Council:
    name = "council"
    tables: ClassVar[dict[str, str]] = {
        "motions": (
            "CREATE TABLE IF NOT EXISTS motions ("
            " motion_id TEXT PRIMARY KEY,"
            " title TEXT NOT NULL,"
            " text TEXT NOT NULL,"
            " mover TEXT NOT NULL,"
            " status TEXT NOT NULL,"
            " amends TEXT,"
            " reconsiders TEXT,"
            " rescinds TEXT,"
            " supporters BIGINT NOT NULL,"
            " seconding_threshold BIGINT NOT NULL,"
            " second_by TEXT NOT NULL,"
            " meeting TEXT,"
            " noticed SMALLINT,"  # on the agenda before the meeting began
            " secret SMALLINT NOT NULL,"
            " rules TEXT,"
            " entitled BIGINT,"
            " present BIGINT,"
            " voted BIGINT,"  # how many have cast a ballot (not how, nor who if secret)
            " result TEXT,"
            " owner TEXT,"
            " due TEXT,"
            " progress BIGINT NOT NULL,"
            " progress_note TEXT,"
            " submitted_at TEXT NOT NULL,"
            " position BIGINT NOT NULL,"
            " station_id TEXT NOT NULL)"
        ),
        "motion_steps": (
            "CREATE TABLE IF NOT EXISTS motion_steps ("
            " motion_id TEXT NOT NULL,"
            " position BIGINT NOT NULL,"
            " type TEXT NOT NULL,"
            " actor TEXT NOT NULL,"
            " channel TEXT NOT NULL,"
            " at TEXT NOT NULL,"
            " detail TEXT NOT NULL,"
            " PRIMARY KEY (motion_id, position))"
        ),
        "ballots": (
            "CREATE TABLE IF NOT EXISTS ballots ("
            " motion_id TEXT NOT NULL,"
            " voter TEXT NOT NULL,"
            " choice TEXT NOT NULL,"
            " position BIGINT NOT NULL,"
            " PRIMARY KEY (motion_id, voter))"
        ),
        "tallies": (
            "CREATE TABLE IF NOT EXISTS tallies ("
            " motion_id TEXT NOT NULL,"
            " choice TEXT NOT NULL,"
            " votes BIGINT NOT NULL,"
            " PRIMARY KEY (motion_id, choice))"
        ),
        "milestones": (
            "CREATE TABLE IF NOT EXISTS milestones ("
            " motion_id TEXT NOT NULL,"
            " name TEXT NOT NULL,"
            " due TEXT NOT NULL,"
            " reached_at TEXT,"
            " PRIMARY KEY (motion_id, name))"
        ),
        "meetings": (
            "CREATE TABLE IF NOT EXISTS meetings ("
            " meeting_id TEXT PRIMARY KEY,"
            " title TEXT NOT NULL,"
            " starts_at TEXT NOT NULL,"
            " place TEXT NOT NULL,"
            " entitled BIGINT NOT NULL,"
            " present TEXT NOT NULL,"
            " agenda TEXT NOT NULL,"
            " is_closed SMALLINT NOT NULL,"
            " position BIGINT NOT NULL,"
            " station_id TEXT NOT NULL)"
        ),
    }

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        payload = envelope.payload()
        self._on(payload, db, envelope)
        if isinstance(payload, _MOTION_STEPS):
            self._step(db, envelope)
            status = _STATUS_AFTER.get(type(payload))
            if status is not None:
                self._motion(db, envelope, status=status)

    def _step(self, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO motion_steps VALUES (%(id)s, %(position)s, %(type)s, %(actor)s,"
            " %(channel)s, %(at)s, %(detail)s)",
            {
                "id": str(envelope.stream_id),
                "position": envelope.position,
                "type": envelope.type,
                "actor": envelope.actor,
                "channel": envelope.channel,
                "at": stamp(envelope.recorded_at),
                "detail": bytes(envelope.data).decode(),
            },
        )

    def _motion(self, db: ReadDb, envelope: Envelope, **values: Any) -> None:
        assignments = ", ".join(f"{column} = %({column})s" for column in values)
        db.execute(
            f"UPDATE motions SET {assignments} WHERE motion_id = %(motion_id)s",
            {**values, "motion_id": str(envelope.stream_id)},
        )

    def _meeting(self, db: ReadDb, envelope: Envelope, **values: Any) -> None:
        assignments = ", ".join(f"{column} = %({column})s" for column in values)
        db.execute(
            f"UPDATE meetings SET {assignments} WHERE meeting_id = %(meeting_id)s",
            {**values, "meeting_id": str(envelope.stream_id)},
        )

    @by_payload
    def _on(self, payload: Any, db: ReadDb, envelope: Envelope) -> None:
        """Events with nothing beyond a step and a status, or not the council's, add nothing."""

    @_on.register
    def _step_only(
        self,
        payload: MotionSeconded | MotionLapsed | MotionAdmitted | MotionDeclined | MotionWithdrawn,
        db: ReadDb,
        envelope: Envelope,
    ) -> None:
        """A step in the motion's timeline and its status, which ``apply`` records; named
        here so that the store hands this model these events (projections.dispatch.shown)."""

    @_on.register
    def _submitted(self, payload: MotionSubmitted, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO motions (motion_id, title, text, mover, status, amends, reconsiders,"
            " rescinds, supporters, seconding_threshold, second_by, secret, progress,"
            " submitted_at, position, station_id) VALUES (%(id)s, %(title)s, %(text)s,"
            " %(mover)s, 'submitted', %(amends)s, %(reconsiders)s, %(rescinds)s, 0,"
            " %(threshold)s, %(second_by)s, 0, 0, %(at)s, %(position)s, %(station)s)",
            {
                "id": str(envelope.stream_id),
                "title": payload.title,
                "text": payload.text,
                "mover": str(payload.mover),
                "amends": str(payload.amends) if payload.amends else None,
                "reconsiders": str(payload.reconsiders) if payload.reconsiders else None,
                "rescinds": str(payload.rescinds) if payload.rescinds else None,
                "threshold": payload.seconding_threshold,
                "second_by": stamp(payload.second_by),
                "at": stamp(envelope.recorded_at),
                "position": envelope.position,
                "station": str(payload.station),
            },
        )

    @_on.register
    def _supported(self, payload: MotionSupported, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "UPDATE motions SET supporters = supporters + 1 WHERE motion_id = %(id)s",
            {"id": str(envelope.stream_id)},
        )

    @_on.register
    def _scheduled(self, payload: MotionScheduled, db: ReadDb, envelope: Envelope) -> None:
        self._motion(db, envelope, meeting=str(payload.meeting), noticed=int(payload.noticed))

    @_on.register
    def _opened(self, payload: VotingOpened, db: ReadDb, envelope: Envelope) -> None:
        self._motion(
            db,
            envelope,
            rules=bytes(envelope.data).decode(),
            secret=int(payload.rules.secret),
            entitled=len(payload.entitled),
            present=len(payload.present),
            voted=0,
        )

    def _turnout(self, db: ReadDb, envelope: Envelope, first: bool) -> None:
        if first:  # a changed vote is still one ballot
            db.execute(
                "UPDATE motions SET voted = voted + 1 WHERE motion_id = %(id)s",
                {"id": str(envelope.stream_id)},
            )

    @_on.register
    def _secret_ballot(self, payload: SecretBallotCast, db: ReadDb, envelope: Envelope) -> None:
        self._turnout(db, envelope, first=not payload.changed)

    @_on.register
    def _ballot(self, payload: BallotCast, db: ReadDb, envelope: Envelope) -> None:
        motion = str(envelope.stream_id)
        self._turnout(db, envelope, first=payload.replaces is None)
        for choice, change in ((payload.choice, 1), (payload.replaces, -1)):
            if choice is not None:
                self._count(db, motion, choice, change)
        secret = db.one("SELECT secret FROM motions WHERE motion_id = %(id)s", {"id": motion})
        if secret is None or secret["secret"]:
            return  # (recorded before secret ballots were sealed) counted, and never named
        keys = {"motion": motion, "voter": str(payload.voter)}
        # A changed vote replaces the earlier one: one row per voter.
        db.execute("DELETE FROM ballots WHERE motion_id = %(motion)s AND voter = %(voter)s", keys)
        db.execute(
            "INSERT INTO ballots VALUES (%(motion)s, %(voter)s, %(choice)s, %(position)s)",
            {**keys, "choice": payload.choice, "position": envelope.position},
        )

    def _count(self, db: ReadDb, motion: str, choice: str, change: int) -> None:
        keys = {"motion": motion, "choice": choice}
        found = db.one(
            "SELECT votes FROM tallies WHERE motion_id = %(motion)s AND choice = %(choice)s", keys
        )
        if found is None:
            db.execute(
                "INSERT INTO tallies VALUES (%(motion)s, %(choice)s, %(votes)s)",
                {**keys, "votes": change},
            )
        else:
            db.execute(
                "UPDATE tallies SET votes = votes + %(change)s"
                " WHERE motion_id = %(motion)s AND choice = %(choice)s",
                {**keys, "change": change},
            )

    @_on.register
    def _closed(self, payload: VotingClosed, db: ReadDb, envelope: Envelope) -> None:
        self._motion(db, envelope, status=payload.result, result=payload.result)
        if payload.yes is None or payload.no is None or payload.abstain is None:
            return  # recorded before the counts went on record: the ballots gave them
        # The counts as recorded: a secret vote's first appear here.
        motion = str(envelope.stream_id)
        db.execute("DELETE FROM tallies WHERE motion_id = %(id)s", {"id": motion})
        for choice, votes in (
            (Choice.YES, payload.yes),
            (Choice.NO, payload.no),
            (Choice.ABSTAIN, payload.abstain),
        ):
            self._count(db, motion, choice.value, votes)

    @_on.register
    def _assigned(self, payload: OwnerAssigned, db: ReadDb, envelope: Envelope) -> None:
        self._motion(
            db, envelope, owner=payload.owner, due=payload.due.isoformat() if payload.due else None
        )

    @_on.register
    def _reassigned(self, payload: MotionOwnerReassigned, db: ReadDb, envelope: Envelope) -> None:
        self._motion(db, envelope, owner=payload.owner)

    @_on.register
    def _progress(self, payload: ProgressReported, db: ReadDb, envelope: Envelope) -> None:
        self._motion(db, envelope, progress=payload.percent, progress_note=payload.note)

    @_on.register
    def _milestone(self, payload: MilestoneAdded, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO milestones VALUES (%(id)s, %(name)s, %(due)s, NULL)",
            {"id": str(envelope.stream_id), "name": payload.name, "due": payload.due.isoformat()},
        )

    @_on.register
    def _reached(self, payload: MilestoneReached, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "UPDATE milestones SET reached_at = %(at)s"
            " WHERE motion_id = %(id)s AND name = %(name)s",
            {
                "at": stamp(envelope.recorded_at),
                "id": str(envelope.stream_id),
                "name": payload.name,
            },
        )

    @_on.register
    def _implementation(
        self, payload: ImplementationUpdated, db: ReadDb, envelope: Envelope
    ) -> None:
        self._motion(db, envelope, status=payload.status)

    @_on.register
    def _called(self, payload: MeetingCalled, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO meetings VALUES (%(id)s, %(title)s, %(starts_at)s, %(place)s,"
            " %(entitled)s, '[]', '[]', 0, %(position)s, %(station)s)",
            {
                "id": str(envelope.stream_id),
                "title": payload.title,
                "starts_at": stamp(payload.starts_at),
                "place": payload.place,
                "entitled": len(payload.entitled),
                "position": envelope.position,
                "station": str(payload.station),
            },
        )

    @_on.register
    def _agenda_item(self, payload: AgendaItemAdded, db: ReadDb, envelope: Envelope) -> None:
        row = db.one(
            "SELECT agenda FROM meetings WHERE meeting_id = %(id)s",
            {"id": str(envelope.stream_id)},
        )
        assert row is not None, "MeetingCalled precedes its agenda"
        agenda = [*msgspec.json.decode(row["agenda"]), str(payload.motion)]
        self._meeting(db, envelope, agenda=msgspec.json.encode(agenda).decode())

    @_on.register
    def _reordered(self, payload: AgendaReordered, db: ReadDb, envelope: Envelope) -> None:
        self._meeting(db, envelope, agenda=msgspec.json.encode(payload.agenda).decode())

    @_on.register
    def _attendance(self, payload: AttendanceRecorded, db: ReadDb, envelope: Envelope) -> None:
        self._meeting(db, envelope, present=msgspec.json.encode(payload.present).decode())

    @_on.register
    def _meeting_closed(self, payload: MeetingClosed, db: ReadDb, envelope: Envelope) -> None:
        self._meeting(db, envelope, is_closed=1)


def board(
    db: ReadDb, station: str, *, status: str | None, before: int | None, limit: int
) -> list[Row]:
    """One station council's motions newest first, optionally of one status."""
    of_status = " AND status = %(status)s" if status is not None else ""
    return db.all(
        "SELECT * FROM motions WHERE station_id = %(station)s AND position < %(before)s"
        f"{of_status} ORDER BY position DESC LIMIT %(limit)s",
        {
            "station": station,
            "before": before if before is not None else 2**62,
            "status": status,
            "limit": limit,
        },
    )


def due_to_lapse(db: ReadDb, now: datetime, limit: int = 500) -> list[str]:
    """Motions still short of support past their deadline, earliest deadline first."""
    return overdue(
        db, "motions", "motion_id", status="submitted", deadline="second_by", now=now, limit=limit
    )


def motion(db: ReadDb, motion_id: str) -> Row | None:
    row = db.one("SELECT * FROM motions WHERE motion_id = %(id)s", {"id": motion_id})
    if row is not None:
        row["steps"] = db.all(
            "SELECT * FROM motion_steps WHERE motion_id = %(id)s ORDER BY position",
            {"id": motion_id},
        )
        row["milestones"] = db.all(
            "SELECT name, due, reached_at FROM milestones WHERE motion_id = %(id)s"
            " ORDER BY due, name",
            {"id": motion_id},
        )
    return row


def counts(db: ReadDb, motion_id: str) -> dict[str, int]:
    rows = db.all("SELECT choice, votes FROM tallies WHERE motion_id = %(id)s", {"id": motion_id})
    return {row["choice"]: row["votes"] for row in rows}


def tally_of(db: ReadDb, motion_id: str) -> tuple[bool, Row | None]:
    """Whether the motion exists, and its tally once voting opened: counts, the result (as
    decided, or what the ballots would decide now), and who voted how unless secret. While a
    secret vote is open its counts are sealed: ``yes``, ``no``, ``abstain`` and ``result`` are
    None here (services.council.handlers.live_counts opens them, counts only)."""
    row = db.one("SELECT * FROM motions WHERE motion_id = %(id)s", {"id": motion_id})
    if row is None or row["rules"] is None:
        return row is not None, None
    opened = msgspec.json.decode(row["rules"])
    rules = msgspec.convert(opened["rules"], VotingRules)
    votes = counts(db, motion_id)
    # The domain accepts ballots only from those entitled and present: all of them count.
    counted = Tally(
        yes=votes.get(Choice.YES, 0),
        no=votes.get(Choice.NO, 0),
        abstain=votes.get(Choice.ABSTAIN, 0),
        entitled=len(opened["entitled"]),
        present=len(opened["present"]),
    )
    sealed = rules.secret and row["result"] is None
    return True, {
        "status": row["status"],
        **vars(counted),
        **(dict.fromkeys(("yes", "no", "abstain")) if sealed else {}),
        "voted": row["voted"],
        "secret": rules.secret,
        "result": None if sealed else row["result"] or decide(counted, rules).value,
        "ballots": None if rules.secret else ballots(db, motion_id),
    }


def ballots(db: ReadDb, motion_id: str) -> list[Row]:
    return db.all(
        "SELECT voter, choice FROM ballots WHERE motion_id = %(id)s ORDER BY voter",
        {"id": motion_id},
    )


def tracker(db: ReadDb, station: str, today: str) -> list[Row]:
    """One station council's adopted motions being carried out, with overdue ones (past due,
    or a milestone past due and not reached) marked."""
    return db.all(
        "SELECT m.*, CASE WHEN m.status IN ('implementing', 'stalled') AND ("
        " (m.due IS NOT NULL AND m.due < %(today)s)"
        " OR EXISTS (SELECT 1 FROM milestones s WHERE s.motion_id = m.motion_id"
        "  AND s.reached_at IS NULL AND s.due < %(today)s)) THEN 1 ELSE 0 END AS overdue"
        " FROM motions m WHERE m.station_id = %(station)s"
        " AND m.status IN ('implementing', 'stalled', 'done', 'cancelled')"
        " ORDER BY m.position DESC",
        {"today": today, "station": station},
    )


def meeting(db: ReadDb, meeting_id: str) -> Row | None:
    return db.one("SELECT * FROM meetings WHERE meeting_id = %(id)s", {"id": meeting_id})


def meetings(db: ReadDb, station: str) -> list[Row]:
    """One station council's meetings, latest first."""
    return db.all(
        "SELECT * FROM meetings WHERE station_id = %(station)s ORDER BY starts_at DESC",
        {"station": station},
    )
