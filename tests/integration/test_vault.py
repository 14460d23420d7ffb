"""Erasing a person's key removes it from the key store's files, not only from its table; a
secret vote's ballot box seals with a key of its own, erased the same way."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import pytest

from domain.council import Choice
from domain.rules import RuleViolated
from services.vault import BallotBox, PersonalDetails, Vault

DETAILS = PersonalDetails(display_name="金秀英", building="7", household="702", phone="13912345678")


def _key_of(vault: Vault, person_id: uuid.UUID) -> str:
    with vault.store.transaction(commit=False) as db:
        row = db.one("SELECT key FROM person_keys WHERE person_id = %(id)s", {"id": str(person_id)})
    assert row is not None
    return row["key"]


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
