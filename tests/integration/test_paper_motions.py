"""A motion a resident handed in on paper, entered by a coordinator: recorded as the
resident's (they are the mover), its provenance the coordinator and the ``paper`` channel."""

from __future__ import annotations

import msgspec
import pytest

from domain.identity import member_id_for
from tests.integration.support import deactivate_member, stored_envelopes
from tests.integration.test_council import MOTIONS, council_in, key

PAPER = {"title": "小区增设休息长椅", "text": "在3号楼前增设两张长椅，方便老人休息"}


@pytest.fixture
def town(broker, stores, tmp_path):
    with council_in(broker, stores, tmp_path, stores.new("events"), stores.new("reads")) as c:
        yield c


def test_a_coordinator_enters_a_paper_motion_as_the_residents(town):
    resident = town.people[1]
    body = {"idempotency_key": key(), "mover": resident["id"], **PAPER}
    motion_id = town.ok(town.coordinator, "POST", MOTIONS, body)["id"]
    assert town.get(f"{MOTIONS}/{motion_id}")["title"] == PAPER["title"]
    submitted = next(
        envelope
        for envelope in stored_envelopes(town.bone)
        if envelope.type == "MotionSubmitted" and str(envelope.stream_id) == motion_id
    )
    assert msgspec.json.decode(submitted.data)["mover"] == resident["id"]
    assert submitted.actor.startswith("staff:") and submitted.channel == "paper"
    # The resident may then withdraw it, as the mover of any motion may.
    withdrawal = f"{MOTIONS}/{motion_id}/withdrawal"
    town.ok(town.reps[1], "POST", withdrawal, {"reason": "已与物业协商解决"})


def test_a_paper_motion_names_an_active_resident_and_only_staff_name_another(town):
    town.refuses(
        town.coordinator,
        "POST",
        MOTIONS,
        {"idempotency_key": key(), **PAPER},
        422,
        "mover-required",
    )
    someone_else = {"idempotency_key": key(), "mover": town.people[2]["id"], **PAPER}
    town.refuses(town.reps[1], "POST", MOTIONS, someone_else, 422, "not-your-motion")
    town.refuses(town.chair, "POST", MOTIONS, someone_else, 403, "forbidden")
    gone = town.people[3]
    member_id = member_id_for(gone["member_number"])
    deactivate_member(town.bone.timebank, member_id, "搬走了", town.bone.clock())
    departed = {"idempotency_key": key(), "mover": gone["id"], **PAPER}
    town.refuses(town.coordinator, "POST", MOTIONS, departed, 422, "member-inactive")
