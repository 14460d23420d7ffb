"""The one way in: every change to the record is a command, handled by the one handler the
table names for its type.

A command is a msgspec Struct named as the users say it (``PostTransfer``, ``ApproveEntry``),
in the ``commands`` module beside its context's handlers; an HTTP body *is* the command, or
gives it in one line with the record its path names (``at``). A handler is a plain function
``handler(command, acting)``: ``Acting`` carries what the bus injects — the record, who gives
the command, the clock's reading for it, the station's settings and the key vault — so no
route or page passes them. Behind ``handle`` live, once, the group commit (the commands that
arrive together share one save), its retries and the answer's position; ``check`` is the dry
run a confirmation screen asks before it shows its question (``services.store.staging.dry_run``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Protocol, TypeVar
from uuid import UUID

import msgspec
from msgspec import Meta

from domain.provenance import Provenance
from services.store.staging import dry_run
from services.windows import Windowed

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from services.composition.config import Settings
    from services.store.eventstore import Timebank
    from services.store.groupcommit import GroupCommit
    from services.store.vault import Vault

C = TypeVar("C", bound="Command")

IdempotencyKey = Annotated[
    str,
    Meta(
        min_length=8,
        max_length=100,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Client-chosen, unique per intended action (a UUID is ideal); a retry "
        "with the same key returns the first result and records nothing new.",
    ),
]
AccountRef = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        description="An account id (UUID), or `community` / `pool` for the system accounts.",
    ),
]
Minutes = Annotated[int, Meta(gt=0, le=90_000, description="Whole minutes, more than zero.")]
Reason = Annotated[str, Meta(min_length=1, max_length=500)]
# A number the domain's rules judge (with codes of their own); the bounds only keep it within
# what the stores can hold and add up.
RuledNumber = Annotated[int, Meta(ge=-1_000_000_000, le=1_000_000_000)]


@dataclass(frozen=True)
class Receipt:
    """What a command recorded (or, for a retry, had recorded) and the position of its last
    event, for the caller's next read (``?after=``)."""

    id: UUID
    position: int
    replayed: bool = False


class Command(Windowed, kw_only=True, forbid_unknown_fields=True):
    """A request to change the record. Unknown fields are refused, and dated fields outside
    their windows (``services.windows``)."""

    # Writes outside the event store (seals personal data in the vault, deletes a key,
    # destroys a ballot box): ``check`` cannot stage it, so it is not dry-run.
    writes_outside_the_store: ClassVar[bool] = False
    # Runs on its own, in the caller's thread, never in a group: because its work outside the
    # store cannot be redone (a group whose save fails runs its commands again; destroying a
    # ballot box), it must count at the store's own position (a certificate), it saves item by
    # item (bulk approvals, an imported list), or it would hold up the loop (hashing a PIN).
    alone: ClassVar[bool] = False

    @classmethod
    def at(cls: type[C], body: msgspec.Struct, **record: Any) -> C:
        """The command a body sent to a record's path gives: the body's fields and the ids
        the path names (``CorrectTransfer.at(data, transfer_id=transfer_id)``)."""
        return cls(**msgspec.structs.asdict(body), **record)


class NotYours(Exception):
    """A resident or volunteer named an account that is not theirs."""


@dataclass(frozen=True)
class Caller:
    """Who gives a command: the provenance its events carry, and, for a resident or a
    volunteer, the member and account that are theirs (they act only on their own)."""

    by: Provenance
    member_id: UUID | None = None
    account_id: UUID | None = None

    @property
    def is_member(self) -> bool:
        return self.member_id is not None

    def check_owns(self, account_id: UUID) -> None:
        if self.is_member and self.account_id != account_id:
            raise NotYours("You can only see and use your own account.")


@dataclass(frozen=True)
class Acting:
    """What a handler acts with besides its command."""

    app: Timebank
    caller: Caller
    now: datetime  # the clock, read once for the command
    settings: Settings
    vault: Vault

    @property
    def by(self) -> Provenance:
        return self.caller.by

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.zone

    def local_now(self) -> datetime:
        """The clock read where the station is: the hour and day people write."""
        return self.now.astimezone(self.settings.zone)


Handler = Callable[[Any, Acting], Any]


class Root(Protocol):
    """What the bus needs of the composition root (read on every command: tests and the
    settings page change the clock and the settings while the station runs)."""

    timebank: Timebank
    commits: GroupCommit
    settings: Settings
    vault: Vault

    def clock(self) -> datetime: ...


class Bus:
    def __init__(self, root: Root, handlers: Mapping[type[Command], Handler]) -> None:
        self._root = root
        self._handlers = dict(handlers)

    def _prepared(self, command: Command, caller: Caller) -> tuple[Handler, Acting]:
        handler = self._handlers[type(command)]
        root = self._root
        acting = Acting(root.timebank, caller, root.clock(), root.settings, root.vault)
        return handler, acting

    async def handle(self, command: Command, caller: Caller) -> Any:
        """Run ``command`` with the others of its group; its handler's answer."""
        handler, acting = self._prepared(command, caller)
        if command.alone:
            return handler(command, acting)
        return await self._root.commits.run(handler, command, acting)

    def handle_from_thread(self, command: Command, caller: Caller) -> Any:
        """``handle``, for a page rendering in a worker thread."""
        handler, acting = self._prepared(command, caller)
        if command.alone:
            return handler(command, acting)
        return self._root.commits.run_from_thread(handler, command, acting)

    def check(self, command: Command, caller: Caller) -> Any:
        """What ``command`` would answer now, recording nothing; raises the rule that
        refuses it."""
        if command.writes_outside_the_store:
            raise TypeError(f"{type(command).__name__} writes outside the store: no dry run")
        handler, acting = self._prepared(command, caller)
        return dry_run(handler, command, acting)
