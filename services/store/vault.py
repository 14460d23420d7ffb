"""Personal details, sealed with a key of each person's own, kept outside the event store.

Events carry only the sealed blob; deleting a person's key (erasure, PIPL Art. 47) makes their
details unreadable everywhere the blob went — event store, NATS, backups — while everything
else about them (balances, transfers, hours) stays intact.

A secret vote's ballot box works the same way: each choice is sealed with a key of the vote's
own, kept beside the person keys (under the motion's id), and the key is erased once the vote
has been counted, so nothing anywhere can link a voter to a choice any more.
"""

from __future__ import annotations

from base64 import b64decode, b64encode
from datetime import date
from typing import TypeVar
from uuid import UUID

import msgspec
from eventsourcing.cipher import AESCipher
from eventsourcing.utils import Environment

from domain.council import Choice
from domain.rules import RuleViolated
from services.store.keystore import KeyStore

S = TypeVar("S", bound=msgspec.Struct)


class PersonalDetails(msgspec.Struct, frozen=True, kw_only=True):
    display_name: str
    building: str
    household: str
    phone: str
    id_number: str | None = None
    birth_date: date | None = None


class Vault:
    def __init__(self, key_store_url: str) -> None:
        self.keys = KeyStore(key_store_url)

    def seal(self, person_id: UUID, details: msgspec.Struct) -> str:
        """Encrypt ``details`` with the person's key, made on first use: everything sealed for
        one person goes with the one key when they are erased."""
        key = self.keys.key_for(person_id)
        return b64encode(_cipher(key).encrypt(msgspec.json.encode(details))).decode()

    def open(self, person_id: UUID, sealed: str, kind: type[S]) -> S | None:
        """The details, or None once the person's key has been erased."""
        key = self.keys.key(person_id)
        if key is None:
            return None
        return msgspec.json.decode(_cipher(key).decrypt(b64decode(sealed)), type=kind)

    def erase(self, person_id: UUID) -> bool:
        """Delete the person's key, from the key store's files as well as its table."""
        return self.keys.erase(person_id)

    def close(self) -> None:
        self.keys.close()


def _cipher(key: str) -> AESCipher:
    return AESCipher(Environment(env={AESCipher.CIPHER_KEY: key}))


class _SealedChoice(msgspec.Struct, frozen=True):
    voter: UUID  # whose ballot it is, so a sealed choice cannot be passed off as another's
    choice: str  # padded to one width: a sealed ballot's length tells nothing of the choice


_CHOICE_WIDTH = max(len(choice.value) for choice in Choice)


class BallotBox:
    """A secret vote's ballot box (domain.council.BallotBox) in the key store."""

    def __init__(self, vault: Vault, motion_id: UUID) -> None:
        self.vault = vault
        self.motion_id = motion_id

    def seal(self, voter: UUID, choice: Choice) -> str:
        padded = Choice(choice).value.ljust(_CHOICE_WIDTH)
        return self.vault.seal(self.motion_id, _SealedChoice(voter=voter, choice=padded))

    def open(self, voter: UUID, sealed: str) -> Choice:
        opened = self.vault.open(self.motion_id, sealed, _SealedChoice)
        if opened is None:
            raise RuleViolated(
                "ballot-box-destroyed",
                "This vote has been counted and its ballots can no longer be opened.",
            )
        if opened.voter != voter:
            raise ValueError("a sealed ballot was recorded for another voter")
        return Choice(opened.choice.strip())

    def destroy(self) -> bool:
        """Erase the vote's key (once its counts are on record): whether there was one."""
        return self.vault.erase(self.motion_id)
