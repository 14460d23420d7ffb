"""The resident council through HTTP on the real app, store, broker and read models: a decision
survives a change of rules and a rebuild of the read models; bad input is refused with a
problem+json and a stable ``code`` and records nothing; secret ballots; amendments settled
before their motion's vote; the implementation tracker's overdue marks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from domain.identity import CouncilTitle, Role
from services import identity
from services.api.app import create_app
from tests.integration.support import (
    BY,
    bearer,
    caught_up,
    kiosk_sign_in,
    live_dumps,
    make_backbone,
    rebuilt_dumps,
    refused,
    register,
    register_kiosk,
    serving,
    sign_in_staff,
    wait_until,
)

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)  # 17:00 on 1 September in the station's zone
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

    def meeting(self, present: int = 4) -> str:
        """A meeting where the five are entitled and the first ``present`` of them came."""
        called = self.ok(
            self.chair,
            "POST",
            MEETINGS,
            {
                "idempotency_key": key(),
                "title": "九月议事会",
                "starts_at": "2026-09-05T19:00:00+08:00",
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
def council_in(broker, stores, tmp_path, events: str, reads: str) -> Iterator[Council]:
    bone = make_backbone(tmp_path, events, reads, broker.url)
    bone.clock = lambda: NOW
    with serving(bone) as (_, client, _, coordinator):
        kiosk = register_kiosk(bone)
        identity.register_staff(
            bone.timebank,
            username="chair",
            role=Role.COUNCIL,
            password=CHAIR_PASSWORD,
            title=CouncilTitle.CHAIR,
            by=BY,
        )
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
    assert tally["ballots"] == [{"voter": town.people[0]["id"], "choice": "no"}]


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
    town.refuses(town.chair, "POST", f"{path}/owner", {"owner": "x"}, 422, "motion-submitted")


def test_progress_is_a_whole_percent_up_to_a_hundred(town):
    motion_id = town.decided(town.meeting(), "yes", "yes")
    path = f"{MOTIONS}/{motion_id}"
    town.ok(town.chair, "POST", f"{path}/owner", {"owner": "staff:works"})
    progress = f"{path}/progress"
    # The schema takes any whole number; the motion refuses one out of range.
    town.refuses(town.chair, "POST", progress, {"percent": 101}, 422, "invalid-progress")
    town.refuses(town.chair, "POST", progress, {"percent": -1}, 422, "invalid-progress")
    town.refuses(town.chair, "POST", progress, {"percent": 50.5}, 400, "invalid-request")
    # A coordinator reports only on motions they own.
    town.refuses(town.coordinator, "POST", progress, {"percent": 10}, 422, "not-the-owner")
    town.ok(town.chair, "POST", progress, {"percent": 100, "note": "完工"})
    assert town.get(path)["progress"] == 100


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


def test_an_open_ballot_shows_who_voted_how(town):
    motion_id = town.voting(town.meeting())
    town.vote(motion_id, "yes", "no")
    tally = town.get(f"{MOTIONS}/{motion_id}/tally")
    assert tally["ballots"] == sorted(
        [
            {"voter": town.people[0]["id"], "choice": "yes"},
            {"voter": town.people[1]["id"], "choice": "no"},
        ],
        key=lambda ballot: ballot["voter"],
    )


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
    owner = {"owner": "staff:works"}
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
    town.ok(town.chair, "POST", f"{path}/owner", {"owner": "staff:works"})
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
    owner = {"owner": "staff:works", "due": "2026-08-31"}
    for motion_id in (cancelled, done):
        town.ok(town.chair, "POST", f"{MOTIONS}/{motion_id}/owner", owner)
    milestone = {"name": "采购", "due": "2026-08-15"}
    town.ok(town.chair, "POST", f"{MOTIONS}/{done}/milestones", milestone)
    cancelling = {"status": "cancelled", "reason": "居民改变主意"}
    town.ok(town.chair, "POST", f"{MOTIONS}/{cancelled}/outcome", cancelling)
    town.ok(town.chair, "POST", f"{MOTIONS}/{done}/outcome", {"status": "done"})
    overdue = {row["motion_id"]: row["overdue"] for row in town.get(f"{MOTIONS}/tracker")}
    assert overdue == {cancelled: 0, done: 0}
