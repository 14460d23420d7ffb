"""An in-memory ballot box for domain tests (domain.council.BallotBox); the real one seals with
a key in the key store (services.store.vault.BallotBox)."""

from __future__ import annotations

from uuid import UUID

from domain.council import Choice
from domain.rules import RuleViolated


class MemoryBallotBox:
    """Each sealed ballot is an opaque token of one length; ``destroy`` forgets what they hold."""

    def __init__(self) -> None:
        self._sealed: dict[str, tuple[UUID, Choice]] = {}
        self.destroyed = False

    def seal(self, voter: UUID, choice: Choice) -> str:
        token = f"sealed-{len(self._sealed):08d}"
        self._sealed[token] = (voter, Choice(choice))
        return token

    def open(self, voter: UUID, sealed: str) -> Choice:
        if self.destroyed:
            raise RuleViolated("ballot-box-destroyed", "The ballots can no longer be opened.")
        owner, choice = self._sealed[sealed]
        assert owner == voter, "a sealed ballot opened for another voter"
        return choice

    def destroy(self) -> None:
        self.destroyed = True
        self._sealed.clear()
