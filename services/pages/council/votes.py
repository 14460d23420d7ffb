"""A vote on an agenda motion: opening it (the rules in force, who is entitled and who is
present go on the motion), the live tally on the meeting room's screen (refreshed while the
vote is open; counts only), who voted how in an open ballot on a page of its own (by name,
for the officers), closing it, and the result."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from domain.motion import Motion
from domain.provenance import Provenance
from projections import council
from projections.readstore import ReadDb, Row
from services.bus import Receipt
from services.composition.runtime import Backbone
from services.council import handlers
from services.council.commands import CloseVote, OpenVote
from services.identity import records as identity
from services.pages import purposes
from services.pages.council.common import (
    COUNCIL,
    MODELS,
    Confirmation,
    confirming,
    done,
    named_ballots,
    render,
)
from services.pages.council.motions import motion_action, motion_or_refuse
from services.pages.forms import Sent
from services.pages.i18n import gettext, number
from services.pages.labels import label
from services.web.context import After
from services.web.reach import Reach


def vote_path(motion_id: UUID | str) -> str:
    return f"/council/motions/{motion_id}/vote"


def tally(bone: Backbone, motion_id: UUID, after: int | None, reach: Reach) -> Row | None:
    """The tally once voting opened (None before): counts and the result (as decided, or
    what the ballots would decide now). A secret vote still open is counted from its sealed
    ballot box."""

    def query(db: ReadDb) -> Row | None:
        motion_or_refuse(db, motion_id, reach)
        return council.tally_of(db, str(motion_id))[1]

    counted = bone.read_side.query(MODELS, after, query)
    if counted is None:
        return None
    return handlers.with_live_counts(bone.timebank, bone.vault, motion_id, counted)


def _vote_page(db: ReadDb, motion_id: UUID, reach: Reach) -> dict[str, Any]:
    motion = motion_or_refuse(db, motion_id, reach)
    opened = msgspec.json.decode(motion["rules"]) if motion["rules"] else None
    return {
        "motion": motion,
        "rules": opened["rules"] if opened else None,
        "meeting": council.meeting(db, motion["meeting"]) if motion["meeting"] else None,
    }


def _ballots_page(db: ReadDb, motion_id: UUID, reach: Reach) -> dict[str, Any]:
    """The vote page's facts and, once an open ballot is under way, its ballots (None for a
    secret one or before voting opened)."""
    page = _vote_page(db, motion_id, reach)
    motion = page["motion"]
    listed = motion["rules"] is not None and not motion["secret"]
    return {**page, "ballots": council.ballots(db, str(motion_id)) if listed else None}


def _asking_to_open(sent: Sent) -> Template:
    """Opening a vote, with who is present and what cannot be taken back."""
    bone, motion_id = sent.station, sent.record_id
    motion = handlers.motion_of(bone.timebank, motion_id)
    assert motion.meeting is not None, "a vote that may open is on a meeting's agenda"
    meeting = handlers.meeting_of(bone.timebank, motion.meeting)
    return confirming(
        sent.request,
        bone,
        "meetings",
        question=gettext("Open the vote on “%(title)s”?") % {"title": motion.title},
        sentences=[
            gettext(
                "%(present)s of the %(entitled)s members entitled are recorded as"
                " present; quorum is counted from them, and only they vote."
            )
            % {
                "present": number(len(meeting.present)),
                "entitled": number(len(meeting.entitled)),
            },
            gettext(
                "Once opened, the vote cannot be taken back: who is present and the"
                " voting rules in force go on the motion."
            ),
        ],
        action=f"/council/motions/{motion_id}/voting",
        back=vote_path(motion_id),
        yes=gettext("Yes, open the vote"),
    )


def _asking_to_close(request: Request[Any, Any, Any], bone: Backbone, motion: Motion) -> Template:
    """Closing a vote, with the counts and the result it would record."""
    motion_id = motion.id
    counts = motion.counts()
    return confirming(
        request,
        bone,
        "meetings",
        question=gettext("Close the vote on “%(title)s” and count?") % {"title": motion.title},
        sentences=[
            gettext("Yes %(yes)s, no %(no)s, abstain %(abstain)s; %(present)s present.")
            % {
                "yes": number(counts.yes),
                "no": number(counts.no),
                "abstain": number(counts.abstain),
                "present": number(counts.present),
            },
            gettext("As the ballots stand, the result will be: %(result)s.")
            % {"result": label("motion_status", motion.status.value)},
            gettext("Once closed, no one can vote or change their vote; the result is final."),
        ],
        action=f"/council/motions/{motion_id}/voting/close",
        back=vote_path(motion_id),
        yes=gettext("Yes, close and count"),
    )


class VotePages(Controller):
    path = "/council/motions/{motion_id:uuid}"

    @get("/vote", opt=COUNCIL, sync_to_thread=True)
    def vote(
        self,
        motion_id: FromPath[UUID],
        bone: NamedDependency[Backbone],
        reach: NamedDependency[Reach],
        after: After = None,
    ) -> Template:
        page = bone.read_side.query(MODELS, after, lambda db: _vote_page(db, motion_id, reach))
        return render(
            bone,
            "vote.html",
            "meetings",
            motion_id=motion_id,
            tally=tally(bone, motion_id, after, reach),
            **page,
        )

    @get("/tally", opt=COUNCIL, sync_to_thread=True)
    def live_tally(
        self,
        motion_id: FromPath[UUID],
        bone: NamedDependency[Backbone],
        reach: NamedDependency[Reach],
    ) -> Template:
        """The tally alone, which the vote page fetches every few seconds while it is open."""
        counted = tally(bone, motion_id, None, reach)
        return render(bone, "_tally.html", "meetings", motion_id=motion_id, tally=counted)

    @get("/ballots", opt=COUNCIL, sync_to_thread=True)
    def ballots(
        self,
        motion_id: FromPath[UUID],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
        reach: NamedDependency[Reach],
        after: After = None,
    ) -> Template:
        """Who voted how, by name: a page of its own rather than part of the live tally, which
        refreshes every 2 s and may be on the meeting room's screen. Each time it is drawn is
        one record in the personal-data access log; it does not refresh itself."""
        page = bone.read_side.query(MODELS, after, lambda db: _ballots_page(db, motion_id, reach))
        cast = page.pop("ballots")
        if cast is not None:
            names = identity.open_names(
                bone.timebank,
                bone.vault,
                member_ids=[UUID(ballot["voter"]) for ballot in cast],
                purpose=purposes.BALLOTS,
                by=by,
            )
            cast = named_ballots(bone, cast, names)
        return render(bone, "ballots.html", "meetings", ballots=cast, drawn_at=bone.clock(), **page)


class Opening(Confirmation):
    """Opening the vote on a motion: nothing but the officers' "yes"."""

    def command(self, motion_id: UUID) -> OpenVote:
        return OpenVote(motion_id=motion_id)


class Closing(Confirmation):
    """Closing the vote and counting: nothing but the officers' "yes"."""

    def command(self, motion_id: UUID) -> CloseVote:
        return CloseVote(motion_id=motion_id)


def _closing(sent: Sent) -> Template:
    """Closing destroys a secret vote's ballot box, so it is not dry-run: the count is read
    from a copy of the motion, as closing now would leave it."""
    bone = sent.station
    motion = handlers.counted_vote(
        bone.timebank, motion_id=sent.record_id, by=sent.caller.by, vault=bone.vault
    )
    return _asking_to_close(sent.request, bone, motion)


def _to_vote(sent: Sent, receipt: Receipt) -> Response[Any]:
    return done(sent.request, vote_path(sent.record_id), receipt)


ACTIONS = [
    motion_action("voting", Opening, _to_vote, ask=_asking_to_open),
    motion_action("voting/close", Closing, _to_vote, ask=_closing),
]
