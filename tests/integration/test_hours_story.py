"""A volunteer's service from registration to a verified certificate, through HTTP on the real
app, store, broker and read models: every hour traceable to who recorded, approved and changed
it, when and why."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tests.integration.support import (
    bearer,
    kiosk_sign_in,
    make_backbone,
    register,
    register_kiosk,
    serving,
)

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
STATION = "+08:00"


@pytest.fixture
def running(broker, stores, tmp_path):
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
    bone.clock = lambda: NOW
    with serving(bone) as served:
        yield served


def key() -> str:
    return uuid.uuid4().hex


def service(day: int, hour: int, minutes: int, **change) -> dict:
    return {
        "activity": "上门探访",
        "started_at": f"2026-06-{day:02d}T{hour:02d}:00:00{STATION}",
        "minutes": minutes,
        "place": "3号楼",
        "content": "陪伴聊天，读报",
        "organiser": "幸福社区社工站",
        "responsible": "coord.one",
        "category": "companionship",
        "building": "3号楼",
        **change,
    }


def test_a_volunteers_hours_from_kiosk_to_verified_certificate(running):
    bone, client, _, coordinator = running
    kiosk = register_kiosk(bone)
    resident = register(client, coordinator, display_name="Zhou")

    def ok(method: str, path: str, headers: dict, **kwargs) -> dict:
        answer = client.request(method, path, headers=headers, **kwargs)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    registered = ok(
        "POST",
        "/api/v1/volunteers",
        coordinator,
        json={
            "member_id": resident["id"],
            "name": "周志愿",
            "gender": "女",
            "birth_date": "1960-03-08",
            "id_number": "110101196003080028",
            "area": "幸福社区",
            "contact": "13800138000",
            "skills": ["理发", "读报"],
            "categories": ["companionship"],
            "building": "3号楼",
            "consent_version": "volunteer-2026-01",
        },
    )
    volunteer_id = registered["id"]
    found = ok(
        "GET",
        "/api/v1/volunteers",
        coordinator,
        params={"skill": "理发", "after": registered["position"]},
    )["volunteers"]
    assert [row["volunteer_id"] for row in found] == [volunteer_id]
    assert "周志愿" not in str(found), "names stay sealed"

    # At the kiosk she is a volunteer now, and logs two visits herself.
    signed_in = kiosk_sign_in(client, kiosk, resident["member_number"])
    assert sorted(signed_in.json()["roles"]) == ["resident", "volunteer"]
    zhou = bearer(signed_in.json()["token"], kiosk)
    first = ok("POST", "/api/v1/hours", zhou, json={"idempotency_key": key(), **service(10, 9, 90)})
    second = ok(
        "POST", "/api/v1/hours", zhou, json={"idempotency_key": key(), **service(10, 10, 60)}
    )
    queue = ok(
        "GET",
        "/api/v1/hours",
        coordinator,
        params={"status": "submitted", "after": second["position"]},
    )["entries"]
    assert {row["entry_id"] for row in queue} == {first["id"], second["id"]}
    flagged = {row["entry_id"]: row["flags"] for row in queue}
    assert flagged[second["id"]] == ["overlap"], "10:00 falls inside the 9:00 visit of 90 minutes"

    # The coordinator approves both at once; she is credited from the community account.
    approved = ok(
        "POST",
        "/api/v1/hours/approvals",
        coordinator,
        json={"entry_ids": [first["id"], second["id"]]},
    )
    assert (approved["recorded"], approved["refused"]) == (2, 0)
    account = ok(
        "GET",
        f"/api/v1/accounts/{resident['account_id']}",
        zhou,
        params={"after": approved["position"]},
    )
    assert account["balance"] == 150

    certificate = ok(
        "POST",
        "/api/v1/certificates",
        coordinator,
        json={
            "volunteer_id": volunteer_id,
            "period_from": "2026-06-01",
            "period_to": "2026-06-30",
            "recording_body": "幸福社区社工站",
        },
    )
    # The second visit was really 30 minutes: amended with a reason and who asked.
    amended = ok(
        "POST",
        f"/api/v1/hours/{second['id']}/amendments",
        coordinator,
        json={**service(10, 11, 30), "reason": "志愿者报告时长有误", "requested_by": "本人"},
    )
    account = ok(
        "GET",
        f"/api/v1/accounts/{resident['account_id']}",
        zhou,
        params={"after": amended["position"]},
    )
    assert account["balance"] == 120

    history = ok(
        "GET", f"/api/v1/hours/{second['id']}/history", zhou, params={"after": amended["position"]}
    )
    assert [step["type"] for step in history] == ["HoursSubmitted", "HoursApproved", "HoursAmended"]
    assert history[0]["channel"] == f"kiosk:{kiosk.id}"
    assert history[1]["actor"].startswith("staff:")
    change = history[2]
    assert change["reason"] == "志愿者报告时长有误" and change["requested_by"] == "本人"
    assert change["changes"]["minutes"] == [60, 30]

    # Anyone can verify the certificate: what it said, and that it was corrected since, as
    # totals; the coordinator sees the entries and the correction itself.
    public = client.get(
        f"/api/v1/certificates/{certificate['code']}", params={"after": amended["position"]}
    )
    assert public.status_code == 200, public.text
    verified = public.json()
    assert (verified["minutes"], verified["minutes_now"]) == (150, 120)
    assert (verified["still_accurate"], verified["changes_since"]) == (False, 1)
    assert "entries" not in verified and "corrections" not in verified
    path = f"/api/v1/certificates/{certificate['code']}/entries"
    verified = ok("GET", path, coordinator, params={"after": amended["position"]})
    assert {(entry["minutes"], entry["minutes_now"]) for entry in verified["entries"]} == {
        (90, 90),
        (60, 30),
    }
    assert [step["type"] for step in verified["corrections"]] == ["HoursAmended"]

    report = ok(
        "GET",
        "/api/v1/reports/monitoring",
        coordinator,
        params={"first": "2026-06", "last": "2026-06", "after": amended["position"]},
    )
    assert report["service"] == [
        {
            "month": "2026-06",
            "category": "companionship",
            "building": "3号楼",
            "minutes": 120,
            "services": 2,
        }
    ]
    assert report["volunteers"] == [{"month": "2026-06", "active": 1, "new": 1}]
    assert report["registry"] == {"active": 1, "paused": 0, "left": 0}
