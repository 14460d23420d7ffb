"""What a group of commands changed, before it is saved in one transaction (group commit).

While ``staged(staging)`` is in force (in this context only, so other threads' commands are
untouched), ``Timebank.record`` stages aggregates here instead of saving them, and
``Timebank.find`` finds what the group's earlier commands staged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from copy import deepcopy
from typing import ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEvent

P = ParamSpec("P")
R = TypeVar("R")
Staged = tuple[UUID, int]  # an aggregate's id and the version one of its events took it to


class CommitAlone(Exception):
    """A command made anew an aggregate an earlier command of its group staged (the same
    request twice, say): it must run on its own, after the group is saved."""


class Staging:
    """The aggregates a group of commands changed, and the order their events were made in.

    Each command finds what the commands before it staged. It changes copies, and what it
    records joins the group only when it succeeds, so a command that fails leaves nothing."""

    def __init__(self) -> None:
        self.aggregates: dict[UUID, Aggregate] = {}
        self._order: list[Staged] = []
        self._through: dict[UUID, int] = {}  # the last version ordered, per aggregate
        # The command running now: what it staged, what it found staged (so that it changes
        # those rather than making them anew), and the events it made, in order.
        self._command: dict[UUID, Aggregate] = {}
        self._found: set[UUID] = set()
        self._made: list[Staged] = []

    @contextmanager
    def command(self) -> Iterator[list[Staged]]:
        """Around one command; yields the events it made, in order (once it has run)."""
        self._command, self._found, self._made = {}, set(), []
        yield self._made
        self.aggregates.update(self._command)
        self._order += self._made
        self._through.update((aggregate_id, version) for aggregate_id, version in self._made)

    def load(self, aggregate_id: UUID) -> Aggregate | None:
        for layer in (self._command, self.aggregates):
            if aggregate_id in layer:
                self._found.add(aggregate_id)
                return deepcopy(layer[aggregate_id])
        return None

    def stage(self, aggregates: tuple[Aggregate | None, ...]) -> None:
        for aggregate in filter(None, aggregates):
            if aggregate.id in self.aggregates and aggregate.id not in self._found:
                raise CommitAlone
            self._command[aggregate.id] = aggregate
            stored = aggregate.version - len(aggregate.pending_events)
            through = max(self._through_now(aggregate.id), stored)
            self._made += [(aggregate.id, v) for v in range(through + 1, aggregate.version + 1)]

    def events_in_order(self) -> list[DomainEvent]:
        """The staged events in the order the commands made them, taken out of the aggregates
        (which are then saved for the cache and snapshots, with none pending); or none, when
        the aggregates' own order keeps it (a save takes each one's events together), which
        is the common case: passed one by one, events cost the save more."""
        together = [
            (aggregate.id, event.originator_version)
            for aggregate in self.aggregates.values()
            for event in aggregate.pending_events
        ]
        if together == self._order:
            return []
        if sorted(together) != sorted(self._order):
            raise RuntimeError("a staged event is out of the group's order")
        pending = {
            (event.originator_id, event.originator_version): event
            for aggregate in self.aggregates.values()
            for event in aggregate.collect_events()
        }
        return [pending[staged] for staged in self._order]

    def _through_now(self, aggregate_id: UUID) -> int:
        made = [version for made_id, version in self._made if made_id == aggregate_id]
        return max(made, default=self._through.get(aggregate_id, 0))


_current: ContextVar[Staging | None] = ContextVar("staging", default=None)


def staging_now() -> Staging | None:
    return _current.get()


@contextmanager
def staged(staging: Staging) -> Iterator[None]:
    token = _current.set(staging)
    try:
        yield
    finally:
        _current.reset(token)


def dry_run(command: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """What ``command`` would answer now, recording nothing: it runs against copies, what it
    would record is staged and dropped, and a refusal is raised as the command raises it. A
    confirmation screen asks this instead of re-spelling the domain's rules. Not for commands
    that write outside the event store (sealing personal data in the vault, destroying a
    ballot box): staging holds back only events."""
    staging = Staging()
    with staged(staging), staging.command():
        return command(*args, **kwargs)
