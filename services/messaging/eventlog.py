"""The event store's notification log, read as the published language: each stored event in
the envelope the relay publishes (``seal``), read straight from the store.

The relay reads it to publish; a projector that starts far behind, and a rebuild, read it to
replay without the stream (projections.runner). It opens only the store's recorder and the
transcoder the store is written with, never the write side's Application, so a projector
process reads the store without loading the command side.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory, Mapper
from eventsourcing.utils import Environment

from services.messaging.envelope import Envelope, seal
from services.store.persistence import APPLICATION_NAME, creating_tables, prepare_store
from services.store.transcoding import stored_event_transcoder


class EventLog:
    """The stored events after a position, in order, as envelopes."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        mapper: Mapper[UUID],
        factory: InfrastructureFactory[ApplicationRecorder] | None = None,
    ) -> None:
        """``factory``: the one that opened ``recorder`` for this log alone, closed with it."""
        self.recorder = recorder
        self.mapper = mapper
        self._factory = factory

    @classmethod
    def open(cls, url: str) -> EventLog:
        """The log of the event store at ``url`` (a SQLite path or a postgresql:// URL)."""
        with creating_tables(url):
            factory = InfrastructureFactory[ApplicationRecorder].construct(
                Environment(APPLICATION_NAME, prepare_store(url))
            )
            return cls(
                factory.application_recorder(), factory.mapper(stored_event_transcoder()), factory
            )

    def after(self, position: int, limit: int) -> list[Envelope]:
        """Up to ``limit`` events recorded after ``position``, oldest first."""
        notifications = self.recorder.select_notifications(
            start=position, limit=limit, inclusive_of_start=False
        )
        to_domain_event = self.mapper.to_domain_event
        return [seal(to_domain_event(each), each.id) for each in notifications]

    def next_position(self, position: int) -> int | None:
        """The position of the first event recorded after ``position`` (None: none yet)."""
        found = self.recorder.select_notifications(
            start=position, limit=1, inclusive_of_start=False
        )
        return found[0].id if found else None

    def head(self) -> int:
        """The position of the last stored event (0 for none)."""
        return self.recorder.max_notification_id() or 0

    def close(self) -> None:
        if self._factory is not None:
            self._factory.close()
