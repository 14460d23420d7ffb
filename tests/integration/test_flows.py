"""Hours that travel between stations (通存通兑): a resident of one station helped by a
resident of another, settled, with balances per person; both stations' figures and the
district's flow matrix show it, and the matrix adds up to the stations' figures; and a
coordinator acts on, and reads, only the exchanges, listings and accounts of their station."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from domain.identity import Role
from domain.ledger import AccountKind, account_id_for
from domain.listing import ListingKind
from domain.provenance import Provenance
from domain.station import DEFAULT_STATION, Level
from projections.exchanges import Exchanges
from projections.flows import Flows
from projections.marketplace import Marketplace
from projections.readstore import open_read_store
from services.bus import Caller, NotYours
from services.composition.app import create_app
from services.composition.runtime import Backbone
from services.exchange.commands import ConfirmHelp, PairIn, RecordHelp
from services.identity.commands import Reach
from services.ledger.commands import ChangeLimits, CorrectTransfer, PostTransfer
from services.listings.commands import CloseListing, PostListing
from services.messaging.envelope import decode, encode
from services.messaging.eventlog import EventLog
from services.store.eventstore import Timebank
from services.web.auth import Principal
from tests.integration.busy_world import busy_world
from tests.integration.support import (
    caught_up,
    headers_for,
    make_backbone,
    run_workers,
    wait_until,
)
from tests.integration.test_snapshots import Before
from tests.integration.test_stations import (
    district_with_two_stations,
    given,
    resident,
    staff,
)


@pytest.fixture
def bone(broker, stores, tmp_path) -> Backbone:
    """A deployment in a district (the first station's), where a second station opens."""
    return make_backbone(
        tmp_path, stores.new("events"), stores.new("reads"), broker.url, district="西湖区"
    )


@dataclass(frozen=True)
class Person:
    member_id: UUID
    account_id: UUID

    def caller(self) -> Caller:
        by = Provenance(actor=f"member:{self.member_id}", channel="kiosk", correlation_id="flows")
        return Caller(by, self.member_id, self.account_id)


def person(bone: Backbone, by: Caller, station: UUID) -> Person:
    member = resident(bone, by, station)
    return Person(member, account_id_for(str(member), AccountKind.MEMBER))


def helped(bone: Backbone, provider: Person, receiver: Person, minutes: int) -> UUID:
    """Help recorded by its provider and confirmed by its receiver: settled."""
    pair = PairIn(provider=provider.account_id, receiver=receiver.account_id, minutes=minutes)
    recorded = RecordHelp(idempotency_key=uuid.uuid4().hex, pairs=[pair], description="Escort")
    exchange = given(bone, recorded, provider.caller()).id
    confirmed = ConfirmHelp(idempotency_key=uuid.uuid4().hex, exchange_id=exchange)
    given(bone, confirmed, receiver.caller())
    return exchange


def staff_id(caller: Caller) -> str:
    return caller.by.actor


def http_headers(bone: Backbone, caller: Caller, role: Role) -> dict[str, str]:
    principal = Principal(subject=staff_id(caller), roles=frozenset({role}), channel="console")
    return headers_for(bone, principal)


@dataclass
class Two:
    """Station A (the first) and B, a coordinator at each, a district administrator, and
    residents: alice and carol at A, bob and dan at B."""

    a: UUID
    b: UUID
    admin: Caller
    at_a: Caller
    at_b: Caller
    alice: Person
    carol: Person
    bob: Person
    dan: Person


def two_stations(bone: Backbone) -> Two:
    admin, b = district_with_two_stations(bone)
    a = DEFAULT_STATION
    at_a = staff(bone, "coord.a", Role.COORDINATOR, Reach(level=Level.STATION, station=a), admin)
    at_b = staff(bone, "coord.b", Role.COORDINATOR, Reach(level=Level.STATION, station=b), admin)
    return Two(
        a,
        b,
        admin,
        at_a,
        at_b,
        person(bone, at_a, a),
        person(bone, at_a, a),
        person(bone, at_b, b),
        person(bone, at_b, b),
    )


def test_help_between_stations_settles_and_shows_in_both_stations_and_the_matrix(bone):
    two = two_stations(bone)
    across = helped(bone, two.bob, two.alice, 60)  # B's bob helps A's alice
    helped(bone, two.alice, two.bob, 20)  # and she helps him back
    helped(bone, two.dan, two.bob, 45)  # within B
    gift = PostTransfer(
        idempotency_key="within-a",
        from_account=str(two.carol.account_id),
        to_account=str(two.alice.account_id),
        minutes=15,
    )
    given(bone, gift, two.carol.caller())
    exchange = bone.timebank.repository.get(across)
    assert exchange.homes == {two.bob.account_id: two.b, two.alice.account_id: two.a}
    balances = {
        name: bone.timebank.repository.get(getattr(two, name).account_id).balance
        for name in ("alice", "bob", "carol", "dan")
    }
    assert balances == {"alice": -60 + 20 + 15, "bob": 60 - 20 - 45, "carol": -15, "dan": 45}
    with run_workers(bone):
        wait_until(lambda: caught_up(bone))
        year = bone.today().year
        months = {"first": f"{year}-01", "last": f"{year}-12"}
        with TestClient(create_app(bone)) as client:
            coordinator_a = http_headers(bone, two.at_a, Role.COORDINATOR)
            district = http_headers(bone, two.admin, Role.ADMIN)

            def report(station: UUID, headers: dict[str, str]) -> Any:
                return client.get(
                    f"/api/v1/flows/stations/{station}", params=months, headers=headers
                )

            of_a = report(two.a, coordinator_a).json()
            assert report(two.b, coordinator_a).status_code == 403
            of_b = report(two.b, district).json()
            matrix = client.get("/api/v1/flows/matrix", params=months, headers=district).json()
    by_kind = {kind["kind"]: kind for kind in of_a["kinds"]}
    assert by_kind["exchange"] == {
        "kind": "exchange",
        "minutes_out": 60,
        "minutes_in": 20,
        "within": 0,
    }
    assert by_kind["transfer"]["within"] == 15
    assert (of_b["minutes_out"], of_b["minutes_in"]) == (20, 60)
    lines = {line["station_id"]: line for line in matrix["stations"]}
    for station, figures in ((two.a, of_a), (two.b, of_b)):
        line = lines[str(station)]
        assert (line["minutes_out"], line["minutes_in"]) == (
            figures["minutes_out"],
            figures["minutes_in"],
        )
    assert sum(line["minutes_out"] for line in lines.values()) == sum(
        line["minutes_in"] for line in lines.values()
    )
    within = sum(kind["within"] for figures in (of_a, of_b) for kind in figures["kinds"])
    assert matrix["minutes"] == within + sum(line["minutes_out"] for line in lines.values())
    assert matrix["minutes"] == 60 + 20 + 45 + 15


def test_a_coordinator_reaches_only_their_own_stations_exchanges_listings_and_accounts(bone):
    two = two_stations(bone)
    within_b = RecordHelp(
        idempotency_key="within-b",
        pairs=[PairIn(provider=two.dan.account_id, receiver=two.bob.account_id, minutes=30)],
    )
    exchange = given(bone, within_b, two.dan.caller()).id
    across = helped(bone, two.bob, two.alice, 10)
    offer = PostListing(
        idempotency_key="offer-b", kind=ListingKind.OFFER, category="errands", title="Shopping"
    )
    listing = given(bone, offer, two.dan.caller()).id
    confirm = ConfirmHelp(
        idempotency_key="for-bob", exchange_id=exchange, receiver=two.bob.account_id
    )
    with pytest.raises(NotYours):
        given(bone, confirm, two.at_a)
    with pytest.raises(NotYours):
        given(bone, CloseListing(listing_id=listing, reason="not ours"), two.at_a)
    limits = ChangeLimits(account=str(two.dan.account_id), floor=-60, cap=600, reason="x")
    with pytest.raises(NotYours):
        given(bone, limits, two.at_a)
    moved = PostTransfer(
        idempotency_key="b-to-b",
        from_account=str(two.dan.account_id),
        to_account=str(two.bob.account_id),
        minutes=5,
    )
    moved_id = given(bone, moved, two.dan.caller()).id
    correction = CorrectTransfer(idempotency_key="undo", transfer_id=moved_id, reason="wrong")
    with pytest.raises(NotYours):
        given(bone, correction, two.at_a)
    given(bone, correction, two.at_b)
    given(bone, confirm, two.at_b)  # B's own coordinator may
    with run_workers(bone):
        wait_until(lambda: caught_up(bone))
        with TestClient(create_app(bone)) as client:
            at_a = http_headers(bone, two.at_a, Role.COORDINATOR)
            at_b = http_headers(bone, two.at_b, Role.COORDINATOR)
            district = http_headers(bone, two.admin, Role.ADMIN)

            def listed(headers: dict[str, str]) -> set[str]:
                found = client.get("/api/v1/exchanges", headers=headers).json()
                return {row["exchange_id"] for row in found["exchanges"]}

            assert listed(at_a) == {str(across)}
            assert listed(at_b) == {str(across), str(exchange)}
            assert client.get(f"/api/v1/exchanges/{exchange}", headers=at_a).status_code == 403
            assert client.get(f"/api/v1/exchanges/{across}", headers=at_a).status_code == 200
            dan = two.dan.account_id
            for path in (f"/api/v1/accounts/{dan}", f"/api/v1/accounts/{dan}/statement"):
                assert client.get(path, headers=at_a).status_code == 403
                assert client.get(path, headers=at_b).status_code == 200
                assert client.get(path, headers=district).status_code == 200
            board = client.get("/api/v1/listings", headers=at_a).json()["listings"]
            assert [(row["listing_id"], row["station_id"]) for row in board] == [
                (str(listing), str(two.b))
            ]


def test_a_store_written_before_stations_shows_its_help_and_listings_at_the_first_station(
    stores,
):
    """Its help and listings name no station; read now, they are the first station's, and
    the flows between its residents stay within it."""
    url = stores.new("events")
    before = Before(url)
    before.record(*busy_world(busy_postings=3, with_stations=False))
    before.close()
    app = Timebank(url)
    models = [Exchanges(), Marketplace(), Flows()]
    reads = open_read_store(stores.new("reads"), models)
    with reads.transaction(commit=True) as db:
        for envelope in EventLog(app.recorder, app.mapper).after(0, 1_000_000):
            for model in models:
                model.apply(db, decode(encode(envelope)))
    with reads.transaction(commit=False) as db:
        parties = db.all("SELECT DISTINCT station_id FROM exchange_parties")
        listings = db.all("SELECT DISTINCT station_id FROM listings")
        flows = db.all("SELECT DISTINCT from_station, to_station FROM flows")
    first = str(DEFAULT_STATION)
    assert parties == listings == [{"station_id": first}]
    assert flows == [{"from_station": first, "to_station": first}]
    reads.datastore.close()
    app.close()
