"""The resident council's board at the kiosk: read the motions, support one that is gathering
support, and vote yes, no or abstain while its vote is open — if entitled to vote and
recorded as present — after a screen that says the vote in plain words."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from domain.council import Choice
from domain.rules import NotFound
from projections import council
from projections.readstore import Row
from services.bus import Bus, Caller, Receipt
from services.composition.runtime import Backbone
from services.council import commands, handlers
from services.council.commands import CastBallot, SupportMotion
from services.pages.forms import BUTTON, Sent, action
from services.pages.i18n import gettext
from services.pages.kiosk.frame import RESIDENTS, confirmation, member_of, screen, showing
from services.pages.labels import LABELS
from services.web.context import After
from services.web.reads import Reads

SHOWN = 30


class Ballot(commands.Ballot, forbid_unknown_fields=False):
    """The API's body, from the kiosk's form."""

    def command(self, motion_id: UUID) -> CastBallot:
        return CastBallot.at(self, motion_id=motion_id)


class _BallotRules(msgspec.Struct):
    votes_may_change: bool
    secret: bool


class _Voters(msgspec.Struct):
    """Who may vote and by which rules, as recorded when the vote opened (the motion's
    ``rules`` column)."""

    entitled: list[UUID]
    present: list[UUID]
    rules: _BallotRules


def _voters(row: Row) -> _Voters | None:
    """The open vote's voters and rules; None unless the vote is open."""
    if row["status"] != "voting" or row["rules"] is None:
        return None
    return msgspec.json.decode(row["rules"], type=_Voters)


def may_vote(row: Row, member: UUID) -> bool:
    """Whether the vote is open and ``member`` is entitled to vote and recorded present."""
    voters = _voters(row)
    return voters is not None and member in voters.entitled and member in voters.present


def _supports(row: Row, member: UUID) -> bool:
    """Whether ``member`` is among the motion's supporters (its steps name each one)."""
    return any(
        step["type"] == "MotionSupported"
        and msgspec.json.decode(step["detail"]).get("supporter") == str(member)
        for step in row["steps"]
    )


def _my_ballot(bone: Backbone, row: Row, ballots: list[Row], member: UUID) -> dict[str, Any]:
    """The resident's own choice in the open vote (a secret one opened for them alone) and
    whether the council's rules let them change it."""
    voters = _voters(row)
    if voters is None:
        return {"mine": None, "may_change": False}
    if voters.rules.secret:
        mine = handlers.own_choice(
            bone.timebank, motion_id=UUID(row["motion_id"]), voter=member, vault=bone.vault
        )
    else:
        mine = next((b["choice"] for b in ballots if b["voter"] == str(member)), None)
    return {"mine": mine, "may_change": voters.rules.votes_may_change}


def _motion(reads: Reads, motion_id: UUID, after: int | None) -> tuple[Row, list[Row]]:
    """The motion and its ballots (none named while the vote is secret)."""

    def query(db: Any) -> tuple[Row | None, list[Row]]:
        return council.motion(db, str(motion_id)), council.ballots(db, str(motion_id))

    row, ballots = reads.query(("council",), after, query)
    if row is None:
        raise NotFound("motion-not-found", f"There is no motion {motion_id}.")
    return row, ballots


class CouncilBoard(Controller):
    path = "/kiosk/council"

    @get("/", opt=RESIDENTS, sync_to_thread=True)
    def board(self, request: Request[Any, Any, Any], bone: NamedDependency[Backbone]) -> Template:
        """The council of the resident's own station."""
        home = str(handlers.home_of(bone.timebank, member_of(request)))
        rows = bone.read_side.query(
            ("council",),
            None,
            lambda db: council.board(db, home, status=None, before=None, limit=SHOWN),
        )
        return screen(request, "council.html", rows=rows, statuses=LABELS["motion_status"])

    @get("/{motion_id:uuid}", opt=RESIDENTS, sync_to_thread=True)
    def motion(
        self,
        request: Request[Any, Any, Any],
        motion_id: FromPath[UUID],
        bone: NamedDependency[Backbone],
        after: After = None,
    ) -> Template:
        member = member_of(request)
        row, ballots = _motion(bone.read_side, motion_id, after)
        return screen(
            request,
            "motion.html",
            row=row,
            statuses=LABELS["motion_status"],
            choices=LABELS["choice"],
            may_vote=may_vote(row, member),
            supports=_supports(row, member),
            is_mover=row["mover"] == str(member),
            **_my_ballot(bone, row, ballots, member),
        )

    @post("/{motion_id:uuid}/support", opt=RESIDENTS, sync_to_thread=True)
    def support(
        self,
        request: Request[Any, Any, Any],
        motion_id: FromPath[UUID],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Redirect:
        receipt = bus.handle_from_thread(SupportMotion.at(BUTTON, motion_id=motion_id), caller)
        return showing(f"/kiosk/council/{motion_id}", receipt)

    @get("/{motion_id:uuid}/vote/{choice:str}", opt=RESIDENTS, sync_to_thread=True)
    def check_vote(
        self,
        request: Request[Any, Any, Any],
        motion_id: FromPath[UUID],
        choice: FromPath[Choice],
        reads: NamedDependency[Reads],
    ) -> Template:
        row, _ = _motion(reads, motion_id, None)
        question = gettext("You are voting “%(choice)s” on “%(title)s”. Confirm?")
        return confirmation(
            request,
            question % {"choice": gettext(LABELS["choice"][choice]), "title": row["title"]},
            action=f"/kiosk/council/{motion_id}/ballot",
            back=f"/kiosk/council/{motion_id}",
            fields={"choice": choice.value},
        )


def _voted(sent: Sent, receipt: Receipt) -> Response[Any]:
    return showing(f"/kiosk/council/{sent.record_id}", receipt, done="voted")


ACTIONS = [action("/kiosk/council/{motion_id:uuid}/ballot", Ballot, _voted, opt=RESIDENTS)]
