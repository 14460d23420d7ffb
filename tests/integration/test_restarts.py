"""A station whose API process is SIGKILLed while busy, started again: its busy accounts (the
community account among them) now come from their snapshots, nothing is cached, and every kind
of command still works on them, through the API, with the read models ending as a rebuild
would make them.
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from uuid import UUID

import httpx
import pytest
from litestar.testing import TestClient

from domain.ledger import TimeAccount
from services.composition.app import create_app
from services.messaging.broker import free_port
from services.store.eventstore import Timebank
from tests.integration.support import (
    COMMUNITY,
    Part,
    bearer,
    caught_up,
    kiosk_sign_in,
    live_dumps,
    make_backbone,
    rebuilt_dumps,
    register_kiosk,
    register_resident,
    register_volunteer,
    ring_transfer,
    run_workers,
    staff_headers,
    wait_until,
    working_staff_headers,
)

BUSY = Timebank.snapshotting_intervals[TimeAccount] + 20  # events: past the first snapshot


@pytest.fixture
def bone(broker, stores, tmp_path):
    return make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)


class HttpPoster(threading.Thread):
    """Posts ring transfers to an API process until it is stopped or the process dies."""

    def __init__(self, url: str, headers: dict[str, str], accounts: list[UUID]) -> None:
        super().__init__(daemon=True)
        self.url, self.headers, self.accounts = url, headers, [str(a) for a in accounts]
        self.halt = threading.Event()
        self.refused: list[str] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.url, headers=self.headers, timeout=30) as client:
            i = 0
            while not self.halt.is_set():
                source, target, minutes = ring_transfer(self.accounts, i)
                body = {"idempotency_key": f"busy-{i:06d}", "from_account": source}
                try:
                    answer = client.post(
                        "/api/v1/transfers", json={**body, "to_account": target, "minutes": minutes}
                    )
                except httpx.TransportError:
                    return  # the process was killed
                if answer.status_code != 201:
                    self.refused.append(answer.text)
                    return
                i += 1


def busy(app: Timebank, accounts: list[UUID]) -> bool:
    return all(app.repository.get(account).version > BUSY for account in accounts)


def crash_while_busy(bone, accounts: list[UUID], tmp_path) -> None:
    """Ring transfers through a `timebank api` process until every account is busy; SIGKILL
    it while the transfers keep coming."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with Part(bone, "api", "--host", "127.0.0.1", "--port", str(port), log_dir=tmp_path) as api:
        api.start()
        wait_until(lambda: _answers(url), timeout=60, what="the API process to answer")
        poster = HttpPoster(url, staff_headers(bone), [COMMUNITY, *accounts])
        poster.start()
        wait_until(
            lambda: poster.refused or busy(bone.timebank, accounts),
            timeout=240,
            what="busy accounts",
        )
        assert poster.refused == [], poster.refused
        assert poster.is_alive(), "the kill must come while transfers are still being posted"
        api.kill()
        poster.halt.set()
        poster.join(30)
    assert poster.refused == [], poster.refused


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=5).status_code in (200, 503)
    except httpx.TransportError:
        return False


def test_after_a_crash_every_command_works_on_busy_accounts(bone, broker, stores, tmp_path):
    residents = [register_resident(bone, f"Resident {i}") for i in range(4)]
    register_volunteer(bone, residents[0].id, "Volunteer")
    kiosk = register_kiosk(bone)
    accounts = [resident.account_id for resident in residents]
    giver, taker, closing, leaving = accounts
    crash_while_busy(bone, accounts, tmp_path)

    restarted = make_backbone(
        tmp_path, bone.settings.event_store_url, bone.settings.read_store_url, broker.url
    )
    app = restarted.timebank
    assert app.snapshots is not None and app.repository.cache is not None
    for account in (COMMUNITY, *accounts):
        assert list(app.snapshots.get(account)), "every busy account has its snapshot"
    for account in accounts:  # (the start looked up the community account, from its snapshot)
        with pytest.raises(KeyError):
            app.repository.cache.get(account)  # nothing cached: each is loaded from the store

    with run_workers(restarted), TestClient(create_app(restarted)) as client:
        coordinator = working_staff_headers(restarted, "restart.coordinator")

        def ok(path: str, body: dict, headers: dict[str, str], method: str = "POST") -> dict:
            answer = client.request(method, path, json=body, headers=headers)
            assert answer.status_code in (200, 201), (path, answer.text)
            return answer.json()

        def resident(index: int) -> dict[str, str]:
            signed_in = kiosk_sign_in(client, kiosk, residents[index].member_number)
            assert signed_in.status_code == 201, signed_in.text
            return bearer(signed_in.json()["token"], kiosk)

        moved = ok(
            "/api/v1/transfers",
            {
                "idempotency_key": key(),
                "from_account": str(giver),
                "to_account": str(taker),
                "minutes": 30,
            },
            coordinator,
        )
        ok(
            f"/api/v1/transfers/{moved['id']}/corrections",
            {"idempotency_key": key(), "reason": "too much", "minutes": 10},
            coordinator,
        )
        answer = client.put(
            f"/api/v1/accounts/{giver}/limits",
            json={"floor": -300, "cap": 60_000, "reason": "reviewed"},
            headers=coordinator,
        )
        assert answer.status_code in (200, 201), answer.text
        as_giver, as_taker = resident(0), resident(1)
        helped = ok(
            "/api/v1/exchanges",
            {
                "idempotency_key": key(),
                "pairs": [{"provider": str(giver), "receiver": str(taker), "minutes": 45}],
            },
            as_giver,
        )
        ok(f"/api/v1/exchanges/{helped['id']}/confirmation", {"idempotency_key": key()}, as_taker)
        ok(  # what the settlement moved is held back, then the adjusted minutes settle
            f"/api/v1/exchanges/{helped['id']}/disputes",
            {"idempotency_key": key(), "reason": "it was shorter"},
            as_taker,
        )
        ok(
            f"/api/v1/exchanges/{helped['id']}/resolution",
            {"idempotency_key": key(), "outcome": "adjust", "minutes": [40], "reason": "agreed"},
            coordinator,
        )
        ok(
            "/api/v1/pool/donations",
            {"idempotency_key": key(), "from_account": str(giver), "minutes": 20},
            as_giver,
        )
        ok(
            "/api/v1/pool/grants",
            {"idempotency_key": key(), "to_account": str(taker), "minutes": 15, "reason": "need"},
            coordinator,
        )
        entry = ok("/api/v1/hours", {"idempotency_key": key(), **service(restarted)}, as_giver)
        ok(f"/api/v1/hours/{entry['id']}/approval", {}, coordinator)
        ok(  # part of the credit is corrected back to the community account
            f"/api/v1/hours/{entry['id']}/amendments",
            {**service(restarted, minutes=45), "reason": "left early", "requested_by": "self"},
            coordinator,
        )
        listing = ok(
            "/api/v1/listings",
            {"idempotency_key": key(), "kind": "offer", "category": "errands", "title": "买菜"},
            as_giver,
        )
        ok(f"/api/v1/listings/{listing['id']}/closure", {"reason": "found help"}, as_giver)
        motion = ok(
            "/api/v1/motions",
            {"idempotency_key": key(), "title": "加装扶手", "text": "3号楼楼道加装扶手"},
            as_giver,
        )
        ok(f"/api/v1/motions/{motion['id']}/support", {}, as_taker)
        ok(f"/api/v1/accounts/{closing}/closure", {"reason": "moved away"}, coordinator)
        last = ok(
            f"/api/v1/members/{residents[3].id}/deactivation", {"reason": "moved"}, coordinator
        )

        wait_until(lambda: caught_up(restarted), timeout=120, what="the read models")
        fresh = Timebank(restarted.settings.event_store_url)
        for account in (COMMUNITY, *accounts):
            shown = client.get(
                f"/api/v1/accounts/{account}",
                params={"after": last["position"]},
                headers=coordinator,
            )
            assert shown.status_code == 200, shown.text
            stored = fresh.repository.get(account)
            assert shown.json()["balance"] == stored.balance
            assert shown.json()["is_closed"] == stored.is_closed == (account in (closing, leaving))
        assert fresh.repository.get(giver).limits.floor == -300
        fresh.close()
    assert rebuilt_dumps(stores.new("rebuilt"), broker.url) == live_dumps(restarted)


def key() -> str:
    return uuid.uuid4().hex


def service(bone, minutes: int = 60) -> dict:
    """Service that started two hours ago, where the station is."""
    started = bone.local_now().replace(microsecond=0) - timedelta(hours=2)
    return {
        "activity": "Home visit",
        "started_at": started.isoformat(),
        "minutes": minutes,
        "place": "Block 3",
        "content": "Reading the paper",
        "organiser": "Station",
        "responsible": "coord.one",
        "category": "companionship",
        "building": "Block 3",
    }
