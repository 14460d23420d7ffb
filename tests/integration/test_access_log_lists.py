"""A list shown to staff with residents' names is one access-log record (its purpose and the
members it named), not one per row; the log of one person finds it; no name reaches the
event store or the stream; a list of nobody records nothing."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.provenance import Provenance
from domain.rules import RuleViolated
from services.identity.records import open_names
from tests.integration.support import (
    make_backbone,
    raw_event_store,
    raw_stream,
    register,
    serving,
    stream_position,
    wait_until,
)

NAMES = ("欧阳秀英", "司马明")
PURPOSE = "console: hour entries (submitted), the approval queue"


@pytest.fixture
def running(broker, stores, tmp_path):
    events = stores.new("events")
    bone = make_backbone(tmp_path, events, stores.new("reads"), broker.url)
    with serving(bone) as served:
        yield (*served, events, broker.url)


def _log(client, headers, after: int, member: str | None = None) -> list[dict]:
    params = {"after": after} | ({"member_id": member} if member else {})
    answer = client.get("/api/v1/access-log", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_list_with_names_is_one_access_log_record_naming_everyone_it_showed(running):
    bone, client, _, coordinator, events, nats_url = running
    members = [UUID(register(client, coordinator, display_name=name)["id"]) for name in NAMES]
    before = bone.timebank.last_position()
    by = Provenance(actor="staff:someone", channel="console", correlation_id="list")

    names = open_names(
        bone.timebank, bone.vault, member_ids=[*members, members[0]], purpose=PURPOSE, by=by
    )

    assert names == dict(zip(members, NAMES, strict=True))
    position = bone.timebank.last_position()
    assert position == before + 1  # one record for the whole list
    log = _log(client, coordinator, position)
    assert [(e["member_id"], e["purpose"], e["shown"], e["actor"]) for e in log[:1]] == [
        ("list", PURPOSE, 2, "staff:someone")
    ]
    for member in members:
        assert [e["position"] for e in _log(client, coordinator, position, str(member))] == [
            position
        ]
    wait_until(lambda: stream_position(nats_url) >= position, what="the relay to publish it")
    for raw in (*raw_event_store(events), *raw_stream(nats_url)):
        assert not any(name.encode() in raw for name in NAMES)


def test_a_list_of_nobody_records_nothing_and_a_purpose_is_required(running):
    bone, client, _, coordinator, *_ = running
    member = UUID(register(client, coordinator)["id"])
    by = Provenance(actor="staff:someone", channel="console", correlation_id="list")
    before = bone.timebank.last_position()
    assert open_names(bone.timebank, bone.vault, member_ids=[], purpose="x", by=by) == {}
    assert bone.timebank.last_position() == before
    with pytest.raises(RuleViolated) as refused:
        open_names(bone.timebank, bone.vault, member_ids=[member], purpose=" ", by=by)
    assert refused.value.code == "purpose-required"
    assert bone.timebank.last_position() == before
