"""An event a read model cannot apply never stops it silently: times at the ends of what
datetime holds are applied, and a model that still fails is shown failing, refuses reads past
where it stopped, and recovers by a fix and a rebuild."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.exchange import Pair
from domain.hours import Service
from projections.catalog import READ_MODELS
from projections.readstore import open_read_store
from services import council, exchange, hours
from tests.integration.support import (
    BY,
    make_backbone,
    open_member,
    register_resident,
    register_volunteer,
    stored_envelopes,
)

FIRST = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))  # in year 0 in UTC
LAST = datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14)))  # in year 10000


@pytest.fixture
def bone(broker, stores, tmp_path):
    return make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)


def _help_given_at(bone, key: str, occurred_at: datetime) -> None:
    provider, receiver = (open_member(bone, f"{key}-{side}").id for side in ("gives", "gets"))
    exchange.record(
        bone.timebank,
        idempotency_key=key,
        pairs=(Pair(provider=provider, receiver=receiver, minutes=60),),
        listing_id=None,
        description="",
        occurred_at=occurred_at,
        now=datetime.now(UTC),
        by=BY,
    )


def _service_at(bone, key: str, started_at: datetime) -> None:
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
    hours.submit(
        bone.timebank,
        idempotency_key=key,
        volunteer_id=volunteer.id,
        service=service,
        now=datetime.now(UTC),
        by=BY,
    )


def _meeting_at(bone, key: str, starts_at: datetime) -> None:
    council.call(
        bone.timebank,
        idempotency_key=key,
        title="General meeting",
        starts_at=starts_at,
        place="hall",
        entitled=(register_resident(bone, key).id,),
        by=BY,
    )


def test_times_at_the_ends_of_the_calendar_are_applied_by_every_read_model(bone, stores):
    """The events of issue 14's defect 1, recorded through the command handlers (the API now
    refuses such times, but a store may hold them already)."""
    _help_given_at(bone, "help", FIRST)
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
