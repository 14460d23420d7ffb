"""The council's commands through the bus: the runtime's table hands each to its handler, who
gives a command decides whose it is (a resident's own, a coordinator's on paper), a dry run
answers or refuses as the command would and records nothing, and closing a secret vote — which
destroys its ballot box — is never dry-run and never joins a group."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.council import Choice
from domain.rules import RuleViolated
from services.bus import Caller
from services.composition.runtime import HANDLERS, Backbone
from services.council import commands, handlers
from services.council.commands import (
    AdmitMotion,
    CallMeeting,
    CastBallot,
    ChangeRules,
    CloseVote,
    DeclineMotion,
    OpenVote,
    RecordAttendance,
    ScheduleMotion,
    SubmitMotion,
    SupportMotion,
)
from services.store.vault import BallotBox
from tests.integration.support import BY, acting, make_backbone, register_resident


@pytest.fixture
def bone(broker, sqlite_stores, tmp_path) -> Backbone:
    events, reads = sqlite_stores.new("events"), sqlite_stores.new("reads")
    return make_backbone(tmp_path, events, reads, broker.url)


def seconded(bone: Backbone, members: list[UUID]) -> UUID:
    """A motion moved by the first of ``members`` and supported by the next three."""
    app = bone.timebank
    submitted = SubmitMotion(idempotency_key=uuid4().hex, title="加装扶手", text="楼道加装扶手")
    motion = handlers.submit(submitted, acting(app, member=members[0])).id
    for supporter in members[1:4]:
        handlers.support(SupportMotion(motion_id=motion), acting(app, member=supporter))
    return motion


def test_every_council_command_has_its_handler_in_the_runtime_table():
    assert {kind: HANDLERS.get(kind) for kind in handlers.HANDLERS} == handlers.HANDLERS
    assert all(issubclass(kind, commands.Command) for kind in handlers.HANDLERS)


def test_who_gives_a_motion_decides_whose_it_is(bone):
    li, wang = (register_resident(bone, name).id for name in ("Li Ming", "Wang Fang"))
    asked = {"title": "修路灯", "text": "三号楼前的路灯坏了"}
    with pytest.raises(RuleViolated) as refused:
        handlers.submit(
            SubmitMotion(idempotency_key="not-mine", mover=wang, **asked),
            acting(bone.timebank, member=li),
        )
    assert refused.value.code == "not-your-motion"
    with pytest.raises(RuleViolated) as unnamed:
        handlers.submit(SubmitMotion(idempotency_key="nobody", **asked), acting(bone.timebank))
    assert unnamed.value.code == "mover-required"
    paper = handlers.submit(
        SubmitMotion(idempotency_key="on-paper", mover=wang, **asked), acting(bone.timebank)
    )
    motion = handlers.motion_of(bone.timebank, paper.id)
    assert motion.mover == wang


def test_a_dry_run_of_admitting_answers_or_refuses_and_records_nothing(bone):
    members = [register_resident(bone, f"居民{n}").id for n in range(4)]
    motion, declined = seconded(bone, members), seconded(bone, members)
    handlers.decline(DeclineMotion(motion_id=declined, reason="物业负责"), acting(bone.timebank))
    before = bone.timebank.last_position()

    would = bone.bus.check(AdmitMotion(motion_id=motion), Caller(BY))
    with pytest.raises(RuleViolated) as refused:
        bone.bus.check(AdmitMotion(motion_id=declined), Caller(BY))

    assert would.id == motion
    assert refused.value.code == "motion-declined"
    assert bone.timebank.last_position() == before


def test_closing_a_secret_vote_destroys_its_ballot_box_alone_and_is_never_dry_run(bone):
    app = bone.timebank
    members = [register_resident(bone, f"居民{n}").id for n in range(4)]
    secret = {**vars(handlers.rules_in_force(app)), "secret": True}
    handlers.change_rules(ChangeRules(**secret, reason="无记名投票"), acting(app))
    motion = seconded(bone, members)
    handlers.admit(AdmitMotion(motion_id=motion), acting(app))
    called = CallMeeting(
        idempotency_key=uuid4().hex,
        title="议事会",
        starts_at=datetime.now(UTC) - timedelta(minutes=5),
        place="活动室",
        entitled=members,
    )
    meeting = handlers.call(called, acting(app)).id
    handlers.schedule(ScheduleMotion(motion_id=motion, meeting_id=meeting), acting(app))
    handlers.record_attendance(RecordAttendance(meeting_id=meeting, present=members), acting(app))
    handlers.open_vote(OpenVote(motion_id=motion), acting(app))
    ballot = CastBallot(motion_id=motion, choice=Choice.YES)
    handlers.vote(ballot, acting(app, member=members[0], vault=bone.vault))
    closing = CloseVote(motion_id=motion)

    assert CastBallot.writes_outside_the_store
    assert CloseVote.writes_outside_the_store and CloseVote.alone
    with pytest.raises(TypeError):
        bone.bus.check(closing, Caller(BY))
    asyncio.run(bone.bus.handle(closing, Caller(BY)))  # alone: no group commit to join

    assert handlers.motion_of(app, motion).result is not None
    with pytest.raises(RuleViolated) as destroyed:
        handlers.motion_of(app, motion).choices(BallotBox(bone.vault, motion))
    assert destroyed.value.code == "ballot-box-destroyed"
