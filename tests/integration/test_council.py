"""The resident council through HTTP on the real app, store, broker and read models: a decision
survives a change of rules and a rebuild of the read models; bad input is refused with a
problem+json and a stable ``code`` and records nothing; secret ballots, sealed everywhere but in
their ballot box until the count; amendments settled before their motion's vote; rescinding with
and without notice; the implementation tracker's overdue marks; motions short of support lapsing
by the sweep or by the council."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import pytest
from litestar.testing import TestClient

from domain.council import Choice
from domain.identity import CouncilTitle, Role, staff_id_for
from domain.motion import Motion
from domain.rules import RuleViolated
from services.composition.app import create_app
from services.composition.workers import LAPSE, lapse_due_motions
from services.council import handlers as commands
from services.messaging.envelope import Envelope, decode
from services.store.vault import BallotBox
from tests.integration.support import (
    ADMIN_PASSWORD,
    bearer,
    caught_up,
    create_staff,
    kiosk_sign_in,
    live_dumps,
    make_backbone,
    raw_event_store,
    raw_stream,
    rebuilt_dumps,
    refused,
    register,
    register_kiosk,
    serving,
    sign_in_staff,
    stream_position,
    wait_until,
)

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)  # 17:00 on 1 September in the station's zone
UNDER_WAY = "2026-09-01T16:00:00+08:00"  # a meeting's start, an hour before NOW
WORKS = str(staff_id_for("coord.one"))  # the coordinator, by the id the staff directory lists
CHAIR_PASSWORD = "council chair password"
MOTIONS = "/api/v1/motions"
MEETINGS = "/api/v1/meetings"
RULES = "/api/v1/council/rules"


def key() -> str:
    return uuid.uuid4().hex


@dataclass
class Council:
    """Five residents entitled at the council's meetings (signed in at a kiosk), one resident
    who is not, a council chair and a coordinator."""

    bone: Any
    client: TestClient
    chair: dict[str, str]
    coordinator: dict[str, str]
    people: list[dict[str, Any]]  # the registered residents: id, member_number, account_id
    reps: list[dict[str, str]]  # their sign-in headers
    outsider: dict[str, str]  # a resident not entitled at any meeting
    last: int = 0  # the position of the last change made

    def send(self, headers: dict, method: str, path: str, body: Any = None, **kwargs: Any):
        if body is not None:
            kwargs["json"] = body
        return self.client.request(method, path, headers=headers, **kwargs)

    def ok(self, headers: dict, method: str, path: str, body: Any = None) -> dict:
        answer = self.send(headers, method, path, body)
        assert answer.status_code in (200, 201), answer.text
        found = answer.json()
        if method != "GET" and isinstance(found, dict) and "position" in found:
            self.last = max(self.last, found["position"])
        return found

    def get(self, path: str, **params: Any) -> Any:
        answer = self.client.get(path, params={"after": self.last, **params})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def refuses(
        self, headers: dict, method: str, path: str, body: Any, status: int, code: str
    ) -> dict:
        """The call is refused with ``status`` and ``code``, and records nothing."""
        before = self.bone.timebank.last_position()
        problem = refused(self.send(headers, method, path, body), status, code)
        assert self.bone.timebank.last_position() == before
        return problem

    def motion(self, mover: int = 0, **extra: Any) -> str:
        body = {"idempotency_key": key(), "title": "加装楼道扶手", "text": "3号楼楼道加装扶手"}
        return self.ok(self.reps[mover], "POST", MOTIONS, {**body, **extra})["id"]

    def second(self, motion_id: str, mover: int = 0) -> None:
        """Three residents other than the mover support it (the default threshold)."""
        others = [rep for n, rep in enumerate(self.reps) if n != mover][:3]
        for rep in others:
            self.ok(rep, "POST", f"{MOTIONS}/{motion_id}/support")

    def meeting(self, present: int = 4, starts_at: str = UNDER_WAY) -> str:
        """A meeting where the five are entitled and the first ``present`` of them came (by
        default under way: it began an hour before NOW)."""
        called = self.ok(
            self.chair,
            "POST",
            MEETINGS,
            {
                "idempotency_key": key(),
                "title": "九月议事会",
                "starts_at": starts_at,
                "place": "社区活动室",
                "entitled": [person["id"] for person in self.people],
            },
        )
        came = [person["id"] for person in self.people[:present]]
        self.ok(self.chair, "PUT", f"{MEETINGS}/{called['id']}/attendance", {"present": came})
        return called["id"]

    def scheduled(self, meeting_id: str, mover: int = 0, **extra: Any) -> str:
        """A fresh motion, seconded, admitted and noticed on ``meeting_id``'s agenda."""
        motion_id = self.motion(mover, **extra)
        self.second(motion_id, mover)
        self.ok(self.chair, "POST", f"{MOTIONS}/{motion_id}/admission")
        self.ok(self.chair, "POST", f"{MOTIONS}/{motion_id}/scheduling", {"meeting_id": meeting_id})
        return motion_id

    def voting(self, meeting_id: str, mover: int = 0) -> str:
        motion_id = self.scheduled(meeting_id, mover)
        self.ok(self.chair, "POST", f"{MOTIONS}/{motion_id}/voting")
        return motion_id

    def vote(self, motion_id: str, *choices: str) -> None:
        for rep, choice in zip(self.reps, choices, strict=False):
            self.ok(rep, "POST", f"{MOTIONS}/{motion_id}/ballots", {"choice": choice})

    def decided(self, meeting_id: str, *choices: str) -> str:
        motion_id = self.voting(meeting_id)
        self.vote(motion_id, *choices)
        self.ok(self.chair, "POST", f"{MOTIONS}/{motion_id}/voting/close")
        return motion_id

    def change_rules(self, **change: Any) -> None:
        rules = self.get(RULES)
        self.ok(self.chair, "PUT", RULES, {**rules, **change, "reason": "议事规则修订"})


@contextmanager
def council_in(
    broker, stores, tmp_path, events: str, reads: str, sweep_seconds: float = 3600.0
) -> Iterator[Council]:
    """The council's town; the sweeps (motions lapsing) run every ``sweep_seconds``: by
    default not within a test."""
    bone = make_backbone(tmp_path, events, reads, broker.url)
    # Settings is a frozen Struct; the sweeper reads bone.settings before each round.
    bone.settings = msgspec.structs.replace(bone.settings, expiry_sweep_seconds=sweep_seconds)
    bone.clock = lambda: NOW
    with serving(bone) as (_, client, _, coordinator):
        kiosk = register_kiosk(bone)
        create_staff(bone.timebank, "chair", Role.COUNCIL, CHAIR_PASSWORD, CouncilTitle.CHAIR)
        chair = sign_in_staff(client, "chair", CHAIR_PASSWORD)
        people = [register(client, coordinator, display_name=f"Rep {n}") for n in range(6)]
        signed = []
        for person in people:
            answer = kiosk_sign_in(client, kiosk, person["member_number"])
            assert answer.status_code == 201, answer.text
            signed.append(bearer(answer.json()["token"], kiosk))
        yield Council(bone, client, chair, coordinator, people[:5], signed[:5], signed[5])


@pytest.fixture
def town(broker, stores, tmp_path):
    with council_in(broker, stores, tmp_path, stores.new("events"), stores.new("reads")) as c:
        yield c


# (a) A decision survives a change of rules and a rebuild of the read models.


def test_a_decision_reads_the_same_after_the_rules_change_and_a_rebuild(broker, stores, tmp_path):
    events, reads = stores.new("events"), stores.new("reads")
    with council_in(broker, stores, tmp_path, events, reads) as town:
        meeting_id = town.meeting()
        # 2 yes, 1 no (abstention aside): adopted by a simple majority, not by two thirds.
        motion_id = town.decided(meeting_id, "yes", "yes", "no", "abstain")
        assert town.get(f"{MOTIONS}/{motion_id}/tally")["result"] == "adopted"
        town.change_rules(threshold="two_thirds", abstentions_count=True)
        assert town.get(RULES)["threshold"] == "two_thirds"
        tally = town.get(f"{MOTIONS}/{motion_id}/tally")
        assert (tally["status"], tally["result"], tally["yes"], tally["no"]) == (
            "adopted",
            "adopted",
            2,
            1,
        )
        wait_until(lambda: caught_up(town.bone), what="read models")
        bone = town.bone
    # The rebuild re-points the projections' durable consumers, so the workers stop first.
    rebuilt = stores.new("rebuilt")
    dumps = rebuilt_dumps(rebuilt, broker.url)
    assert dumps == live_dumps(bone)
    assert dumps["council"]["motions"], "the rebuilt read model has the motions"

    # An app serving the rebuilt read store reads the past decision as it was taken.
    again = make_backbone(tmp_path / "again", events, rebuilt, broker.url)
    again.clock = lambda: NOW
    with TestClient(create_app(again)) as client:
        tally = client.get(f"{MOTIONS}/{motion_id}/tally")
        assert tally.status_code == 200, tally.text
        assert (tally.json()["status"], tally.json()["result"]) == ("adopted", "adopted")
        minutes = client.get(f"{MEETINGS}/{meeting_id}/minutes")
        assert [item["result"] for item in minutes.json()["agenda"]] == ["adopted"]
        assert client.get(RULES).json()["threshold"] == "two_thirds"


# (b) Bad input: refused, recording nothing.


def test_a_vote_is_cast_once_where_the_rules_allow_no_change(town):
    town.change_rules(votes_may_change=False)
    motion_id = town.voting(town.meeting())
    ballots = f"{MOTIONS}/{motion_id}/ballots"
    town.ok(town.reps[0], "POST", ballots, {"choice": "yes"})
    town.refuses(town.reps[0], "POST", ballots, {"choice": "no"}, 422, "vote-already-cast")
    town.refuses(town.reps[0], "POST", ballots, {"choice": "yes"}, 422, "vote-already-cast")


def test_a_vote_may_change_where_the_rules_allow_it_but_not_to_the_same(town):
    motion_id = town.voting(town.meeting())
    ballots = f"{MOTIONS}/{motion_id}/ballots"
    town.ok(town.reps[0], "POST", ballots, {"choice": "yes"})
    town.refuses(town.reps[0], "POST", ballots, {"choice": "yes"}, 422, "same-vote")
    town.ok(town.reps[0], "POST", ballots, {"choice": "no"})
    tally = town.get(f"{MOTIONS}/{motion_id}/tally")
    assert (tally["yes"], tally["no"]) == (0, 1)
    assert tally["ballots"] == [{"voter": "resident", "choice": "no"}]  # no member ids


def test_only_the_entitled_who_came_vote_and_only_while_voting_is_open(town):
    meeting_id = town.meeting(present=4)  # the fifth is entitled but did not come
    scheduled = town.scheduled(meeting_id)
    ballots = f"{MOTIONS}/{scheduled}/ballots"
    town.refuses(town.reps[1], "POST", ballots, {"choice": "yes"}, 422, "voting-not-open")
    town.ok(town.chair, "POST", f"{MOTIONS}/{scheduled}/voting")
    town.refuses(town.outsider, "POST", ballots, {"choice": "yes"}, 422, "not-entitled")
    town.refuses(town.reps[4], "POST", ballots, {"choice": "yes"}, 422, "not-present")
    town.refuses(town.reps[1], "POST", ballots, {"choice": "maybe"}, 400, "invalid-request")
    town.ok(town.reps[1], "POST", ballots, {"choice": "yes"})
    town.ok(town.chair, "POST", f"{MOTIONS}/{scheduled}/voting/close")
    town.refuses(town.reps[2], "POST", ballots, {"choice": "no"}, 422, "voting-not-open")
    close = f"{MOTIONS}/{scheduled}/voting/close"
    town.refuses(town.chair, "POST", close, None, 422, "voting-not-open")
    unknown = f"{MOTIONS}/{uuid.uuid4()}/ballots"
    town.refuses(town.reps[1], "POST", unknown, {"choice": "yes"}, 404, "motion-not-found")


def test_a_vote_opens_only_at_a_meeting_under_way_with_its_attendance_recorded(town):
    later = town.scheduled(town.meeting(starts_at="2026-09-05T19:00:00+08:00"))
    voting = f"{MOTIONS}/{later}/voting"
    problem = town.refuses(town.chair, "POST", voting, None, 422, "meeting-not-started")
    assert "2026-09-05T19:00+08:00" in problem["detail"]

    called = town.ok(
        town.chair,
        "POST",
        MEETINGS,
        {
            "idempotency_key": key(),
            "title": "临时议事会",
            "starts_at": UNDER_WAY,
            "place": "社区活动室",
            "entitled": [person["id"] for person in town.people],
        },
    )
    motion_id = town.scheduled(called["id"])
    voting = f"{MOTIONS}/{motion_id}/voting"
    problem = town.refuses(town.chair, "POST", voting, None, 422, "attendance-not-recorded")
    assert "present" in problem["detail"]
    came = [person["id"] for person in town.people[:3]]
    town.ok(town.chair, "PUT", f"{MEETINGS}/{called['id']}/attendance", {"present": came})
    town.ok(town.chair, "POST", voting)
    assert town.get(f"{MOTIONS}/{motion_id}/tally")["present"] == 3


def test_a_motion_moves_only_along_its_lifecycle(town):
    motion_id = town.motion()
    path = f"{MOTIONS}/{motion_id}"
    town.refuses(town.chair, "POST", f"{path}/admission", None, 422, "motion-submitted")
    town.refuses(town.chair, "POST", f"{path}/voting", None, 422, "not-scheduled")
    town.refuses(town.reps[0], "POST", f"{path}/support", None, 422, "own-motion")
    town.ok(town.reps[1], "POST", f"{path}/support")
    town.refuses(town.reps[1], "POST", f"{path}/support", None, 422, "already-supported")
    # Its time to gather support is not over: it cannot lapse yet.
    town.refuses(town.chair, "POST", f"{path}/lapse", None, 422, "seconding-open")
    declining = {"reason": "不属于议事范围"}
    town.refuses(town.chair, "POST", f"{path}/declining", declining, 422, "motion-submitted")
    town.refuses(town.chair, "POST", f"{path}/owner", {"owner": WORKS}, 422, "motion-submitted")


def test_progress_is_a_whole_percent_up_to_a_hundred(town):
    motion_id = town.decided(town.meeting(), "yes", "yes")
    path = f"{MOTIONS}/{motion_id}"
    town.ok(town.chair, "POST", f"{path}/owner", {"owner": str(staff_id_for("chair"))})
    progress = f"{path}/progress"
    # The schema takes any whole number; the motion refuses one out of range.
    town.refuses(town.chair, "POST", progress, {"percent": 101}, 422, "invalid-progress")
    town.refuses(town.chair, "POST", progress, {"percent": -1}, 422, "invalid-progress")
    town.refuses(town.chair, "POST", progress, {"percent": 50.5}, 400, "invalid-request")
    # A coordinator reports only on motions they own.
    town.refuses(town.coordinator, "POST", progress, {"percent": 10}, 422, "not-the-owner")
    town.ok(town.chair, "POST", progress, {"percent": 100, "note": "完工"})
    assert town.get(path)["progress"] == 100


def test_the_owner_is_named_by_the_staff_directorys_id_and_handed_over_with_a_reason(town):
    admin = sign_in_staff(town.client, "admin", ADMIN_PASSWORD)
    listed = town.client.get("/api/v1/staff", headers=admin)
    directory = {row["username"]: row["staff_id"] for row in listed.json()}
    motion_id = town.decided(town.meeting(), "yes", "yes")
    path = f"{MOTIONS}/{motion_id}"
    for named, code in [
        ("coord.one", "invalid-owner"),  # a username, not the directory's id
        ("staff:" + "0" * 8, "invalid-owner"),
        (str(uuid.uuid4()), "unknown-owner"),
        (directory["admin"], "not-an-owner"),  # administrators do not carry motions out
    ]:
        problem = town.refuses(town.chair, "POST", f"{path}/owner", {"owner": named}, 422, code)
        assert problem["field"] == "owner"
    # The id exactly as the directory lists it: its coordinator then reports progress.
    town.ok(town.chair, "POST", f"{path}/owner", {"owner": directory["coord.one"]})
    town.ok(town.coordinator, "POST", f"{path}/progress", {"percent": 30, "note": "已联系物业"})
    tracked = town.get(f"{MOTIONS}/tracker")
    assert [(row["owner_name"], row["owner_title"]) for row in tracked] == [("coord.one", None)]

    handing = {"owner": directory["chair"], "reason": "社工休产假，由主任跟进"}
    town.refuses(
        town.chair,
        "POST",
        f"{path}/owner/reassignment",
        {**handing, "reason": " "},
        422,
        "reason-required",
    )
    same = {**handing, "owner": f"staff:{directory['coord.one']}"}
    town.refuses(town.chair, "POST", f"{path}/owner/reassignment", same, 422, "owner-unchanged")
    town.refuses(town.coordinator, "POST", f"{path}/owner/reassignment", handing, 403, "forbidden")
    town.ok(town.chair, "POST", f"{path}/owner/reassignment", handing)
    town.refuses(
        town.coordinator, "POST", f"{path}/progress", {"percent": 40}, 422, "not-the-owner"
    )
    shown = town.get(path)
    assert (shown["owner"], shown["progress"]) == (f"staff:{directory['chair']}", 30)
    step = shown["steps"][-1]
    assert (step["type"], step["detail"]["reason"]) == ("MotionOwnerReassigned", handing["reason"])
    assert step["detail"]["previous"] == f"staff:{directory['coord.one']}"
    tracked = town.get(f"{MOTIONS}/tracker")
    assert [(row["owner_name"], row["owner_title"]) for row in tracked] == [("chair", "chair")]


def test_council_acts_need_the_council_role(town):
    meeting_id = town.meeting()
    seconded = town.motion()
    town.second(seconded)
    admission = f"{MOTIONS}/{seconded}/admission"
    town.refuses(town.reps[0], "POST", admission, None, 403, "forbidden")
    town.refuses(town.coordinator, "POST", admission, None, 403, "forbidden")
    scheduled = town.scheduled(meeting_id, mover=1)
    voting = f"{MOTIONS}/{scheduled}/voting"
    town.refuses(town.coordinator, "POST", voting, None, 403, "forbidden")
    town.refuses(town.reps[1], "POST", voting, None, 403, "forbidden")
    town.refuses({}, "POST", voting, None, 401, "unauthenticated")
    rules = town.get(RULES)
    change = {**rules, "secret": True, "reason": "试试"}
    town.refuses(town.coordinator, "PUT", RULES, change, 403, "forbidden")
    town.refuses(town.reps[0], "PUT", RULES, change, 403, "forbidden")
    # The chair may; and with the same rules again, there is nothing to change.
    town.refuses(town.chair, "PUT", RULES, {**rules, "reason": "x"}, 422, "rules-unchanged")


def test_only_the_mover_withdraws_and_only_before_the_vote(town):
    motion_id = town.motion(mover=0)
    withdrawal = f"{MOTIONS}/{motion_id}/withdrawal"
    why = {"reason": "情况有变"}
    town.refuses(town.reps[1], "POST", withdrawal, why, 422, "not-the-mover")
    town.refuses(town.reps[0], "POST", withdrawal, {"reason": "  "}, 422, "reason-required")
    town.ok(town.reps[0], "POST", withdrawal, why)
    town.refuses(town.reps[0], "POST", withdrawal, why, 422, "motion-withdrawn")
    assert town.get(f"{MOTIONS}/{motion_id}")["status"] == "withdrawn"

    voting = town.voting(town.meeting(), mover=2)
    late = f"{MOTIONS}/{voting}/withdrawal"
    town.refuses(town.reps[2], "POST", late, why, 422, "motion-voting")


# (c) A secret ballot.


def test_a_secret_ballot_shows_counts_and_never_who_voted_how(town):
    town.change_rules(secret=True)
    motion_id = town.voting(town.meeting())
    town.vote(motion_id, "yes", "no", "yes", "abstain")
    live = town.get(f"{MOTIONS}/{motion_id}/tally")
    assert (live["yes"], live["no"], live["abstain"], live["present"]) == (2, 1, 1, 4)
    assert live["ballots"] is None
    assert live["status"] == "voting" and live["result"] == "adopted"  # if closed now
    town.ok(town.chair, "POST", f"{MOTIONS}/{motion_id}/voting/close")
    closed = town.get(f"{MOTIONS}/{motion_id}/tally")
    assert (closed["status"], closed["result"], closed["ballots"]) == ("adopted", "adopted", None)
    # Nor does the motion's timeline show the ballots.
    steps = [step["type"] for step in town.get(f"{MOTIONS}/{motion_id}")["steps"]]
    assert "BallotCast" not in steps and "VotingClosed" in steps


def test_an_open_ballot_lists_each_ballot_on_the_public_tally_naming_no_member(town):
    """Who voted how is for the council's pages (by member number); the public tally, which
    anyone reads without signing in, lists the ballots with no member ids (test_public_board)."""
    motion_id = town.voting(town.meeting())
    town.vote(motion_id, "yes", "no")
    tally = town.get(f"{MOTIONS}/{motion_id}/tally")
    assert sorted(tally["ballots"], key=lambda ballot: ballot["choice"]) == [
        {"voter": "resident", "choice": "no"},
        {"voter": "resident", "choice": "yes"},
    ]


# (d) Amendments are settled before their motion's vote.


def test_an_amendment_is_settled_before_the_motion_it_amends_is_voted(town):
    meeting_id = town.meeting()
    parent = town.scheduled(meeting_id, mover=0)
    child = town.scheduled(meeting_id, mover=1, amends=parent)
    town.refuses(town.chair, "POST", f"{MOTIONS}/{parent}/voting", None, 422, "amendments-pending")
    town.ok(town.chair, "POST", f"{MOTIONS}/{child}/voting")
    town.vote(child, "yes", "yes", "yes")
    town.refuses(town.chair, "POST", f"{MOTIONS}/{parent}/voting", None, 422, "amendments-pending")
    town.ok(town.chair, "POST", f"{MOTIONS}/{child}/voting/close")
    town.ok(town.chair, "POST", f"{MOTIONS}/{parent}/voting")
    town.vote(parent, "yes", "yes")
    town.ok(town.chair, "POST", f"{MOTIONS}/{parent}/voting/close")
    assert town.get(f"{MOTIONS}/{child}")["amends"] == parent
    assert town.get(f"{MOTIONS}/{parent}")["status"] == "adopted"
    # A decided motion takes no more amendments.
    body = {"idempotency_key": key(), "title": "再改", "text": "x", "amends": parent}
    town.refuses(town.reps[2], "POST", MOTIONS, body, 422, "amending-a-settled-motion")


def test_a_withdrawn_amendment_no_longer_holds_up_the_vote(town):
    meeting_id = town.meeting()
    parent = town.scheduled(meeting_id, mover=0)
    child = town.motion(mover=1, amends=parent)
    town.refuses(town.chair, "POST", f"{MOTIONS}/{parent}/voting", None, 422, "amendments-pending")
    town.ok(town.reps[1], "POST", f"{MOTIONS}/{child}/withdrawal", {"reason": "合并"})
    town.ok(town.chair, "POST", f"{MOTIONS}/{parent}/voting")


# (e) The implementation tracker.


def test_the_tracker_marks_what_is_overdue(town):
    meeting_id = town.meeting()
    late, on_time, milestone_late, finished = (
        town.decided(meeting_id, "yes", "yes") for _ in range(4)
    )
    today = NOW.date()  # 1 September in the station's zone too
    owner = {"owner": WORKS}
    town.ok(town.chair, "POST", f"{MOTIONS}/{late}/owner", {**owner, "due": "2026-08-31"})
    town.ok(town.chair, "POST", f"{MOTIONS}/{on_time}/owner", {**owner, "due": str(today)})
    town.ok(town.chair, "POST", f"{MOTIONS}/{milestone_late}/owner", {**owner, "due": "2026-12-31"})
    milestone = {"name": "采购", "due": "2026-08-15"}
    town.ok(town.chair, "POST", f"{MOTIONS}/{milestone_late}/milestones", milestone)
    town.ok(town.chair, "POST", f"{MOTIONS}/{on_time}/milestones", milestone)
    town.ok(town.chair, "POST", f"{MOTIONS}/{on_time}/milestones/reached", {"name": "采购"})
    town.ok(town.chair, "POST", f"{MOTIONS}/{finished}/owner", {**owner, "due": "2026-08-01"})
    town.ok(town.chair, "POST", f"{MOTIONS}/{finished}/outcome", {"status": "done"})
    overdue = {row["motion_id"]: row["overdue"] for row in town.get(f"{MOTIONS}/tracker")}
    assert overdue == {late: 1, on_time: 0, milestone_late: 1, finished: 0}
    # Reaching the late milestone clears the mark.
    town.ok(town.chair, "POST", f"{MOTIONS}/{milestone_late}/milestones/reached", {"name": "采购"})
    overdue = {row["motion_id"]: row["overdue"] for row in town.get(f"{MOTIONS}/tracker")}
    assert overdue[milestone_late] == 0

    # Tomorrow the one due today is overdue as well.
    town.bone.clock = lambda: NOW.replace(day=2)
    overdue = {row["motion_id"]: row["overdue"] for row in town.get(f"{MOTIONS}/tracker")}
    assert overdue == {late: 1, on_time: 1, milestone_late: 0, finished: 0}


def test_an_outcome_other_than_done_says_why(town):
    motion_id = town.decided(town.meeting(), "yes", "yes")
    path = f"{MOTIONS}/{motion_id}"
    town.refuses(town.chair, "POST", f"{path}/outcome", {"status": "done"}, 422, "motion-adopted")
    town.ok(town.chair, "POST", f"{path}/owner", {"owner": WORKS})
    town.refuses(
        town.chair, "POST", f"{path}/outcome", {"status": "stalled"}, 422, "reason-required"
    )
    town.refuses(
        town.chair, "POST", f"{path}/outcome", {"status": "adopted"}, 422, "invalid-outcome"
    )
    town.ok(town.chair, "POST", f"{path}/outcome", {"status": "stalled", "reason": "缺资金"})
    town.ok(town.chair, "POST", f"{path}/progress", {"percent": 60})
    assert town.get(path)["status"] == "implementing"


def test_a_secret_ballot_names_no_voter_in_the_read_models(town):
    town.change_rules(secret=True)
    motion_id = town.voting(town.meeting())
    town.vote(motion_id, "yes", "no")
    town.get(f"{MOTIONS}/{motion_id}/tally")  # caught up with the ballots
    rows = live_dumps(town.bone)["council"]["ballots"]
    voters = {person["id"] for person in town.people}
    assert not [row for row in rows if row[0] == motion_id and set(map(str, row)) & voters]


def test_a_finished_implementation_is_never_overdue(town):
    meeting_id = town.meeting()
    cancelled, done = (town.decided(meeting_id, "yes", "yes") for _ in range(2))
    owner = {"owner": WORKS, "due": "2026-08-31"}
    for motion_id in (cancelled, done):
        town.ok(town.chair, "POST", f"{MOTIONS}/{motion_id}/owner", owner)
    milestone = {"name": "采购", "due": "2026-08-15"}
    town.ok(town.chair, "POST", f"{MOTIONS}/{done}/milestones", milestone)
    cancelling = {"status": "cancelled", "reason": "居民改变主意"}
    town.ok(town.chair, "POST", f"{MOTIONS}/{cancelled}/outcome", cancelling)
    town.ok(town.chair, "POST", f"{MOTIONS}/{done}/outcome", {"status": "done"})
    overdue = {row["motion_id"]: row["overdue"] for row in town.get(f"{MOTIONS}/tracker")}
    assert overdue == {cancelled: 0, done: 0}


# (f) Secret ballots are sealed: no record outside the ballot box links a voter to a choice.


def published(bone: Any) -> list[Envelope]:
    """Every envelope on the stream, once the relay has published everything recorded."""
    head = bone.timebank.last_position()
    wait_until(lambda: stream_position(bone.nats_url) >= head, what="the relay")
    return [decode(raw[raw.index(b'{"position"') :]) for raw in raw_stream(bone.nats_url)]


def test_a_secret_vote_links_no_voter_to_a_choice_and_its_box_goes_once_counted(
    broker, stores, tmp_path
):
    events, reads = stores.new("events"), stores.new("reads")
    with council_in(broker, stores, tmp_path, events, reads) as town:
        town.change_rules(secret=True)
        meeting_id = town.meeting()
        motion_id = town.voting(meeting_id)
        town.vote(motion_id, "yes", "no", "yes", "abstain")
        town.ok(town.reps[0], "POST", f"{MOTIONS}/{motion_id}/ballots", {"choice": "no"})
        voters = {person["id"] for person in town.people[:4]}

        # The live tally counts the sealed ballots: counts only.
        live = town.get(f"{MOTIONS}/{motion_id}/tally")
        assert (live["yes"], live["no"], live["abstain"], live["voted"]) == (1, 2, 1, 4)
        assert (live["secret"], live["ballots"], live["result"]) == (True, None, "rejected")

        # The stream names who voted, never how: the counts come only with the close.
        mine = [e for e in published(town.bone) if str(e.stream_id) == motion_id]
        ballots = [msgspec.json.decode(e.data) for e in mine if e.type == "SecretBallotCast"]
        assert {ballot["voter"] for ballot in ballots} == voters
        assert all(set(ballot) == {"voter", "changed"} for ballot in ballots)
        assert [ballot["changed"] for ballot in ballots] == [False] * 4 + [True]
        assert "BallotCast" not in {e.type for e in mine}

        # The event store holds each choice only sealed, with the vote's own key.
        stored = [s for s in raw_event_store(events) if b'"sealed_choice"' in s]
        assert len(stored) == 5
        assert not [s for s in stored if b'"choice"' in s or b'"replaces"' in s]
        motion = town.bone.timebank.find(UUID(motion_id), Motion)
        assert motion is not None and motion.ballots == {}
        box = BallotBox(town.bone.vault, motion.id)
        first = UUID(town.people[0]["id"])
        assert box.open(first, motion.sealed_ballots[first]) is Choice.NO

        # Nor do the read models: no ballot rows, no tally rows while it is open.
        dump = live_dumps(town.bone)["council"]
        assert not [row for row in dump["ballots"] if row[0] == motion_id]
        assert not [row for row in dump["tallies"] if row[0] == motion_id]

        town.ok(town.chair, "POST", f"{MOTIONS}/{motion_id}/voting/close")
        closed = town.get(f"{MOTIONS}/{motion_id}/tally")
        assert (closed["yes"], closed["no"], closed["abstain"]) == (1, 2, 1)
        assert (closed["status"], closed["result"], closed["ballots"]) == (
            "rejected",
            "rejected",
            None,
        )
        (counted,) = [e for e in published(town.bone) if e.type == "VotingClosed"]
        assert msgspec.json.decode(counted.data) == {
            "result": "rejected",
            "yes": 1,
            "no": 2,
            "abstain": 1,
        }
        # Counted: the box's key is gone, and with it every way to open the ballots.
        with pytest.raises(RuleViolated) as info:
            box.open(first, motion.sealed_ballots[first])
        assert info.value.code == "ballot-box-destroyed"
        wait_until(lambda: caught_up(town.bone), what="read models")
        bone = town.bone

    # Rebuilt from the stream, the read models read the result the same, counts and all.
    rebuilt = stores.new("rebuilt")
    assert rebuilt_dumps(rebuilt, broker.url) == live_dumps(bone)
    again = make_backbone(tmp_path / "again", events, rebuilt, broker.url)
    with TestClient(create_app(again)) as client:
        tally = client.get(f"{MOTIONS}/{motion_id}/tally").json()
        assert (tally["yes"], tally["no"], tally["abstain"], tally["result"]) == (
            1,
            2,
            1,
            "rejected",
        )
        minutes = client.get(f"{MEETINGS}/{meeting_id}/minutes").json()
        (item,) = minutes["agenda"]
        (closing,) = [step for step in item["steps"] if step["type"] == "VotingClosed"]
        assert closing["detail"] == {"result": "rejected", "yes": 1, "no": 2, "abstain": 1}


# (g) Amendments only before their motion's vote; rescinding with and without notice.


def test_a_motion_being_voted_on_takes_no_amendments(town):
    meeting_id = town.meeting()
    parent = town.voting(meeting_id)
    body = {"idempotency_key": key(), "title": "改一改", "text": "扶手改为两侧", "amends": parent}
    problem = town.refuses(town.reps[1], "POST", MOTIONS, body, 422, "parent-vote-open")
    assert "voted on" in problem["detail"]
    shown = town.get(f"{MOTIONS}/{parent}")
    assert shown["status"] == "voting"
    assert [row["motion_id"] for row in town.get(MOTIONS)["motions"]] == [parent]


def test_rescinding_needs_two_thirds_unless_noticed_before_the_meeting(town):
    adopted = town.decided(town.meeting(present=5), "yes", "yes", "yes")
    meeting_id = town.meeting(present=5, starts_at="2026-09-05T19:00:00+08:00")
    body = {"idempotency_key": key(), "title": "撤销", "text": "x", "rescinds": meeting_id}
    town.refuses(town.reps[1], "POST", MOTIONS, body, 404, "motion-not-found")

    # Put on the agenda days before the meeting (the clock reads 1 September): noticed.
    noticed = town.scheduled(meeting_id, mover=1, rescinds=adopted)
    # Put on the agenda once the meeting has begun: no notice.
    town.bone.clock = lambda: datetime(2026, 9, 5, 12, 0, tzinfo=UTC)  # 20:00 there
    unnoticed = town.scheduled(meeting_id, mover=2, rescinds=adopted)
    for motion_id in (noticed, unnoticed):
        town.ok(town.chair, "POST", f"{MOTIONS}/{motion_id}/voting")
        town.vote(motion_id, "yes", "yes", "yes", "no", "no")  # a majority, short of 2/3
        town.ok(town.chair, "POST", f"{MOTIONS}/{motion_id}/voting/close")

    results = {}
    for motion_id in (noticed, unnoticed):
        shown = town.get(f"{MOTIONS}/{motion_id}")
        opened = msgspec.json.decode(shown["rules"])
        results[motion_id] = (shown["noticed"], opened["rules"]["threshold"], shown["result"])
        assert shown["rescinds"] == adopted
    assert results == {
        noticed: (1, "simple_majority", "adopted"),
        unnoticed: (0, "two_thirds", "rejected"),
    }


# (h) Motions short of support lapse past their deadline: by the sweep, or by the council.


@pytest.fixture
def swept_town(broker, stores, tmp_path):
    """The sweeper looks for what is due every 50 ms."""
    events, reads = stores.new("events"), stores.new("reads")
    with council_in(broker, stores, tmp_path, events, reads, sweep_seconds=0.05) as c:
        yield c


def at(town: Council, moment: datetime) -> None:
    town.bone.clock = lambda: moment


def test_the_sweep_lapses_a_motion_past_its_deadline_and_not_one_still_in_time(swept_town):
    town = swept_town
    at(town, NOW - timedelta(days=31))  # 30 days to gather support: until yesterday
    due = town.motion()
    town.ok(town.reps[1], "POST", f"{MOTIONS}/{due}/support")  # short of the three it needs
    seconded = town.motion()
    town.second(seconded)
    at(town, NOW - timedelta(days=29))  # until tomorrow
    in_time = town.motion()
    town.get(f"{MOTIONS}/{in_time}")  # all three are on the board before the clock moves on

    at(town, NOW)
    wait_until(
        lambda: town.client.get(f"{MOTIONS}/{due}").json()["status"] == "lapsed",
        what="the sweep",
    )
    shown = town.client.get(f"{MOTIONS}/{due}").json()
    lapsed = shown["steps"][-1]
    assert (lapsed["type"], lapsed["actor"], lapsed["channel"]) == (
        "MotionLapsed",
        "system",
        "system",
    )
    assert lapsed["detail"] == {"at": NOW.isoformat().replace("+00:00", "Z")}
    # The same sweep saw the others and left them: seconded, and still in time.
    assert town.client.get(f"{MOTIONS}/{seconded}").json()["status"] == "seconded"
    assert town.client.get(f"{MOTIONS}/{in_time}").json()["status"] == "submitted"


def test_a_sweep_lapses_only_what_its_motion_still_says_is_due(town):
    at(town, NOW - timedelta(days=31))
    due, withdrawn = town.motion(), town.motion(mover=1)
    at(town, NOW)
    in_time = town.motion()
    town.get(f"{MOTIONS}/{in_time}")
    # Withdrawn after its deadline: the read model may still list it, the motion refuses.
    town.ok(town.reps[1], "POST", f"{MOTIONS}/{withdrawn}/withdrawal", {"reason": "已解决"})
    stale = [UUID(withdrawn), UUID(in_time)]
    assert commands.lapse_due(town.bone.timebank, stale, NOW, LAPSE) == 0

    town.get(f"{MOTIONS}/{withdrawn}")
    before = town.bone.timebank.last_position()
    assert lapse_due_motions(town.bone) == 1
    assert town.bone.timebank.last_position() == before + 1
    assert lapse_due_motions(town.bone) == 0  # nothing more is due
    town.last = town.bone.timebank.last_position()
    statuses = {m: town.get(f"{MOTIONS}/{m}")["status"] for m in (due, withdrawn, in_time)}
    assert statuses == {due: "lapsed", withdrawn: "withdrawn", in_time: "submitted"}


def test_the_council_may_still_lapse_a_motion_past_its_deadline(town):
    at(town, NOW - timedelta(days=31))
    motion_id = town.motion()
    lapse = f"{MOTIONS}/{motion_id}/lapse"
    at(town, NOW - timedelta(days=1))  # its deadline, to the microsecond
    town.refuses(town.chair, "POST", lapse, None, 422, "seconding-open")
    town.refuses(town.reps[1], "POST", lapse, None, 403, "forbidden")
    at(town, NOW)
    town.ok(town.chair, "POST", lapse)
    lapsed = town.get(f"{MOTIONS}/{motion_id}")
    assert lapsed["status"] == "lapsed"
    assert lapsed["steps"][-1]["actor"].startswith("staff:")
    town.refuses(town.chair, "POST", lapse, None, 422, "motion-lapsed")
    assert lapse_due_motions(town.bone) == 0
