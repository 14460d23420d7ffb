"""A motion from a resident's proposal to a tracked, adopted decision, through HTTP on the real
app, store, broker and read models; then the council's rules change, the read models are
rebuilt, and the decision still reads as it was taken."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from domain.identity import CouncilTitle, Role, staff_id_for
from tests.integration.support import (
    bearer,
    create_staff,
    kiosk_sign_in,
    make_backbone,
    refused,
    register,
    register_kiosk,
    serving,
    sign_in_staff,
)

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
CHAIR_PASSWORD = "council chair password"


@pytest.fixture
def running(broker, stores, tmp_path):
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
    bone.clock = lambda: NOW
    with serving(bone) as served:
        yield served


def key() -> str:
    return uuid.uuid4().hex


def test_a_motion_from_proposal_to_adopted_and_tracked(running):
    bone, client, _, coordinator = running
    kiosk = register_kiosk(bone)
    create_staff(bone.timebank, "chair", Role.COUNCIL, CHAIR_PASSWORD, CouncilTitle.CHAIR)
    chair = sign_in_staff(client, "chair", CHAIR_PASSWORD)
    people = [register(client, coordinator, display_name=f"Rep {n}") for n in range(5)]
    reps = []
    for person in people:
        signed_in = kiosk_sign_in(client, kiosk, person["member_number"])
        assert signed_in.status_code == 201, signed_in.text
        reps.append(bearer(signed_in.json()["token"], kiosk))

    def ok(method: str, path: str, headers: dict, **kwargs) -> dict:
        answer = client.request(method, path, headers=headers, **kwargs)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    motion = ok(
        "POST",
        "/api/v1/motions",
        reps[0],
        json={"idempotency_key": key(), "title": "加装楼道扶手", "text": "3号楼楼道加装扶手"},
    )
    path = f"/api/v1/motions/{motion['id']}"
    for rep in reps[1:4]:
        supported = ok("POST", f"{path}/support", rep)
    board = ok(
        "GET", "/api/v1/motions", {}, params={"status": "seconded", "after": supported["position"]}
    )
    assert [row["motion_id"] for row in board["motions"]] == [motion["id"]]

    meeting = ok(
        "POST",
        "/api/v1/meetings",
        chair,
        json={
            "idempotency_key": key(),
            "title": "九月议事会",
            "starts_at": "2026-09-05T19:00:00+08:00",
            "place": "社区活动室",
            "entitled": [person["id"] for person in people],
        },
    )
    ok("POST", f"{path}/admission", chair)
    ok("POST", f"{path}/scheduling", chair, json={"meeting_id": meeting["id"]})
    # The vote opens once the meeting is under way and who came is on record: opened on an
    # empty presence list it would fail its quorum for want of a roll call.
    refused(client.post(f"{path}/voting", headers=chair), 422, "meeting-not-started")
    bone.clock = lambda: datetime(2026, 9, 5, 11, 30, tzinfo=UTC)  # 19:30 there
    refused(client.post(f"{path}/voting", headers=chair), 422, "attendance-not-recorded")
    present = [person["id"] for person in people[:4]]
    ok("PUT", f"/api/v1/meetings/{meeting['id']}/attendance", chair, json={"present": present})
    ok("POST", f"{path}/voting", chair)
    for rep, choice in zip(reps[:4], ["yes", "yes", "no", "abstain"], strict=True):
        voted = ok("POST", f"{path}/ballots", rep, json={"choice": choice})
    live = ok("GET", f"{path}/tally", {}, params={"after": voted["position"]})
    assert (live["yes"], live["no"], live["abstain"], live["present"]) == (2, 1, 1, 4)
    closed = ok("POST", f"{path}/voting/close", chair)
    decided = ok("GET", f"{path}/tally", {}, params={"after": closed["position"]})
    assert decided["status"] == decided["result"] == "adopted"  # 2 of 3 cast, abstentions aside

    # The council makes abstentions count; the decision already taken stays as it was.
    rules = ok("GET", "/api/v1/council/rules", {})
    ok(
        "PUT",
        "/api/v1/council/rules",
        chair,
        json={**rules, "abstentions_count": True, "reason": "议事规则修订"},
    )
    ok(
        "POST",
        f"{path}/owner",
        chair,
        json={"owner": str(staff_id_for("coord.one")), "due": "2026-10-31"},
    )
    progress = ok("POST", f"{path}/progress", chair, json={"percent": 40, "note": "已采购"})
    tracker = ok("GET", "/api/v1/motions/tracker", {}, params={"after": progress["position"]})
    assert [(row["motion_id"], row["progress"]) for row in tracker] == [(motion["id"], 40)]
    minutes = ok(
        "GET",
        f"/api/v1/meetings/{meeting['id']}/minutes",
        {},
        params={"after": progress["position"]},
    )
    assert [item["result"] for item in minutes["agenda"]] == ["adopted"]
    timeline = ok("GET", path, {}, params={"after": progress["position"]})
    assert [step["type"] for step in timeline["steps"]][:3] == [
        "MotionSubmitted",
        "MotionSupported",
        "MotionSupported",
    ]
