"""Erasing a person's key removes it from the key store's files, not only from its table; a
secret vote's ballot box seals with a key of its own, erased the same way."""

from __future__ import annotations

import uuid
from base64 import b64encode
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier
from typing import ClassVar

import msgspec
import pytest
from eventsourcing.cipher import AESCipher

from domain.council import Choice
from domain.rules import RuleViolated
from projections.readstore import open_read_store
from services.store.vault import BallotBox, PersonalDetails, Vault, _cipher

DETAILS = PersonalDetails(display_name="金秀英", building="7", household="702", phone="13912345678")


def _key_of(vault: Vault, person_id: uuid.UUID) -> str:
    key = vault.keys.key(person_id)
    assert key is not None
    return key


def test_an_erased_key_is_gone_and_its_details_unreadable(stores):
    url = stores.new("keys")
    vault = Vault(url)
    try:
        person, neighbour = uuid.uuid4(), uuid.uuid4()
        sealed = vault.seal(person, DETAILS)
        kept = vault.seal(neighbour, DETAILS)
        key = _key_of(vault, person)
        assert vault.open(person, sealed, PersonalDetails) == DETAILS

        assert vault.erase(person) is True
        assert vault.open(person, sealed, PersonalDetails) is None
        assert vault.open(neighbour, kept, PersonalDetails) == DETAILS, (
            "only that person's key goes"
        )
        assert vault.erase(person) is False
        if stores.backend == "sqlite":
            files = Path(url).parent.glob(f"{Path(url).name}*")
            raw = b"".join(path.read_bytes() for path in files)
            assert _key_of(vault, neighbour).encode() in raw, "the search can find a key"
            assert key.encode() not in raw, "the erased key survives in the store's files"
    finally:
        vault.close()


def test_a_ballot_box_seals_each_choice_alike_and_opens_nothing_once_destroyed(stores):
    vault = Vault(stores.new("keys"))
    try:
        box = BallotBox(vault, uuid.uuid4())
        voters = [uuid.uuid4() for _ in range(8)]
        # A room votes at once: the first ballots race to make the vote's key, and share it.
        together = Barrier(len(voters))

        def cast(voter: uuid.UUID) -> str:
            together.wait()
            return box.seal(voter, Choice.YES)

        with ThreadPoolExecutor(len(voters)) as pool:
            sealed = list(pool.map(cast, voters))
        assert [box.open(voter, s) for voter, s in zip(voters, sealed, strict=True)] == [
            Choice.YES
        ] * len(voters)
        # A sealed ballot's length does not tell the choice.
        assert len({len(box.seal(voters[0], choice)) for choice in Choice}) == 1
        with pytest.raises(ValueError, match="another voter"):
            box.open(voters[1], sealed[0])

        assert box.destroy() is True
        with pytest.raises(RuleViolated) as info:
            box.open(voters[0], sealed[0])
        assert info.value.code == "ballot-box-destroyed"
        assert box.destroy() is False
    finally:
        vault.close()


class _KeysAsReadModel:
    """How key stores were made until the key store had a persistence of its own: the key
    table as the tables of a read model that nothing projects, in a read store (with its
    tracking, dead-letter and rebuild tables, and a tracking row of its own)."""

    name = "person-keys"
    tables: ClassVar[dict[str, str]] = {
        "person_keys": (
            "CREATE TABLE IF NOT EXISTS person_keys (person_id TEXT PRIMARY KEY, key TEXT NOT NULL)"
        )
    }

    def apply(self, *_: object) -> None:
        raise TypeError("person keys are not projected from events")


def _old_key_store(url: str, person: uuid.UUID) -> str:
    """A key store written as it was before, holding ``person``'s key: their sealed details."""
    store = open_read_store(url, [_KeysAsReadModel()])
    key = AESCipher.create_key(32)
    try:
        with store.transaction(commit=True) as db:
            db.execute(
                "INSERT INTO person_keys VALUES (%(id)s, %(key)s)", {"id": str(person), "key": key}
            )
    finally:
        store.datastore.close()
    return b64encode(_cipher(key).encrypt(msgspec.json.encode(DETAILS))).decode()


def test_a_key_store_written_before_keeps_every_key(stores):
    """A key lost is a person's data lost: the keys an installation holds are read as they are,
    and the key store goes on working where it is."""
    url = stores.new("keys")
    person, newcomer = uuid.uuid4(), uuid.uuid4()
    sealed = _old_key_store(url, person)
    vault = Vault(url)
    try:
        assert vault.open(person, sealed, PersonalDetails) == DETAILS
        assert vault.open(newcomer, vault.seal(newcomer, DETAILS), PersonalDetails) == DETAILS
        assert vault.erase(person) is True
        assert vault.open(person, sealed, PersonalDetails) is None
    finally:
        vault.close()
    vault = Vault(url)  # and again, as the next start finds it
    try:
        assert vault.keys.key(person) is None
        assert vault.keys.key(newcomer) is not None
    finally:
        vault.close()
    # What the read store's machinery left there is left alone (a key store may share its
    # database with the read store).
    store = open_read_store(url, [_KeysAsReadModel()])
    try:
        assert store.positions(["person-keys"]) == {"person-keys": 0}
    finally:
        store.datastore.close()
