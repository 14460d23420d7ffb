"""A meeting's minutes, generated from the record and laid out for printing: who was entitled
and who came, then each motion taken in agenda order with its vote — the rules it was voted
under, the counts, the result and (unless the ballot was secret) who voted how."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from projections import council
from projections.readstore import ReadDb, Row
from services.composition.runtime import Backbone
from services.pages.council.common import COUNCIL, MODELS, named_ballots, render
from services.pages.council.meetings import entitled_members, meeting_or_refuse
from services.web.context import After
from services.web.reach import Reach


def _item(bone: Backbone, db: ReadDb, motion_id: str) -> dict[str, Any]:
    """One motion taken: what it proposed and, once voted, how the vote went."""
    row = council.motion(db, motion_id)
    assert row is not None, "an agenda names motions the read model holds"
    when = {step["type"]: step["at"] for step in row["steps"]}
    decided = row["result"] is not None
    opened = msgspec.json.decode(row["rules"]) if row["rules"] else None
    return {
        "motion": row,
        "rules": opened["rules"] if opened else None,
        "opened_at": when.get("VotingOpened"),
        "closed_at": when.get("VotingClosed"),
        "counts": council.counts(db, motion_id) if decided else None,
        "ballots": (
            named_ballots(bone, council.ballots(db, motion_id))
            if decided and not row["secret"]
            else None
        ),
    }


def _minutes(bone: Backbone, db: ReadDb, meeting_id: UUID, reach: Reach) -> dict[str, Any]:
    found: Row = meeting_or_refuse(db, meeting_id, reach)
    present = set(msgspec.json.decode(found["present"]))
    members = entitled_members(bone, meeting_id)
    return {
        "meeting": found,
        "present": [number for member, number in members if member in present],
        "absent": [number for member, number in members if member not in present],
        "items": [_item(bone, db, item) for item in msgspec.json.decode(found["agenda"])],
    }


class MinutesPages(Controller):
    path = "/council/meetings"

    @get("/{meeting_id:uuid}/minutes", opt=COUNCIL, sync_to_thread=True)
    def minutes(
        self,
        meeting_id: FromPath[UUID],
        bone: NamedDependency[Backbone],
        reach: NamedDependency[Reach],
        after: After = None,
    ) -> Template:
        page = bone.read_side.query(MODELS, after, lambda db: _minutes(bone, db, meeting_id, reach))
        return render(bone, "minutes.html", "meetings", printed=bone.clock(), **page)
