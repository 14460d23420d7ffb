"""The command side's event store: one eventsourcing Application for every context.

One application (not one per context) so that a command touching several contexts, such as an
approved hour crediting a time account, saves all its aggregates in one atomic transaction.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from functools import wraps
from typing import Any, ClassVar, ParamSpec, TypeVar
from uuid import UUID

import structlog
from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    Cache,
    ProjectorFunction,
    project_aggregate,
)
from eventsourcing.domain import (
    Aggregate,
    DomainEvent,
    DomainEventProtocol,
    MutableOrImmutableAggregate,
    Snapshot,
)
from eventsourcing.persistence import EventStore, RecordConflictError, Recording, Transcoder

from domain.identity import Member, check_may_act, members_acting_in
from domain.ledger import TimeAccount
from domain.rules import RuleViolated
from domain.volunteer import Volunteer
from services.store.persistence import APPLICATION_NAME, creating_tables, prepare_store
from services.store.staging import Staged, Staging, staging_now
from services.store.transcoding import stored_event_transcoder

log = structlog.get_logger(__name__)
A = TypeVar("A", bound=Aggregate)


class TypedSnapshot(Snapshot):
    """A snapshot written by ``TypedJSONTranscoder``. Snapshots written before it hold enums as
    plain strings: ``_TypedSnapshots`` passes over them, so such an aggregate is rebuilt from
    its events, and snapshotted anew at its next interval."""


class _TypedSnapshots(EventStore[UUID]):
    def get(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[DomainEventProtocol[UUID]]:
        found = super().get(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        return (snapshot for snapshot in found if isinstance(snapshot, TypedSnapshot))


class Timebank(Application[UUID]):
    name = APPLICATION_NAME
    # Hot accounts (community, pool, busy members) collect many entries, and a volunteer two
    # (a span kept, then dropped or kept again) for each hour entry of a lifetime of service;
    # snapshots keep their reconstruction short when a process starts with a cold cache.
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[Any]], int]] = {
        TimeAccount: 200,
        Volunteer: 200,
    }

    def __init__(self, store_url: str, *, sole_writer: bool = False) -> None:
        """``sole_writer``: no other process writes this store while this one runs."""
        # Set by whoever runs a relay in this process, to wake it at once after a save.
        self.on_recorded: Callable[[int], None] | None = None
        # Called with each save's recordings once committed, before the command answers.
        self.on_saved: list[Callable[[list[Recording[UUID]]], None]] = []
        with creating_tables(store_url):
            super().__init__(
                {
                    **prepare_store(store_url),
                    "IS_SNAPSHOTTING_ENABLED": "y",
                    "AGGREGATE_CACHE_MAXSIZE": "10000",
                    # Where other processes write too, every load reads the events saved since
                    # the cached version. A sole writer's cache holds what it saved itself, so
                    # it skips that query; should the cache be behind anyway, the store refuses
                    # the save as a version conflict and `record` forgets what it tried to save
                    # (see there).
                    "AGGREGATE_CACHE_FASTFORWARD": "n" if sole_writer else "y",
                }
            )

    def construct_transcoder(self) -> Transcoder:
        return stored_event_transcoder()

    def construct_snapshot_store(self) -> EventStore[UUID]:
        recorder = self.factory.aggregate_recorder(purpose="snapshots")
        return _TypedSnapshots(mapper=self.mapper, recorder=recorder)

    def take_snapshot(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
    ) -> None:
        if self.snapshots is None:
            raise RuntimeError("IS_SNAPSHOTTING_ENABLED is set, so there is a snapshot store")
        aggregate = self.repository.get(
            aggregate_id, version=version, projector_func=projector_func
        )
        self.snapshots.put([TypedSnapshot.take(aggregate)])

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        # Wakes the relay in this process at once instead of at its next poll.
        if recordings and self.on_recorded is not None:
            self.on_recorded(recordings[-1].notification.id)
        for listener in self.on_saved:
            listener(recordings)

    def find(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """The aggregate of ``kind`` with this id, or None when there is none of that kind.

        While a group is staged, what its earlier commands changed (services.store.staging)."""
        staging = staging_now()
        found = staging.load(aggregate_id) if staging is not None else None
        if found is None:
            try:
                found = self.repository.get(aggregate_id)
            except AggregateNotFoundError:
                return None
        return found if isinstance(found, kind) else None

    def last_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def record(self, *aggregates: Aggregate | None) -> int:
        """Save every pending event of ``aggregates`` atomically; the position reached.

        The aggregates saved become the cache's copies (loads copy them out): change them no
        further. While a group is staged nothing is saved, and 0 stands for the position,
        which is known once the group is saved (see ``record_staged``)."""
        self._check_members_may_act(aggregates)
        staging = staging_now()
        if staging is not None:
            staging.stage(aggregates)
            return 0
        recordings = self._saved(aggregates)
        return recordings[-1].notification.id if recordings else self.last_position()

    def _check_members_may_act(self, aggregates: tuple[Aggregate | None, ...]) -> None:
        """Whatever a command does, a member may do it only while active (domain.identity):
        checked here, where every command's changes pass, so no command can forget it."""
        for member_id in members_acting_in(filter(None, aggregates)):
            check_may_act(self.find(member_id, Member))

    def record_staged(self, staging: Staging) -> dict[Staged, int]:
        """Save what a group staged, atomically, its events in the order its commands made
        them; each event's position, by the aggregate and version it made."""
        return {
            (recording.domain_event.originator_id, recording.domain_event.originator_version): (
                recording.notification.id
            )
            for recording in self._saved(
                tuple(staging.aggregates.values()), staging.events_in_order()
            )
        }

    def _saved(
        self, aggregates: tuple[Aggregate | None, ...], events: Sequence[DomainEvent] = ()
    ) -> list[Recording[UUID]]:
        """``events`` and then the pending events of ``aggregates``, saved atomically."""
        try:
            recordings = self.save(*events, *aggregates)
        except RecordConflictError:
            if not self.repository.fastforward:
                # The cache was behind the store: the retry must load these afresh.
                self._cache_without(aggregates)
            raise
        if self.repository.fastforward:
            # eventsourcing keeps what a save wrote in its cache only when it does not
            # fast-forward; kept, the next load finds only other processes' events to apply,
            # instead of reading back and applying again the ones saved here.
            self._cache_with(aggregates)
        if recordings:
            log.info(
                "events.recorded", count=len(recordings), position=recordings[-1].notification.id
            )
        return recordings

    def _cache_with(self, aggregates: tuple[Aggregate | None, ...]) -> None:
        for aggregate in filter(None, aggregates):
            self._cache().put(aggregate.id, aggregate)

    def _cache_without(self, aggregates: tuple[Aggregate | None, ...]) -> None:
        for aggregate in filter(None, aggregates):
            with suppress(KeyError):  # not cached
                self._cache().get(aggregate.id, evict=True)

    def _cache(self) -> Cache[UUID, MutableOrImmutableAggregate[UUID]]:
        cache = self.repository.cache
        if cache is None:
            raise RuntimeError("AGGREGATE_CACHE_MAXSIZE is set, so there is a cache")
        return cache


class ConcurrentUpdate(Exception):
    """Other commands kept changing the same aggregates; the client should try again."""


P = ParamSpec("P")
R = TypeVar("R")
MAX_ATTEMPTS = 12


def retried_on_conflict(command: Callable[P, R]) -> Callable[P, R]:
    """Run a command again from a fresh load when another one changed an aggregate meanwhile."""

    @wraps(command)
    def attempt(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt_number in range(MAX_ATTEMPTS):
            try:
                return command(*args, **kwargs)
            except RecordConflictError:
                # Jitter keeps a crowd of retries from colliding again in lockstep.
                time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt_number, 6)))
        raise ConcurrentUpdate

    return attempt


@retried_on_conflict
def _change_if_allowed(
    app: Timebank, kind: type[A], aggregate_id: UUID, change: Callable[[A], object]
) -> bool:
    aggregate = app.find(aggregate_id, kind)
    if aggregate is None:
        return False
    try:
        change(aggregate)
    except RuleViolated:
        return False  # no longer due: it changed since the read model listed it
    app.record(aggregate)
    return True


def change_each_due(
    app: Timebank,
    kind: type[A],
    candidates: list[UUID],
    change: Callable[[A], object],
    *,
    done: str,
) -> int:
    """Apply ``change`` to each of ``candidates`` (a read model's list of what is due) that
    its own rules still allow, each saved on its own; how many changed (logged as ``done``)."""
    changed = sum(_change_if_allowed(app, kind, found, change) for found in candidates)
    if changed:
        log.info(done, count=changed)
    return changed
