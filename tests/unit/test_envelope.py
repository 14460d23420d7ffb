"""Every domain event has a published schema, and the published language keeps secrets out."""

from __future__ import annotations

import importlib
import pkgutil

import msgspec
from eventsourcing.domain import Aggregate

import domain
from domain.council import Choice
from services.messaging.envelope import CONTEXTS, PAYLOADS, seal
from tests.unit.test_council_rules import BY, A, B, C, World, rules


def _aggregates() -> list[type[Aggregate]]:
    """Every aggregate class the domain package defines, so a new one cannot be missed."""
    found = []
    for module_info in pkgutil.iter_modules(domain.__path__):
        module = importlib.import_module(f"domain.{module_info.name}")
        found += [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, Aggregate)
            and value.__module__ == module.__name__
        ]
    return found


AGGREGATES = _aggregates()
SECRETS = {"password_hash", "pin_hash", "sealed_details", "token_digest", "sealed_choice"}
BASE_EVENTS = {"Event", "Created"}  # the bases eventsourcing gives every aggregate class


def _event_names(aggregate: type[Aggregate]) -> set[str]:
    return {
        name
        for name, value in vars(aggregate).items()
        if isinstance(value, type) and issubclass(value, Aggregate.Event)
    } - BASE_EVENTS


def test_every_domain_event_has_a_published_payload_and_a_context():
    names = set().union(*(_event_names(aggregate) for aggregate in AGGREGATES))
    assert names, "no events found"
    assert names <= set(PAYLOADS), f"no published schema for {sorted(names - set(PAYLOADS))}"
    assert names <= set(CONTEXTS)


def test_no_published_payload_carries_a_secret_or_sealed_details():
    for payload in PAYLOADS.values():
        fields = {field.name for field in msgspec.structs.fields(payload)}
        assert not SECRETS & fields, payload.__name__


def test_a_published_secret_ballot_names_the_voter_and_never_a_choice():
    """One ballot per member and the turnout need the voter; the tally waits for the counts
    ``VotingClosed`` publishes."""
    world = World()
    motion = world.voting(rules=rules(secret=True), present={A, B, C})
    motion.collect_events()
    motion.cast(A, Choice.YES, BY, world.box)
    motion.cast(A, Choice.NO, BY, world.box)
    motion.close_vote(BY, world.box)
    published = [seal(domain_event, 1) for domain_event in motion.collect_events()]
    assert [envelope.type for envelope in published] == ["SecretBallotCast"] * 2 + ["VotingClosed"]
    assert [msgspec.json.decode(envelope.data) for envelope in published] == [
        {"voter": str(A), "changed": False},
        {"voter": str(A), "changed": True},
        {"result": "rejected", "yes": 0, "no": 1, "abstain": 0},
    ]
