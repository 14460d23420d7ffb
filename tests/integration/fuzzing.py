"""What the fuzz test runs against: the app served by a real uvicorn on an ephemeral port, with
workers, and a small station in it (staff of each role, a resident signed in at a kiosk, and one
record of each kind), so that paths naming ids hit real records."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import uvicorn

from domain.identity import CouncilTitle, Role
from services.composition.app import create_app
from services.composition.runtime import Backbone
from tests.integration.support import (
    ADMIN_PASSWORD,
    COORDINATOR_PASSWORD,
    KioskDevice,
    bearer,
    caught_up,
    create_staff,
    kiosk_sign_in,
    member_body,
    register_kiosk,
    run_workers,
    sign_in_staff,
    wait_until,
)
from tests.integration.test_hours import volunteer_body

CHAIR_PASSWORD = "council chair password"
ROLES = ("anonymous", "resident", "council", "coordinator", "admin")  # the last ones change most


@contextmanager
def served(bone: Backbone) -> Iterator[str]:
    """The app on a real HTTP server, with the workers running; its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(create_app(bone), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    with run_workers(bone):
        thread.start()
        try:
            wait_until(lambda: server.started or not thread.is_alive(), what="uvicorn to start")
            assert server.started, "uvicorn did not start"
            port = server.servers[0].sockets[0].getsockname()[1]
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(30)
            assert not thread.is_alive(), "uvicorn did not stop"


def key() -> str:
    return uuid.uuid4().hex


@dataclass
class Station:
    """Who may sign in, and an id for each path parameter the API takes."""

    bone: Backbone
    client: httpx.Client
    kiosk: KioskDevice
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def ok(self, method: str, path: str, role: str, **kwargs: object) -> dict:
        answer = self.client.request(method, path, headers=self.headers[role], **kwargs)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def refresh(self, role: str) -> None:
        """A fresh token (a resident's lapses after three idle minutes), as a kiosk does."""
        if role == "anonymous":
            return
        answer = self.client.post("/api/v1/auth/refresh", headers=self.headers[role])
        if answer.status_code == 201:  # refused once an earlier run deactivated its principal
            token = answer.json()["token"]
            self.headers[role] = bearer(token, self.kiosk if role == "resident" else None)

    def path_ids(self, path: str, names: list[str]) -> dict[str, str] | None:
        """Real ids for the path's parameters, when the station has one of each."""
        ids = {
            **self.ids,
            "code": self.ids["certificate" if "certificates" in path else "category"],
        }
        if not all(name in ids for name in names):
            return None
        return {name: ids[name] for name in names}


def _staff(station: Station, role: str, username: str, password: str, **extra: str) -> str:
    made = station.ok(
        "POST",
        "/api/v1/staff",
        "admin",
        json={"username": username, "role": role, "password": password, **extra},
    )
    return made["id"]


def _people(station: Station) -> dict:
    """Staff of every role, and a resident (a volunteer too) signed in at the kiosk."""
    client = station.client
    station.headers["anonymous"] = {}
    station.headers["admin"] = sign_in_staff(client, "admin", ADMIN_PASSWORD)
    _staff(station, "coordinator", "coord.one", COORDINATOR_PASSWORD)
    station.headers["coordinator"] = sign_in_staff(client, "coord.one", COORDINATOR_PASSWORD)
    _staff(station, "council", "chair", CHAIR_PASSWORD, title=CouncilTitle.CHAIR)
    station.headers["council"] = sign_in_staff(client, "chair", CHAIR_PASSWORD)
    # What the fuzzer may deactivate or reset: not the principals it calls as.
    station.ids["staff_id"] = _staff(station, "coordinator", "spare.staff", "spare password")
    station.ids["kiosk_id"] = str(register_kiosk(station.bone, "Spare kiosk").id)
    station.ids["member_id"] = station.ok(
        "POST", "/api/v1/members", "coordinator", json=member_body(display_name="Spare")
    )["id"]
    resident = station.ok("POST", "/api/v1/members", "coordinator", json=member_body())
    neighbour = station.ok(
        "POST", "/api/v1/members", "coordinator", json=member_body(display_name="Wang")
    )
    return {"resident": resident, "neighbour": neighbour}


def _volunteer(station: Station, member_id: str) -> str:
    body = volunteer_body(member_id, building="3号楼")
    return station.ok("POST", "/api/v1/volunteers", "coordinator", json=body)["id"]


def _service(station: Station, day: int) -> dict:
    """A visit ``day`` days ago, in the station's time zone (hours cannot lie ahead)."""
    started = (station.bone.local_now() - timedelta(days=day)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    return {
        "activity": "上门探访",
        "started_at": started.isoformat(),
        "minutes": 60,
        "place": "3号楼",
        "content": "陪伴聊天，读报",
        "organiser": "幸福社区社工站",
        "responsible": "coord.one",
        "category": "companionship",
        "building": "3号楼",
    }


def _hours(station: Station, volunteer_id: str) -> None:
    """An approved visit, a certificate over it, and an entry still awaiting approval."""
    body = {"idempotency_key": key(), "volunteer_id": volunteer_id, **_service(station, 2)}
    approved = station.ok("POST", "/api/v1/hours", "coordinator", json=body)["id"]
    station.ok("POST", f"/api/v1/hours/{approved}/approval", "coordinator")
    today = station.bone.today()
    station.ids["certificate"] = station.ok(
        "POST",
        "/api/v1/certificates",
        "coordinator",
        json={
            "volunteer_id": volunteer_id,
            "period_from": (today - timedelta(days=7)).isoformat(),
            "period_to": today.isoformat(),
            "recording_body": "幸福社区社工站",
        },
    )["code"]
    body = {"idempotency_key": key(), "volunteer_id": volunteer_id, **_service(station, 1)}
    station.ids["entry_id"] = station.ok("POST", "/api/v1/hours", "coordinator", json=body)["id"]


def _trade(station: Station, resident: dict, neighbour: dict) -> None:
    """Minutes granted, a listing on the board, and help given that awaits confirmation."""
    account = resident["account_id"]
    station.ids["ref"] = account
    grant = {"idempotency_key": key(), "from_account": "community", "to_account": account}
    granted = station.ok("POST", "/api/v1/transfers", "coordinator", json={**grant, "minutes": 600})
    station.ids["transfer_id"] = granted["id"]
    station.ids["category"] = "errands"
    station.ids["listing_id"] = station.ok(
        "POST",
        "/api/v1/listings",
        "resident",
        json={
            "idempotency_key": key(),
            "kind": "offer",
            "category": "errands",
            "title": "帮忙买菜",
            "description": "每周二上午",
            "building": "3号楼",
        },
    )["id"]
    pair = {"provider": account, "receiver": neighbour["account_id"], "minutes": 60}
    station.ids["exchange_id"] = station.ok(
        "POST",
        "/api/v1/exchanges",
        "resident",
        json={"idempotency_key": key(), "listing_id": station.ids["listing_id"], "pairs": [pair]},
    )["id"]


def _council(station: Station, resident: dict, neighbour: dict) -> None:
    """A motion submitted by the resident, and a meeting both residents may vote at."""
    station.ids["motion_id"] = station.ok(
        "POST",
        "/api/v1/motions",
        "resident",
        json={"idempotency_key": key(), "title": "加装楼道扶手", "text": "3号楼楼道加装扶手"},
    )["id"]
    starts = station.bone.local_now() + timedelta(days=7)
    station.ids["meeting_id"] = station.ok(
        "POST",
        "/api/v1/meetings",
        "council",
        json={
            "idempotency_key": key(),
            "title": "议事会",
            "starts_at": starts.replace(microsecond=0).isoformat(),
            "place": "社区活动室",
            "entitled": [resident["id"], neighbour["id"]],
        },
    )["id"]


@contextmanager
def station(bone: Backbone) -> Iterator[tuple[str, Station]]:
    """The served app with a station in it, every read model caught up; its URL and station."""
    create_staff(bone.timebank, "admin", Role.ADMIN)
    with served(bone) as url, httpx.Client(base_url=url, timeout=60) as client:
        world = Station(bone, client, register_kiosk(bone))
        people = _people(world)
        resident = people["resident"]
        world.ids["volunteer_id"] = _volunteer(world, resident["id"])
        signed_in = kiosk_sign_in(client, world.kiosk, resident["member_number"])
        assert signed_in.status_code == 201, signed_in.text
        world.headers["resident"] = bearer(signed_in.json()["token"], world.kiosk)
        _trade(world, resident, people["neighbour"])
        _council(world, resident, people["neighbour"])
        _hours(world, world.ids["volunteer_id"])
        wait_until(lambda: caught_up(bone), what="the read models to take in the station")
        yield url, world
