"""An event a read model cannot apply never stops it silently: times at the ends of what
datetime holds are applied, and a model that still fails is shown failing, refuses reads past
where it stopped, and recovers by a fix and a rebuild."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from litestar.testing import TestClient

from domain.hours import Service, submit_hours
from domain.identity import Role
from domain.listing import Categories, categories_id
from domain.volunteer import Volunteer
from projections import deadletter
from projections.catalog import READ_MODELS
from projections.exchanges import Exchanges
from projections.readstore import ReadDb, open_read_store
from projections.runner import PoisonEvent, ProjectionRunner
from services.bus import Receipt
from services.composition.app import create_app
from services.composition.rebuild import rebuild
from services.council import handlers as council
from services.council.commands import CallMeeting
from services.exchange import handlers as exchange
from services.exchange.commands import ChangeExchangeRules, ConfirmHelp, PairIn, RecordHelp
from services.messaging.envelope import Envelope
from services.messaging.eventlog import EventLog
from services.web.auth import Principal
from tests.integration.support import (
    BY,
    COMMUNITY,
    POOL,
    Background,
    acting,
    caught_up,
    create_staff,
    headers_for,
    make_backbone,
    open_member,
    refused,
    register_resident,
    register_volunteer,
    run_workers,
    staff_headers,
    stored_envelopes,
    transfer,
    wait_until,
)

FIRST = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))  # in year 0 in UTC
LAST = datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14)))  # in year 10000


@pytest.fixture
def bone(broker, stores, tmp_path):
    return make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)


def _help_given_at(bone, key: str, occurred_at: datetime, description: str = "") -> Receipt:
    provider, receiver = (open_member(bone, f"{key}-{side}").id for side in ("gives", "gets"))
    command = RecordHelp(
        idempotency_key=key,
        pairs=[PairIn(provider=provider, receiver=receiver, minutes=60)],
        description=description,
    )
    # Set past the API's date window, as a store written before there were windows holds.
    command.occurred_at = occurred_at
    return exchange.record(command, acting(bone.timebank))


def _settled_with_a_dispute_window_past_the_calendar(bone) -> None:
    rules = ChangeExchangeRules(
        max_minutes=60,
        confirm_within_hours=1,
        dispute_within_hours=24 * 999_999_999,
        reason="a slip of the keyboard",
    )
    exchange.change_rules(rules, acting(bone.timebank))
    recorded = _help_given_at(bone, "settled", datetime.now(UTC))
    receiver = exchange.exchange_of(bone.timebank, recorded.id).recorded_pairs[0].receiver
    confirmation = ConfirmHelp(
        idempotency_key="settled-confirmed", exchange_id=recorded.id, receiver=receiver
    )
    exchange.confirm(confirmation, acting(bone.timebank))


def _service_at(bone, key: str, started_at: datetime) -> Receipt:
    member = register_resident(bone, key)
    volunteer = register_volunteer(bone, member.id, key)
    service = Service(
        activity="visit",
        started_at=started_at,
        minutes=60,
        place="hall",
        content="tea",
        organiser="station",
        responsible="coord.one",
        category="companionship",
        building="3号楼",
    )
    # Through the domain: the command refuses such a time as it is made, and its handler reads
    # the time in the station's zone, which year 0 and year 10000 do not have.
    app, found = bone.timebank, bone.timebank.find(volunteer.id, Volunteer)
    entry = submit_hours(
        idempotency_key=key,
        volunteer=found,
        service=service,
        categories=app.find(categories_id(), Categories),
        now=datetime.now(UTC),
        by=BY,
    )
    return Receipt(entry.id, app.record(entry, found))


def _meeting_at(bone, key: str, starts_at: datetime) -> None:
    entitled = [register_resident(bone, key).id]
    called = CallMeeting(
        idempotency_key=key,
        title="General meeting",
        starts_at=datetime.now(UTC),
        place="hall",
        entitled=entitled,
    )
    # Set after the command is made, past its date window: a store may hold such times.
    called.starts_at = starts_at
    council.call(called, acting(bone.timebank))


def test_times_at_the_ends_of_the_calendar_are_applied_by_every_read_model(bone, stores):
    """The events of issue 14's defect 1, recorded through the command handlers (the API now
    refuses such times, but a store may hold them already)."""
    _help_given_at(bone, "help", FIRST)
    _settled_with_a_dispute_window_past_the_calendar(bone)
    _service_at(bone, "service", FIRST)
    _meeting_at(bone, "meeting-first", FIRST)
    _meeting_at(bone, "meeting-last", LAST)  # help and service cannot lie in the future
    models = list(READ_MODELS.values())
    fresh = open_read_store(stores.new("reads-fresh"), models)
    try:
        envelopes = stored_envelopes(bone)
        reached = fresh.apply(models, envelopes)
        assert reached == dict.fromkeys(READ_MODELS, envelopes[-1].position)
    finally:
        fresh.datastore.close()


class BuggyExchanges(Exchanges):
    """The exchanges read model with a bug: it cannot apply help described as "poison"."""

    broken = True

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        if self.broken and getattr(envelope.payload(), "description", "") == "poison":
            raise RuntimeError("a bug in the exchanges read model")
        super().apply(db, envelope)


def _rebuild(model, bone) -> None:
    events = EventLog(bone.timebank.recorder, bone.timebank.mapper)
    asyncio.run(rebuild(model, bone.reads, bone.nats_url, events, asyncio.Event(), lambda *_: None))


def test_a_read_model_that_cannot_apply_an_event_shows_failing_until_fixed_and_rebuilt(bone):
    buggy = BuggyExchanges()
    models = [buggy if name == buggy.name else model for name, model in READ_MODELS.items()]
    coordinator = staff_headers(bone)
    with run_workers(bone, models=()), TestClient(create_app(bone)) as client:
        with Background(ProjectionRunner(models, bone.reads, bone.nats_url).run):
            wait_until(lambda: caught_up(bone), what="the read models to take in the start")
            assert client.get("/health").status_code == 200
            poison = _help_given_at(bone, "poisoned", datetime.now(UTC), "poison")
            later = transfer(bone, "after-the-poison", COMMUNITY, POOL, 5).position
            wait_until(lambda: client.get("/health").status_code == 503, what="/health to tell")
            health = client.get("/health").json()
            assert health["status"] == "degraded"
            failing = health["projections"]["exchanges"]
            assert failing["status"] == "failing"
            assert failing["position"] == poison.position - 1, "halted just before the event"
            assert failing["failure"]["position"] == poison.position
            assert failing["failure"]["event_type"] == "HelpRecorded"
            assert "a bug in the exchanges read model" in failing["failure"]["error"]
            assert any("exchanges" in problem for problem in health["problems"])
            wait_until(
                lambda: all(
                    bone.reads.position(name) >= later for name in READ_MODELS if name != buggy.name
                ),
                what="every other read model to go on",
            )
            assert {name: each["status"] for name, each in health["projections"].items()} == {
                name: "failing" if name == buggy.name else "live" for name in READ_MODELS
            }

            shown = f"/api/v1/exchanges/{poison.id}"
            refused_read = refused(
                client.get(f"{shown}?after={poison.position}", headers=coordinator),
                503,
                "read-model-failing",
            )
            assert refused_read["model"] == "exchanges"
            assert refused_read["stopped_before"] == poison.position
            before = f"/api/v1/exchanges?after={poison.position - 1}"
            assert client.get(before, headers=coordinator).status_code == 200, (
                "what came before the event still reads"
            )

        with pytest.raises(PoisonEvent, match="HelpRecorded"):
            _rebuild(buggy, bone)  # not fixed yet: the rebuild stops at the same event
        assert deadletter.failing(bone.reads)["exchanges"].position == poison.position

        buggy.broken = False  # the fix
        _rebuild(buggy, bone)
        assert deadletter.failing(bone.reads) == {}
        healthy = client.get("/health")
        assert healthy.status_code == 200, healthy.text
        assert healthy.json()["projections"]["exchanges"]["status"] == "live"
        shown_after = client.get(f"{shown}?after={poison.position}", headers=coordinator)
        assert shown_after.status_code == 200, shown_after.text


def test_a_position_past_the_last_event_is_refused_at_once(bone):
    """Anonymous callers could otherwise hold a worker for the whole wait (make_backbone's
    wait is 30 s, and no projector runs here: only the refusal can answer)."""
    with TestClient(create_app(bone)) as client:
        head = bone.timebank.last_position()
        ahead = client.get(f"/api/v1/motions?after={head + 1}")
        problem = refused(ahead, 400, "position-ahead-of-store")
        assert problem["head"] == head
        refused(client.get(f"/api/v1/meetings?after={2**62}"), 400, "position-ahead-of-store")
        refused(client.get(f"/api/v1/motions?after={2**63}"), 400, "invalid-request")


def test_health_is_degraded_while_the_relay_or_a_read_model_is_stuck(broker, stores, tmp_path):
    bone = make_backbone(
        tmp_path, stores.new("events"), stores.new("reads"), broker.url, stuck_seconds=0.2
    )

    def health() -> dict:
        answer = client.get("/health")
        assert answer.status_code == (200 if answer.json()["status"] == "ok" else 503)
        return answer.json()

    with TestClient(create_app(bone)) as client:
        with run_workers(bone):
            wait_until(lambda: caught_up(bone), what="the read models to take in the start")
            wait_until(lambda: health()["status"] == "ok", what="all well")
        open_member(bone, "waiting")  # and no relay to take it
        wait_until(lambda: health()["relay_stuck"], what="the relay's stall")
        assert health()["status"] == "degraded"
        assert any("relay" in problem for problem in health()["problems"])

        with run_workers(bone, models=()):  # the relay, but no projector
            wait_until(
                lambda: {each["status"] for each in health()["projections"].values()} == {"stuck"},
                what="the read models' stall",
            )
            stuck = health()
            assert stuck["status"] == "degraded" and not stuck["relay_stuck"]
            assert any("read model balances is stuck" in each for each in stuck["problems"])
        with run_workers(bone):
            wait_until(lambda: health()["status"] == "ok", what="everything to move again")


def test_the_read_models_take_such_times_live_and_answer_reads_after_them(bone):
    """Defect 1 as a caller met it: after such an event, every ?after= read answered 503."""
    # A real account of the first station's: an entry is read only by its station's staff.
    staff = create_staff(bone.timebank, "coord.poison", Role.COORDINATOR)
    principal = Principal(
        subject=f"staff:{staff.id}", roles=frozenset({Role.COORDINATOR}), channel="console"
    )
    coordinator = headers_for(bone, principal)
    with run_workers(bone), TestClient(create_app(bone)) as client:
        help_given = _help_given_at(bone, "help", FIRST)
        service = _service_at(bone, "service", FIRST)
        _meeting_at(bone, "meeting-last", LAST)
        head = bone.timebank.last_position()
        shown = client.get(f"/api/v1/exchanges/{help_given.id}?after={head}", headers=coordinator)
        assert shown.status_code == 200, shown.text
        assert shown.json()["occurred_at"].startswith("0001-01-01T00:00:00")
        entry = client.get(f"/api/v1/hours/{service.id}?after={head}", headers=coordinator)
        assert entry.status_code == 200, entry.text
        meetings = client.get(f"/api/v1/meetings?after={head}")
        assert meetings.status_code == 200, meetings.text
        assert meetings.json()[0]["starts_at"].startswith("9999-12-31T23:59:59")
        assert client.get("/health").json()["status"] == "ok"
