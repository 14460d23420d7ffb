"""What an erasure does to the records that stay: the erased person's volunteer record reads
as left (with why), so nobody records service for them and the registry does not count them."""

from __future__ import annotations

import pytest

from services.identity.privacy import ERASED
from tests.integration.test_hours import HOURS, VOLUNTEERS, key, service, station_running


@pytest.fixture
def station(broker, stores, tmp_path):
    with station_running(broker, stores, tmp_path) as running:
        yield running


def test_an_erased_members_volunteer_record_reads_left(station):
    staff = station.coordinator
    zhou = station.volunteer("Zhou", sign_in=False)
    member_id = zhou.member["id"]
    station.post(staff, f"/api/v1/members/{member_id}/deactivation", reason="搬走了")
    erased = station.post(staff, "/api/v1/erasures", member_id=member_id, reason="本人要求删除")

    record = station.get(staff, f"{VOLUNTEERS}/{zhou.id}", after=erased["position"])
    assert record["status"] == "left"
    assert [(r["kind"], r["title"], r["detail"]) for r in record["records"]][-1:] == [
        ("status", "left", ERASED)
    ]
    listed = station.get(staff, VOLUNTEERS, status="active", after=erased["position"])
    assert zhou.id not in {row["volunteer_id"] for row in listed["volunteers"]}
    body = {"idempotency_key": key(), "volunteer_id": zhou.id, **service()}
    station.refuses(staff, "POST", HOURS, body, 422, "member-inactive")


def test_erasing_a_volunteer_who_had_left_records_no_second_leaving(station):
    staff = station.coordinator
    zhou = station.volunteer("Zhou", sign_in=False)
    member_id = zhou.member["id"]
    station.post(staff, f"{VOLUNTEERS}/{zhou.id}/status", status="left", reason="搬走了")
    station.post(staff, f"/api/v1/members/{member_id}/deactivation", reason="搬走了")
    erased = station.post(staff, "/api/v1/erasures", member_id=member_id, reason="本人要求删除")

    record = station.get(staff, f"{VOLUNTEERS}/{zhou.id}", after=erased["position"])
    assert record["status"] == "left"
    assert [r["kind"] for r in record["records"]].count("status") == 1
