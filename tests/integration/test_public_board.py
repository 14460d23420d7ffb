"""The public council board names no member: every route anyone may read without signing in
(the board, a motion's timeline and tally, the tracker, meetings and minutes) says `resident`
wherever a member id would stand."""

from __future__ import annotations

import pytest

from tests.integration.test_council import MEETINGS, MOTIONS, council_in


@pytest.fixture
def town(broker, stores, tmp_path):
    with council_in(broker, stores, tmp_path, stores.new("events"), stores.new("reads")) as c:
        yield c


def test_the_public_board_names_no_member(town):
    meeting_id = town.meeting()
    decided = town.decided(meeting_id, "yes", "no", "yes", "abstain")
    open_vote = town.voting(meeting_id, mover=1)
    town.vote(open_vote, "yes", "no")
    withdrawn = town.motion(mover=2)
    town.ok(town.reps[2], "POST", f"{MOTIONS}/{withdrawn}/withdrawal", {"reason": "不需要了"})
    member_ids = {person["id"] for person in town.people}

    read = {
        "board": town.client.get(MOTIONS, params={"after": town.last}),
        "tracker": town.client.get(f"{MOTIONS}/tracker", params={"after": town.last}),
        "decided": town.client.get(f"{MOTIONS}/{decided}", params={"after": town.last}),
        "open": town.client.get(f"{MOTIONS}/{open_vote}", params={"after": town.last}),
        "tally": town.client.get(f"{MOTIONS}/{open_vote}/tally", params={"after": town.last}),
        "meetings": town.client.get(MEETINGS, params={"after": town.last}),
        "minutes": town.client.get(f"{MEETINGS}/{meeting_id}/minutes", params={"after": town.last}),
    }
    for name, answer in read.items():
        assert answer.status_code == 200, f"{name}: {answer.text}"
        shown = [member for member in member_ids if member in answer.text]
        assert shown == [], f"{name} names members"

    board = read["board"].json()["motions"]
    assert {row["mover"] for row in board} == {"resident"}
    steps = read["decided"].json()["steps"]
    supported = [step for step in steps if step["type"] == "MotionSupported"]
    assert len(supported) == 3
    assert {(step["actor"], step["detail"]["supporter"]) for step in supported} == {
        ("resident", "resident")
    }
    assert any(step["actor"].startswith("staff:") for step in steps)  # officers are named
    tally = read["tally"].json()
    assert (tally["yes"], tally["no"]) == (1, 1)
    assert sorted(tally["ballots"], key=lambda b: b["choice"]) == [
        {"voter": "resident", "choice": "no"},
        {"voter": "resident", "choice": "yes"},
    ]
    minutes = read["minutes"].json()
    assert minutes["present"] == ["resident"] * 4
