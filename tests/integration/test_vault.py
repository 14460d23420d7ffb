"""Erasing a person's key removes it from the key store's files, not only from its table."""

from __future__ import annotations

import uuid
from pathlib import Path

from services.vault import PersonalDetails, Vault

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
