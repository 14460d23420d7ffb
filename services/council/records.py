"""Finding a motion or meeting, and acting on one within the council the caller takes part in:
each station's own (issue 17)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from domain.identity import Member
from domain.meeting import Meeting
from domain.motion import Motion, check_same_council
from domain.rules import NotFound
from domain.station import DEFAULT_STATION
from services.bus import Acting, Receipt
from services.stations.handlers import check_works_at
from services.store.eventstore import Timebank, retried_on_conflict


def motion_of(app: Timebank, motion_id: UUID) -> Motion:
    motion = app.find(motion_id, Motion)
    if motion is None:
        raise NotFound("motion-not-found", f"There is no motion {motion_id}.")
    return motion


def meeting_of(app: Timebank, meeting_id: UUID) -> Meeting:
    meeting = app.find(meeting_id, Meeting)
    if meeting is None:
        raise NotFound("meeting-not-found", f"There is no meeting {meeting_id}.")
    return meeting


def home_of(app: Timebank, member_id: UUID) -> UUID:
    """A resident's home station: the council they take part in."""
    member = app.find(member_id, Member)
    return member.station if member is not None else DEFAULT_STATION


def check_council_of(acting: Acting, station: UUID) -> None:
    """Residents take part in their own station's council only; staff act on the council of a
    station they work at (a council title applies at its holder's station)."""
    if acting.caller.member_id is not None:
        check_same_council(home_of(acting.app, acting.caller.member_id), station)
    else:
        check_works_at(acting.app, acting.by, station)


@retried_on_conflict
def act(acting: Acting, motion_id: UUID, action: Callable[[Motion], object]) -> Receipt:
    """Apply ``action`` to one motion of a council the caller takes part in, and save it."""
    motion = motion_of(acting.app, motion_id)
    check_council_of(acting, motion.station)
    action(motion)
    return Receipt(motion.id, acting.app.record(motion))
