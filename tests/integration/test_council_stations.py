"""Each station has its own resident council (居民议事会): its own motions, meetings, votes,
rules and officers. A motion belongs to its mover's home station; only that station's
residents second it and vote on it, only that station's staff manage it, and the public board
shows one station's council at a time (by default the first station's, as before stations)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from uuid import UUID

import pytest
from litestar.testing import TestClient
from msgspec import structs

from domain.council import DEFAULT_RULES, Choice, CouncilRules, council_rules_id
from domain.identity import CouncilTitle, Role
from domain.meeting import Meeting
from domain.motion import Motion, MotionStatus
from domain.provenance import Provenance
from domain.rules import RuleViolated
from domain.station import DEFAULT_STATION, Level
from projections import council as council_reads
from projections.council import Council
from projections.readstore import open_read_store
from services.bus import Caller, NotYours
from services.composition.app import create_app
from services.composition.runtime import Backbone
from services.council import handlers as council
from services.council.commands import (
    AdmitMotion,
    AssignOwner,
    CallMeeting,
    CastBallot,
    ChangeRules,
    CloseVote,
    OpenVote,
    RecordAttendance,
    ScheduleMotion,
    SubmitMotion,
    SupportMotion,
)
from services.identity.commands import CreateStaffAccount, Reach
from services.messaging.eventlog import EventLog
from services.pages.session import SESSION_COOKIE, session_cookie
from services.store.eventstore import Timebank
from services.web.auth import Principal
from tests.integration.busy_world import busy_world
from tests.integration.support import (
    ADMIN_PASSWORD,
    caught_up,
    headers_for,
    make_backbone,
    refused,
    run_workers,
    wait_until,
)
from tests.integration.test_snapshots import Before
from tests.integration.test_stations import (
    district_with_two_stations,
    given,
    resident,
    staff,
    system,
)


@dataclass(frozen=True)
class TwoCouncils:
    """The first station (A) and a second one (B), each with a council officer and residents."""

    bone: Backbone
    second: UUID
    officer_a: Caller
    officer_b: Caller
    coordinator_a: Caller
    alice: UUID  # a resident of A
    at_b: tuple[UUID, ...]  # residents of B

    def member(self, member_id: UUID) -> Caller:
        return Caller(replace(self.officer_a.by, actor=f"member:{member_id}"), member_id)

    def motion_at_b(self) -> UUID:
        """A motion a resident of B submits, seconded by three more of B's residents."""
        mover, *supporters = self.at_b
        submitted = SubmitMotion(
            idempotency_key=uuid.uuid4().hex, title="北山路灯", text="修好北山小区的路灯"
        )
        motion = given(self.bone, submitted, self.member(mover)).id
        for supporter in supporters[:3]:
            given(self.bone, SupportMotion(motion_id=motion), self.member(supporter))
        return motion

    def meeting_at_b(self) -> UUID:
        called = CallMeeting(
            idempotency_key=uuid.uuid4().hex,
            title="北山议事会",
            starts_at=self.bone.clock(),
            place="北山社区活动室",
            entitled=list(self.at_b),
        )
        return given(self.bone, called, self.officer_b).id


def officer(bone: Backbone, username: str, reach: Reach | None, by: Caller) -> Caller:
    """A council chair at the station ``reach`` names (by default the first)."""
    command = CreateStaffAccount(
        username=username,
        role=Role.COUNCIL,
        password=ADMIN_PASSWORD,
        title=CouncilTitle.CHAIR,
        reach=reach,
    )
    created = given(bone, command, by)
    return Caller(Provenance(actor=f"staff:{created.id}", channel="api", correlation_id=username))


@pytest.fixture
def two(broker, stores, tmp_path) -> Iterator[TwoCouncils]:
    bone = make_backbone(
        tmp_path,
        stores.new("events"),
        stores.new("reads"),
        broker.url,
        station_name="湖畔社区",
        district="西湖区",
        street="西溪街道",
        pages=True,
    )
    admin, second = district_with_two_stations(bone)
    at_b = Reach(level=Level.STATION, station=second)
    built = TwoCouncils(
        bone,
        second,
        officer_a=officer(bone, "council.a", None, system()),
        officer_b=officer(bone, "council.b", at_b, admin),
        coordinator_a=staff(bone, "coordinator.a", Role.COORDINATOR, None, system()),
        alice=resident(bone, system()),
        at_b=tuple(resident(bone, admin, station=second) for _ in range(5)),
    )
    with run_workers(bone):
        yield built


def refuses(code: str):
    return pytest.raises(RuleViolated, check=lambda error: error.code == code)


def test_a_motion_belongs_to_its_movers_station_and_only_its_residents_second_it(two):
    motion = two.motion_at_b()
    stored = two.bone.timebank.repository.get(motion)
    assert stored.station == two.second and stored.status is MotionStatus.SECONDED
    with refuses("another-stations-council"):
        given(two.bone, SupportMotion(motion_id=motion), two.member(two.alice))
    with refuses("another-stations-council"):  # nor amend it from another station
        amending = SubmitMotion(
            idempotency_key=uuid.uuid4().hex, title="改一改", text="换个说法", amends=motion
        )
        given(two.bone, amending, two.member(two.alice))
    for staff_of_a in (two.officer_a, two.coordinator_a):
        with pytest.raises(NotYours):
            given(two.bone, AdmitMotion(motion_id=motion), staff_of_a)
    given(two.bone, AdmitMotion(motion_id=motion), two.officer_b)


def test_only_the_stations_residents_vote_at_its_meetings(two):
    motion = two.motion_at_b()
    given(two.bone, AdmitMotion(motion_id=motion), two.officer_b)
    with refuses("entitled-elsewhere"):
        called = CallMeeting(
            idempotency_key=uuid.uuid4().hex,
            title="北山议事会",
            starts_at=two.bone.clock(),
            place="活动室",
            entitled=[*two.at_b, two.alice],
        )
        given(two.bone, called, two.officer_b)
    meeting = two.meeting_at_b()
    assert two.bone.timebank.repository.get(meeting).station == two.second
    # A's own meeting cannot take B's motion, nor A's officer put it on B's agenda.
    a_meeting = given(
        two.bone,
        CallMeeting(
            idempotency_key=uuid.uuid4().hex,
            title="湖畔议事会",
            starts_at=two.bone.clock(),
            place="湖畔社区活动室",
            entitled=[two.alice],
        ),
        two.officer_a,
    ).id
    assert two.bone.timebank.repository.get(a_meeting).station == DEFAULT_STATION
    with refuses("another-stations-council"):
        given(two.bone, ScheduleMotion(motion_id=motion, meeting_id=a_meeting), two.officer_b)
    with pytest.raises(NotYours):
        given(two.bone, ScheduleMotion(motion_id=motion, meeting_id=meeting), two.officer_a)
    with pytest.raises(NotYours):
        given(two.bone, RecordAttendance(meeting_id=meeting, present=[]), two.officer_a)
    given(two.bone, ScheduleMotion(motion_id=motion, meeting_id=meeting), two.officer_b)
    given(two.bone, RecordAttendance(meeting_id=meeting, present=list(two.at_b)), two.officer_b)
    given(two.bone, OpenVote(motion_id=motion), two.officer_b)
    with refuses("another-stations-council"):
        given(two.bone, CastBallot(motion_id=motion, choice=Choice.YES), two.member(two.alice))
    given(two.bone, CastBallot(motion_id=motion, choice=Choice.YES), two.member(two.at_b[0]))
    assert two.bone.timebank.repository.get(motion).ballots == {two.at_b[0]: Choice.YES}


def test_each_station_council_keeps_its_own_rules_from_the_same_defaults(two):
    assert council.rules_in_force(two.bone.timebank, two.second) == DEFAULT_RULES
    fewer = ChangeRules(**{**vars(DEFAULT_RULES), "seconding_threshold": 1}, reason="北山人少")
    given(two.bone, fewer, two.officer_b)
    assert council.rules_in_force(two.bone.timebank, two.second).seconding_threshold == 1
    assert council.rules_in_force(two.bone.timebank) == DEFAULT_RULES
    with pytest.raises(NotYours):  # A's officer cannot change B's council's rules
        given(two.bone, structs.replace(fewer, station=two.second), two.officer_a)
    # B's motions are now seconded by one supporter; A's still need three.
    mover, supporter = two.at_b[:2]
    submitted = SubmitMotion(idempotency_key=uuid.uuid4().hex, title="晾衣架", text="楼下装晾衣架")
    motion = given(two.bone, submitted, two.member(mover)).id
    given(two.bone, SupportMotion(motion_id=motion), two.member(supporter))
    assert two.bone.timebank.repository.get(motion).status is MotionStatus.SECONDED


def test_an_adopted_motion_is_carried_out_by_its_own_stations_staff(two):
    motion = two.motion_at_b()
    meeting = two.meeting_at_b()
    for command in (
        AdmitMotion(motion_id=motion),
        ScheduleMotion(motion_id=motion, meeting_id=meeting),
        RecordAttendance(meeting_id=meeting, present=list(two.at_b)),
        OpenVote(motion_id=motion),
    ):
        given(two.bone, command, two.officer_b)
    for voter in two.at_b:
        given(two.bone, CastBallot(motion_id=motion, choice=Choice.YES), two.member(voter))
    with pytest.raises(NotYours):
        given(two.bone, CloseVote(motion_id=motion), two.officer_a)
    given(two.bone, CloseVote(motion_id=motion), two.officer_b)
    owner_at_a = two.coordinator_a.by.actor
    with refuses("owner-elsewhere"):
        given(two.bone, AssignOwner(motion_id=motion, owner=owner_at_a), two.officer_b)
    given(two.bone, AssignOwner(motion_id=motion, owner=two.officer_b.by.actor), two.officer_b)
    assert two.bone.timebank.repository.get(motion).owner == two.officer_b.by.actor


def test_the_public_board_shows_one_stations_council_and_names_no_one(two):
    at_b = two.motion_at_b()
    meeting = two.meeting_at_b()
    wait_until(lambda: caught_up(two.bone), what="read models")
    with TestClient(create_app(two.bone)) as client:
        first = client.get("/api/v1/motions/").json()["motions"]
        assert [row["motion_id"] for row in first] == []
        shown = client.get("/api/v1/motions/", params={"station": str(two.second)}).json()
        (row,) = shown["motions"]
        assert (row["motion_id"], row["station_id"], row["mover"]) == (
            str(at_b),
            str(two.second),
            "resident",
        )
        assert client.get("/api/v1/meetings/").json() == []
        (listed,) = client.get("/api/v1/meetings/", params={"station": str(two.second)}).json()
        assert listed["meeting_id"] == str(meeting)
        refused(
            client.get("/api/v1/motions/", params={"station": str(uuid.uuid4())}),
            404,
            "station-not-found",
        )
        rules = client.get("/api/v1/council/rules/", params={"station": str(two.second)})
        assert rules.json()["seconding_threshold"] == DEFAULT_RULES.seconding_threshold


def _page(client: TestClient, app, caller: Caller, path: str) -> int:
    principal = Principal(
        subject=caller.by.actor, roles=frozenset({Role.COUNCIL}), channel="console"
    )
    client.cookies.set(SESSION_COOKIE, session_cookie(app.state.page_auth, principal).value or "")
    return client.get(path).status_code


def test_a_council_officer_opens_only_their_own_stations_council_pages(two):
    motion = two.motion_at_b()
    meeting = two.meeting_at_b()
    wait_until(lambda: caught_up(two.bone), what="read models")
    app = create_app(two.bone)
    pages = [
        f"/council/motions/{motion}",
        f"/council/motions/{motion}/vote",
        f"/council/motions/{motion}/ballots",
        f"/council/motions/{motion}/tally",
        f"/council/meetings/{meeting}",
        f"/council/meetings/{meeting}/minutes",
    ]
    with TestClient(app) as client:
        for path in pages:
            assert _page(client, app, two.officer_a, path) == 403, path
            assert _page(client, app, two.officer_b, path) == 200, path
        assert _page(client, app, two.officer_a, "/council/") == 200
        assert "北山路灯" not in client.get("/council/").text
        assert _page(client, app, two.officer_b, "/council/") == 200
        assert "北山路灯" in client.get("/council/").text
    # And through the API, with a bearer token: A's officer cannot manage B's motion.
    headers = headers_for(
        two.bone,
        Principal(subject=two.officer_a.by.actor, roles=frozenset({Role.COUNCIL}), channel="api"),
    )
    with TestClient(app) as client:
        refused(
            client.post(f"/api/v1/motions/{motion}/admission", headers=headers), 403, "forbidden"
        )


def test_a_council_written_before_stations_is_the_first_stations(stores, tmp_path):
    """Motions, meetings and rules stored with no station load, and project, as the first
    station's council; their events are read as they were stored (upcast, not rewritten)."""
    url = stores.new("events")
    written = [
        aggregate
        for aggregate in busy_world(busy_postings=1, with_stations=False)
        if isinstance(aggregate, (Motion, Meeting, CouncilRules))
    ]
    before = Before(url)
    before.record(*written)
    before.close()
    app = Timebank(url)
    assert {app.repository.get(aggregate.id).station for aggregate in written} == {DEFAULT_STATION}
    model = Council()
    reads = open_read_store(stores.new("reads"), [model])
    with reads.transaction(commit=True) as db:
        for envelope in EventLog(app.recorder, app.mapper).after(0, 10_000):
            model.apply(db, envelope)
    with reads.transaction(commit=False) as db:
        motions = council_reads.board(db, str(DEFAULT_STATION), status=None, before=None, limit=100)
        meetings = council_reads.meetings(db, str(DEFAULT_STATION))
    assert len(motions) == sum(isinstance(a, Motion) for a in written) > 0
    assert len(meetings) == sum(isinstance(a, Meeting) for a in written) > 0
    assert council.rules_in_force(app) == app.repository.get(council_rules_id()).rules
    app.close()
