"""Projections are total: whatever the commands accept, at the ends of every field they take
(instants in year 1 and 9999 at the widest offsets, minutes at the integer limits, text that
is huge, empty, NUL or far outside the BMP), every read model applies, on SQLite and on
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.council import DEFAULT_RULES
from domain.family import Relation
from domain.hours import Service
from domain.listing import STARTING_CATEGORIES, ListingKind
from domain.rules import NotFound, RuleViolated
from projections.catalog import READ_MODELS
from services.council import handlers as council
from services.council.commands import CallMeeting, ChangeRules, SubmitMotion
from services.exchange import handlers as exchange
from services.exchange.commands import ChangeExchangeRules, ConfirmHelp, PairIn, RecordHelp
from services.family import handlers as family
from services.family.commands import ConfirmFamilyTie, EndFamilyTie, ProposeFamilyTie
from services.ledger import handlers as ledger
from services.ledger.commands import ChangeLimits, PostTransfer
from services.listings.commands import PostListing
from services.volunteers import handlers as volunteers
from services.volunteers.commands import RecordTraining, UpdateVolunteerProfile
from tests.integration.support import (
    acting,
    acting_on,
    approve_entry,
    make_backbone,
    open_member,
    post_listing,
    register_resident,
    register_volunteer,
    stored_envelopes,
    submit_entry,
)

OFFSETS = [timezone(timedelta(hours=hours, minutes=59 if hours else 0)) for hours in (-23, 23)]
OFFSETS += [timezone(timedelta(hours=hours)) for hours in (-14, 0, 14)]
EXTREME_MOMENTS = [
    moment.replace(tzinfo=offset) for moment in (datetime.min, datetime.max) for offset in OFFSETS
]
moments = st.one_of(
    st.sampled_from(EXTREME_MOMENTS),
    st.datetimes(timezones=st.sampled_from(OFFSETS)),
)
days = st.one_of(st.sampled_from([date.min, date.max]), st.dates())
texts = st.one_of(
    st.sampled_from(["", "\x00", "a\x00b", " ", "\U0010ffff" * 50, "=1+1", "x" * 100_000]),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=200),
)
INT_LIMITS = [0, 1, -1, 2**31 - 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1, -(2**63)]
whole_numbers = st.one_of(
    st.sampled_from(INT_LIMITS), st.integers(min_value=-(2**63), max_value=2**64 - 1)
)


class Station:
    """One event store and read store shared by every example, with the people they need."""

    def __init__(self, bone: Any) -> None:
        self.bone = bone
        self.applied = bone.timebank.last_position()
        self.resident = register_resident(bone, "Resident").id
        self.volunteer = register_volunteer(bone, register_resident(bone, "Volunteer").id, "V").id

    def attempt(self, command: Callable[[], Any]) -> Any:
        """Run a command; what it refuses records nothing, and is no concern here. (Some
        instants overflow the domain's own arithmetic, and so record nothing either; the
        API's date windows refuse them before they get there.)"""
        try:
            return command()
        except (RuleViolated, NotFound, OverflowError):
            return None

    def apply_new(self) -> None:
        envelopes = [e for e in stored_envelopes(self.bone) if e.position > self.applied]
        if not envelopes:
            return
        reached = self.bone.reads.apply(list(READ_MODELS.values()), envelopes)
        self.applied = envelopes[-1].position
        assert reached == dict.fromkeys(READ_MODELS, self.applied)


@pytest.fixture
def station(stores, tmp_path) -> Station:
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), "nats://unused")
    return Station(bone)


def _money(station: Station, key: str, d: st.DataObject) -> None:
    app = station.bone.timebank
    gives, gets = (open_member(station.bone, f"{key}-{side}").id for side in ("gives", "gets"))
    floor, cap = d.draw(whole_numbers), d.draw(whole_numbers)
    station.attempt(
        lambda: ledger.change_limits(
            ChangeLimits(account=str(gives), floor=floor, cap=cap, reason="x"), acting(app)
        )
    )
    now = datetime.now(UTC)
    station.attempt(
        lambda: ledger.transfer(
            PostTransfer(
                idempotency_key=f"{key}-transfer",
                from_account=str(gives),
                to_account=str(gets),
                minutes=d.draw(whole_numbers),
                memo=d.draw(texts),
                occurred_at=d.draw(moments),
            ),
            acting(app, now),
        )
    )
    _help(station, key, gives, gets, d)
    # The rules the next example's help is recorded and settled under.
    hours = (d.draw(whole_numbers), d.draw(whole_numbers), d.draw(whole_numbers))
    station.attempt(
        lambda: exchange.change_rules(
            ChangeExchangeRules(
                max_minutes=hours[0],
                confirm_within_hours=hours[1],
                dispute_within_hours=hours[2],
                reason="x",
            ),
            acting(app),
        )
    )


def _help(station: Station, key: str, gives: UUID, gets: UUID, d: st.DataObject) -> None:
    app = station.bone.timebank
    now = datetime.now(UTC)
    recorded = station.attempt(
        lambda: exchange.record(
            RecordHelp(
                idempotency_key=f"{key}-help",
                pairs=[PairIn(provider=gives, receiver=gets, minutes=d.draw(whole_numbers))],
                description=d.draw(texts),
                occurred_at=d.draw(moments),
            ),
            acting(app, now),
        )
    )
    if recorded is not None:
        station.attempt(
            lambda: exchange.confirm(
                ConfirmHelp(
                    idempotency_key=f"{key}-confirm", exchange_id=recorded.id, receiver=gets
                ),
                acting(app, now),
            )
        )


def _board(station: Station, key: str, d: st.DataObject) -> None:
    app = station.bone.timebank
    station.attempt(
        lambda: post_listing(
            app,
            station.resident,
            PostListing(
                idempotency_key=f"{key}-listing",
                kind=d.draw(st.sampled_from(ListingKind)),
                category="companionship",
                title=d.draw(texts),
                description=d.draw(texts),
                building=d.draw(texts),
                place=d.draw(texts),
                availability=d.draw(texts),
            ),
        )
    )
    station.attempt(
        lambda: council.call(
            CallMeeting(
                idempotency_key=f"{key}-meeting",
                title=d.draw(texts),
                starts_at=d.draw(moments),
                place=d.draw(texts),
                entitled=[station.resident],
            ),
            acting(app),
        )
    )
    counts = {
        name: d.draw(whole_numbers)
        for name in ("quorum_count", "seconding_threshold", "seconding_days")
    }
    station.attempt(
        lambda: council.change_rules(
            ChangeRules(**vars(replace(DEFAULT_RULES, **counts)), reason="x"), acting(app)
        )
    )
    station.attempt(
        lambda: council.submit(
            SubmitMotion(
                idempotency_key=f"{key}-motion",
                mover=station.resident,
                title=d.draw(texts),
                text=d.draw(texts),
            ),
            acting(app, datetime.now(UTC)),
        )
    )


def _service(station: Station, key: str, d: st.DataObject) -> None:
    app = station.bone.timebank
    service = Service(
        activity=d.draw(texts),
        started_at=d.draw(moments),
        minutes=d.draw(whole_numbers),
        place=d.draw(texts),
        content=d.draw(texts),
        organiser=d.draw(texts),
        responsible=d.draw(texts),
        category=d.draw(st.sampled_from([code for code, _, _ in STARTING_CATEGORIES])),
        building=d.draw(texts),
    )
    now = datetime.now(UTC)
    entry = station.attempt(
        lambda: submit_entry(app, station.volunteer, service, f"{key}-service", now=now)
    )
    if entry is not None:
        station.attempt(lambda: approve_entry(app, entry.id))
    labels = d.draw(st.lists(texts, max_size=3))
    station.attempt(
        lambda: volunteers.update_profile(
            UpdateVolunteerProfile(
                volunteer_id=station.volunteer,
                skills=labels,
                categories=list(reversed(labels)),
                building=d.draw(texts),
            ),
            acting(app),
        )
    )
    station.attempt(
        lambda: volunteers.record_training(
            RecordTraining(
                idempotency_key=f"{key}-training",
                name=d.draw(texts),
                content=d.draw(texts),
                minutes=d.draw(whole_numbers),
                organiser=d.draw(texts),
                held_on=d.draw(days),
                attendees=d.draw(st.sampled_from([[], [station.volunteer]])),
            ),
            acting_on(station.bone),
        )
    )


def _family(station: Station, key: str, d: st.DataObject) -> None:
    app = station.bone.timebank
    one, other = (register_resident(station.bone, f"{key}-{side}").id for side in ("a", "b"))
    relation = d.draw(st.sampled_from(Relation))
    proposal = ProposeFamilyTie(
        member=one, relative=other, relation=relation, paper_form=d.draw(texts)
    )
    station.attempt(lambda: family.propose_tie(proposal, acting(app, d.draw(moments))))
    consent = ConfirmFamilyTie(member=other, proposer=one, paper_form=d.draw(texts))
    station.attempt(lambda: family.confirm_tie(consent, acting(app, d.draw(moments))))
    ending = EndFamilyTie(member=other, relative=one, reason=d.draw(texts))
    station.attempt(lambda: family.end_tie(ending, acting(app)))
    station.attempt(lambda: family.propose_tie(proposal, acting(app)))


@settings(
    max_examples=60,
    derandomize=True,  # the same examples on every run
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one station on purpose: the history grows
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(d=st.data())
def test_every_read_model_applies_whatever_the_commands_accept(station, d):
    key = uuid4().hex
    for record in (_money, _board, _service, _family):
        record(station, key, d)
    station.apply_new()
