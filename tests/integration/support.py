"""Helpers for integration tests: run workers in a thread or `timebank` parts as processes,
post transfers, read the stream, wait for catch-up; sign in and call the API as staff or from
a kiosk; read the stores' raw bytes."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeVar
from uuid import UUID

import nats
from litestar.testing import TestClient
from nats.errors import Error as NatsError
from nats.js.errors import NotFoundError
from psycopg import sql

from domain.hours import Service
from domain.identity import CouncilTitle, Role
from domain.ledger import AccountKind, system_account_id
from domain.listing import ListingKind
from domain.provenance import Provenance
from projections.catalog import READ_MODELS
from projections.readstore import open_read_store
from projections.runner import ProjectionRunner
from services.bus import Acting, Caller, Receipt
from services.certificates import handlers as certificates
from services.certificates.commands import IssueCertificate
from services.composition.app import create_app
from services.composition.config import Settings
from services.composition.runtime import Backbone, build_backbone
from services.composition.workers import Workers
from services.hours import handlers as hours
from services.hours.commands import ApproveEntry, SubmitEntry
from services.identity import kiosks, members, staff
from services.identity.commands import (
    CreateStaffAccount,
    DeactivateMember,
    Reach,
    RegisterKiosk,
    RegisterMember,
)
from services.identity.records import Registered
from services.ledger import handlers as ledger
from services.ledger.commands import OpenAccount, PostTransfer
from services.listings import handlers as listings
from services.listings.commands import PostListing
from services.messaging.broker import servers, stream_head
from services.messaging.envelope import (
    STREAM,
    SUBJECT_PREFIX,
    Envelope,
    decode,
    encode,
    position_of,
)
from services.messaging.eventlog import EventLog
from services.store.eventstore import Timebank
from services.store.persistence import is_postgres, persistence_env, postgres_connection
from services.store.vault import Vault
from services.volunteers import handlers as volunteers
from services.volunteers.commands import RegisterVolunteer
from services.web.auth import KIOSK_TOKEN_HEADER, Principal, issue_token, jwt_auth

BY = Provenance(actor="test", channel="test", correlation_id="test")
# The settings a handler called straight on a bare store sees (nothing is written from them).
BARE_STATION = Settings(data_dir=Path("unused"))
COMMUNITY = system_account_id(AccountKind.COMMUNITY)
POOL = system_account_id(AccountKind.POOL)
TIMEBANK = Path(sys.executable).parent / "timebank"
PROBLEM = "application/problem+json"
PIN = "2468"
NOTICE = "2024-06"  # the privacy notice version residents consent to in tests
ADMIN_PASSWORD = "admin password, long"
COORDINATOR_PASSWORD = "coordinator password"


OPENED: list[Backbone] = []  # closed after each test by the autouse fixture in conftest


def make_backbone(
    tmp_path: Path, event_store: str, read_store: str, nats_url: str, **settings: Any
) -> Backbone:
    """A backbone on these stores. Its app serves the API only unless ``pages=True``: the
    API's tests need no pages, and registering ninety page routes costs every app a fifth of a
    second."""
    # CI machines are shared and noisy: a read with ?after= waits as long as it takes there,
    # rather than answering 503 read-model-behind as an API under load rightly would.
    settings = Settings(
        data_dir=tmp_path / "data",
        event_store=event_store,
        read_store=read_store,
        **{"pages": False, "read_wait_seconds": 30.0, **settings},
    )
    bone = build_backbone(settings, nats_url)
    OPENED.append(bone)
    return bone


class Background:
    """Runs async workers on their own event loop in a thread, as `timebank up` would (though
    `up` runs the projections in a child process of their own)."""

    def __init__(self, work: Callable[[asyncio.Event], object]) -> None:
        self._work = work
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._work(self._stop))  # type: ignore[arg-type]

    def __enter__(self) -> Background:
        self._thread.start()
        return self

    def stop_soon(self) -> None:
        """Ask the workers to stop (they finish what they have in hand first)."""
        self._loop.call_soon_threadsafe(self._stop.set)

    def __exit__(self, *_: object) -> None:
        self.stop_soon()
        self._thread.join(30)
        assert not self._thread.is_alive(), "workers did not stop"


def run_workers(
    bone: Backbone, *, relay: bool = True, models: tuple[str, ...] = tuple(READ_MODELS)
) -> Background:
    return Background(Workers(bone, relay=relay, models=models).run)


T = TypeVar("T")
POLL_INTERVAL = 0.02  # between checks of a condition; tests wait for conditions, not for time


def wait_until(
    condition: Callable[[], bool], timeout: float = 60.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(POLL_INTERVAL)


def caught_up(bone: Backbone) -> bool:
    """Every read model and the stream hold every stored event. (Read models catch up from the
    event store as well as from the stream: the stream is asked on its own.)"""
    head = bone.timebank.last_position()
    if not all(bone.reads.position(name) >= head for name in READ_MODELS):
        return False
    try:
        return stream_position(bone.nats_url) >= head
    except (TimeoutError, NatsError):  # a cluster still electing the stream's leader
        return False


def register_resident(bone: Backbone, name: str, pin: str | None = PIN) -> Registered:
    """A resident registered through the services, as the station does: sealed details, their
    PIN (or, with None, a setup code to choose one) and the station's member limits."""
    command = RegisterMember(
        display_name=name,
        building="3号楼",
        household="3-201",
        phone="13800000000",
        pin=pin,
        notice_version=NOTICE,
    )
    on = acting(bone.timebank, bone.clock(), settings=bone.settings, vault=bone.vault)
    return members.register_member(command, on)


def create_staff(
    app: Timebank,
    username: str,
    role: Role,
    password: str = ADMIN_PASSWORD,
    title: CouncilTitle | None = None,
    reach: Reach | None = None,
) -> Registered:
    """A staff account, straight through its handler (no HTTP); by default at the first
    station."""
    command = CreateStaffAccount(
        username=username, role=role, password=password, title=title, reach=reach
    )
    return staff.register_staff(command, acting(app))


def deactivate_member(
    app: Timebank, member_id: UUID, reason: str = "moved away", now: datetime | None = None
) -> Registered:
    """Member ``member_id`` deactivated at ``now``, straight through the handler."""
    command = DeactivateMember(member_id=member_id, reason=reason)
    return members.deactivate_member(command, acting(app, now))


def register_volunteer(
    bone: Backbone, member_id: UUID, name: str, skills: tuple[str, ...] = ("陪伴",)
) -> Receipt:
    """Member ``member_id`` registered as a volunteer today (the station's day), with made-up
    Art. 5 details: no test reads them back."""
    command = RegisterVolunteer(
        member_id=member_id,
        name=name,
        gender="女",
        birth_date=date(1960, 3, 8),
        id_number="110101196003080028",
        area="3号楼",
        contact="13800138000",
        consent_version=NOTICE,
        skills=list(skills),
        categories=["companionship"],
        building="3号楼",
    )
    return volunteers.register(command, acting_on(bone))


def certify_last_week(bone: Backbone, volunteer_id: UUID, recording_body: str) -> str:
    """A certificate of the volunteer's approved service over the station's last seven days;
    its verification code."""
    today = bone.today()
    command = IssueCertificate(
        volunteer_id=volunteer_id,
        period_from=today - timedelta(days=7),
        period_to=today,
        recording_body=recording_body,
    )
    return certificates.issue(command, acting_on(bone)).code


def acting(
    app: Timebank,
    now: datetime | None = None,
    by: Provenance = BY,
    settings: Settings = BARE_STATION,
    vault: Vault | None = None,
    member: UUID | None = None,
) -> Acting:
    """What the bus gives a handler, for a test that calls one straight (no HTTP, no group
    commit): staff ``by`` (or the resident ``member``) acting at ``now``."""
    caller = Caller(by, member)
    return Acting(app, caller, now or datetime.now(UTC), settings, vault)  # type: ignore[arg-type]


def acting_on(bone: Backbone) -> Acting:
    """``acting``, as the station ``bone`` gives it: its clock, settings and vault."""
    return acting(bone.timebank, bone.clock(), settings=bone.settings, vault=bone.vault)


def open_member(bone: Backbone, owner: str, grant: int = 0) -> Receipt:
    receipt = ledger.open_account(OpenAccount(owner=owner), acting(bone.timebank))
    if grant:
        transfer(bone, f"grant-{owner}", COMMUNITY, receipt.id, grant)
    return receipt


def transfer(bone: Backbone, key: str, source, target, minutes: int, memo: str = "") -> Receipt:
    return transfer_on(bone.timebank, key, source, target, minutes, memo)


def transfer_on(app: Timebank, key: str, source, target, minutes: int, memo: str = "") -> Receipt:
    """A transfer straight through the command handler (no HTTP), on ``app``."""
    command = PostTransfer(
        idempotency_key=key,
        from_account=str(source),
        to_account=str(target),
        minutes=minutes,
        memo=memo,
    )
    return ledger.transfer(command, acting(app))


def submit_entry(
    app: Timebank,
    volunteer_id: UUID,
    service: Service,
    key: str,
    *,
    now: datetime | None = None,
    by: Provenance = BY,
    settings: Settings = BARE_STATION,
) -> Receipt:
    """Service recorded for a volunteer straight through the command handler (no HTTP)."""
    command = SubmitEntry(idempotency_key=key, volunteer_id=volunteer_id, **asdict(service))
    return hours.submit(command, acting(app, now, by, settings))


def approve_entry(app: Timebank, entry_id: UUID) -> Receipt:
    """An entry approved straight through the command handler: its volunteer is credited."""
    return hours.approve(ApproveEntry(entry_id=entry_id), acting(app))


def post_offer(app: Timebank, owner: UUID, by: Provenance = BY) -> Receipt:
    """A fresh offer of help on the board, posted for the owner of account ``owner``."""
    offer = PostListing(
        idempotency_key=uuid.uuid4().hex,
        kind=ListingKind.OFFER,
        category="errands",
        title="an offer of help",
    )
    return post_listing(app, owner, offer, by)


def post_listing(app: Timebank, owner: UUID, command: PostListing, by: Provenance = BY) -> Receipt:
    """A listing posted straight through its handler (no HTTP), as the resident whose account
    is ``owner``."""
    return listings.post(command, replace(acting(app, by=by), caller=Caller(by, account_id=owner)))


# Calling the API: as staff, or as a resident at a kiosk.


@dataclass(frozen=True)
class KioskDevice:
    """A registered kiosk: its id and the device token it sends with every request."""

    id: UUID
    token: str

    @property
    def channel(self) -> str:
        return f"kiosk:{self.id}"


def register_kiosk(bone: Backbone, name: str = "Test kiosk") -> KioskDevice:
    done = kiosks.register_kiosk(RegisterKiosk(name=name), acting(bone.timebank))
    return KioskDevice(done.id, done.token)


def bearer(token: str, kiosk: KioskDevice | None = None) -> dict[str, str]:
    """The headers of a request with sign-in ``token``; from a kiosk, its device token too."""
    headers = {"Authorization": f"Bearer {token}"}
    if kiosk is not None:
        headers[KIOSK_TOKEN_HEADER] = kiosk.token
    return headers


def headers_for(
    bone: Backbone, principal: Principal, kiosk: KioskDevice | None = None
) -> dict[str, str]:
    """A bearer token for ``principal``, signed with this backbone's secret (and, for a
    resident, the device token of the kiosk the principal names)."""
    return bearer(issue_token(jwt_auth(bone.settings.token_secret()), principal), kiosk)


def staff_headers(bone: Backbone, role: Role = Role.COORDINATOR) -> dict[str, str]:
    return headers_for(
        bone, Principal(subject=f"staff:test-{role}", roles=frozenset({role}), channel="console")
    )


def working_staff_headers(
    bone: Backbone, username: str, role: Role = Role.COORDINATOR
) -> dict[str, str]:
    """Headers of a real staff account at the first station, once the read models know it:
    what reads a station's people and records needs (``staff_headers``' made-up account works
    at no station)."""
    registered = create_staff(bone.timebank, username, role)
    principal = Principal(
        subject=f"staff:{registered.id}", roles=frozenset({role}), channel="console"
    )
    wait_until(lambda: caught_up(bone), what="read models")
    return headers_for(bone, principal)


def member_principal(
    member_id: UUID, account_id: UUID, kiosk: KioskDevice, role: Role = Role.RESIDENT
) -> Principal:
    """What a resident's kiosk sign-in token carries (services.api.identity.principal_of)."""
    return Principal(
        subject=f"member:{member_id}",
        roles=frozenset({role}),
        channel=kiosk.channel,
        member_id=member_id,
        account_id=account_id,
        kiosk_id=kiosk.id,
    )


def refused(response: Any, status: int, code: str) -> dict:
    """Assert ``response`` is a problem+json refusal with ``status`` and ``code``; return it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["code"] == code, problem
    assert problem["status"] == status and problem["detail"]
    return problem


def sign_in_staff(client: TestClient, username: str, password: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/staff", json={"username": username, "password": password})
    assert answer.status_code == 201, answer.text
    return bearer(answer.json()["token"])


def kiosk_sign_in(client: TestClient, kiosk: KioskDevice, member_number: str, pin: str = PIN):
    """The answer to a resident's sign-in at ``kiosk``."""
    return client.post(
        "/api/v1/auth/kiosk",
        json={"member_number": member_number, "pin": pin},
        headers={KIOSK_TOKEN_HEADER: kiosk.token},
    )


def member_body(**change: Any) -> dict:
    """A valid registration body; a change to None leaves that field out."""
    body = {
        "display_name": "Li Ming",
        "building": "Block 7",
        "household": "7-302",
        "phone": "13900000000",
        "pin": PIN,
        "notice_version": NOTICE,
    }
    body.update(change)
    return {key: value for key, value in body.items() if value is not None}


def register(client: TestClient, coordinator: dict[str, str], **change: Any) -> dict:
    """A resident registered through the API: id, position, member_number, account_id."""
    answer = client.post("/api/v1/members", json=member_body(**change), headers=coordinator)
    assert answer.status_code == 201, answer.text
    return answer.json()


def grant_minutes(
    client: TestClient, coordinator: dict[str, str], account_id: str, minutes: int
) -> int:
    """Minutes from the community account over the API; the transfer's position."""
    answer = client.post(
        "/api/v1/transfers",
        json={
            "idempotency_key": uuid.uuid4().hex,
            "from_account": "community",
            "to_account": account_id,
            "minutes": minutes,
        },
        headers=coordinator,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["position"]


class Serving(NamedTuple):
    bone: Backbone
    client: TestClient
    admin: dict[str, str]
    coordinator: dict[str, str]


@contextmanager
def serving(bone: Backbone) -> Iterator[Serving]:
    """The app with workers, an admin registered the way an installation bootstraps one, and a
    coordinator the admin created through the API; both signed in through the API."""
    create_staff(bone.timebank, "admin", Role.ADMIN)
    with run_workers(bone), TestClient(create_app(bone)) as client:
        admin = sign_in_staff(client, "admin", ADMIN_PASSWORD)
        created = client.post(
            "/api/v1/staff",
            json={"username": "coord.one", "role": "coordinator", "password": COORDINATOR_PASSWORD},
            headers=admin,
        )
        assert created.status_code == 201, created.text
        coordinator = sign_in_staff(client, "coord.one", COORDINATOR_PASSWORD)
        # What the station starts with (categories, rules) is read without ?after= by tests.
        wait_until(lambda: caught_up(bone), what="the read models to take in the start")
        yield Serving(bone, client, admin, coordinator)


def rebuilt_dumps(read_store_url: str, nats_url: str) -> dict[str, dict]:
    """Every read model rebuilt from the start of the stream into a fresh store (as one group,
    as `timebank up` runs them), dumped."""
    models = list(READ_MODELS.values())
    fresh = open_read_store(read_store_url, models)
    runner = ProjectionRunner(models, fresh, nats_url)
    asyncio.run(runner.run(asyncio.Event(), on_progress=lambda *_: None))
    dumps = {model.name: fresh.dump(model) for model in models}
    fresh.datastore.close()
    return dumps


def stored_envelopes(bone: Backbone) -> list[Envelope]:
    """Every stored event as a projection receives it from the stream."""
    events = EventLog(bone.timebank.recorder, bone.timebank.mapper)
    return [decode(encode(envelope)) for envelope in events.after(0, 1_000_000)]


def live_dumps(bone: Backbone) -> dict[str, dict]:
    return {model.name: bone.reads.dump(model) for model in READ_MODELS.values()}


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a thread of its own: a browser test's thread already runs Playwright's
    event loop, where ``asyncio.run`` refuses to start another."""
    with ThreadPoolExecutor(max_workers=1) as apart:
        return apart.submit(asyncio.run, coroutine).result()


def stream_positions(nats_url: str) -> list[int]:
    """The event-store position of every message in the stream, in stream order."""

    async def collect() -> list[int]:
        nc = await nats.connect(nats_url)
        try:
            js = nc.jetstream()
            try:
                state = (await js.stream_info(STREAM)).state
            except NotFoundError:  # the relay has not created it yet
                return []
            if state.messages == 0:
                return []
            # An ordered consumer streams them in sequence order, far faster than one get each.
            reader = await js.subscribe(f"{SUBJECT_PREFIX}.>", stream=STREAM, ordered_consumer=True)
            positions = []
            for seq in range(state.first_seq, state.last_seq + 1):
                message = await reader.next_msg(timeout=30)
                assert message.metadata.sequence.stream == seq
                positions.append(position_of(message.headers["Nats-Msg-Id"]))
            return positions
        finally:
            await nc.close()

    return run_apart(collect())


def stream_position(nats_url: str) -> int:
    """The event-store position of the stream's last message (0 while there is none)."""

    async def head() -> int:
        nc = await nats.connect(servers(nats_url))
        try:
            return (await stream_head(nc.jetstream()))[1]
        except NotFoundError:  # no stream yet: whoever connects first creates it
            return 0
        finally:
            await nc.close()

    return run_apart(head())


def raw_key_store(url: str) -> list[tuple[str, str]]:
    """Every row of the key store's table (an id, its key), read from the store itself."""
    if not is_postgres(url):
        with closing(sqlite3.connect(url)) as db:
            return db.execute("SELECT person_id, key FROM person_keys").fetchall()
    env = persistence_env(url)
    table = sql.Identifier(env["POSTGRES_SCHEMA"] or "public", "person_keys")
    with postgres_connection(env) as db:
        return db.execute(sql.SQL("SELECT person_id, key FROM {}").format(table)).fetchall()


def raw_event_store(url: str) -> list[bytes]:
    """Every stored event's and snapshot's ``state``, as the bytes on disk."""
    if not is_postgres(url):
        with sqlite3.connect(url) as db:
            tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master")]
            assert "stored_events" in tables
            found = [row[0] for row in db.execute("SELECT state FROM stored_events")]
            found += [row[0] for row in db.execute("SELECT state FROM stored_snapshots")]
        return [bytes(state) for state in found]
    env = persistence_env(url)
    schema = env["POSTGRES_SCHEMA"]
    with postgres_connection(env) as db:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT table_name FROM information_schema.columns"
                " WHERE table_schema = %s AND column_name = 'state'",
                (schema,),
            )
        ]
        assert any(table.endswith("_events") for table in tables), tables
        found = []
        for table in tables:
            query = sql.SQL("SELECT state FROM {}").format(sql.Identifier(schema, table))
            found += [row[0] for row in db.execute(query)]
    return [bytes(state) for state in found]


def raw_stream(nats_url: str) -> list[bytes]:
    """Every message in the stream, headers and data, as published."""

    async def collect() -> list[bytes]:
        nc = await nats.connect(nats_url)
        try:
            js = nc.jetstream()
            try:
                state = (await js.stream_info(STREAM)).state
            except NotFoundError:
                return []
            reader = await js.subscribe(f"{SUBJECT_PREFIX}.>", stream=STREAM, ordered_consumer=True)
            found = []
            for _ in range(state.messages):
                message = await reader.next_msg(timeout=30)
                found.append(repr(message.headers).encode() + message.data)
            return found
        finally:
            await nc.close()

    return run_apart(collect())


def store_positions(bone) -> list[int]:
    notifications = bone.timebank.recorder.select_notifications(start=1, limit=1_000_000)
    return [notification.id for notification in notifications]


class Part:
    """One `timebank` subcommand (`relay`, `project`, ...) as its own process, as deployed,
    configured through the TIMEBANK_* environment for ``bone``'s stores and broker.

    Use it as a context manager: whatever is still running on leaving is terminated.
    """

    def __init__(self, bone: Backbone, *args: str, log_dir: Path) -> None:
        self.args = args
        self.log_dir = log_dir
        self.env = {
            **os.environ,
            "TIMEBANK_NATS_URL": bone.nats_url,
            "TIMEBANK_EVENT_STORE": bone.settings.event_store_url,
            "TIMEBANK_READ_STORE": bone.settings.read_store_url,
            "TIMEBANK_DATA": str(bone.settings.data_dir),
            "PYTHONUNBUFFERED": "1",
        }
        self.starts = 0
        self.log_path: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> Part:
        assert self._process is None, "already running"
        self.starts += 1
        self.log_path = self.log_dir / f"timebank-{'-'.join(self.args)}-{self.starts}.log"
        self._log = self.log_path.open("wb")
        self._process = subprocess.Popen(
            [str(TIMEBANK), *self.args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        return self

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut or an OOM kill."""
        assert self.is_running(), f"`timebank {' '.join(self.args)}` had exited: {self.log_path}"
        assert self._process is not None
        self._process.kill()
        self._reap(timeout=30)

    def stop(self) -> None:
        """SIGTERM, as a service manager would; SIGKILL if it does not leave in time."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(30)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._reap(timeout=30)

    def _reap(self, timeout: float) -> None:
        assert self._process is not None and self._log is not None
        self._process.wait(timeout)
        self._log.close()
        self._process = self._log = None

    def __enter__(self) -> Part:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def ring_transfer(accounts: list, i: int) -> tuple:
    """The ``i``-th transfer round a ring of accounts: (source, target, minutes). Each account
    gives and receives the same minutes every round, so balances stay near where they started.
    """
    ring = len(accounts)
    return accounts[i % ring], accounts[(i + 1) % ring], 1 + (i // ring) % 5


class Poster(threading.Thread):
    """Posts ``count`` ring transfers from its own thread; ``join`` re-raises its error. As a
    context manager it is stopped and joined on leaving, however the test went.
    """

    def __init__(self, bone: Backbone, accounts: list, count: int, prefix: str = "ring") -> None:
        super().__init__(daemon=True)
        self.bone = bone
        self.accounts = accounts
        self.count = count
        self.prefix = prefix
        self.error: BaseException | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            for i in range(self.count):
                if self._halt.is_set():
                    return
                transfer(self.bone, f"{self.prefix}-{i}", *ring_transfer(self.accounts, i))
        except BaseException as error:
            self.error = error

    def join(self, timeout: float | None = None) -> None:
        super().join(timeout)
        assert not self.is_alive(), "poster did not finish"
        if self.error is not None:
            raise self.error

    def __enter__(self) -> Poster:
        return self

    def __exit__(self, *_: object) -> None:
        self._halt.set()
        if self.is_alive():
            super().join(30)
