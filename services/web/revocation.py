"""Who may no longer act: deactivated staff and members, and retired kiosks.

A sign-in token is checked on every request, so this is held in memory by each process that
serves requests, and a check costs two set lookups, never a store round trip. The event store
(the truth, which every API replica already reads) feeds it twice:

- this process's own saves, before the command that saved them answers, so the very next
  request through the same process is refused;
- following the store's notification log for the revoking events other processes saved, at
  start (everything so far) and then every ``FOLLOW_SECONDS``, so another replica refuses within
  that bound. It needs neither the broker nor the read models, so a stalled projection or a
  lost broker cannot keep a revoked token alive.

Nothing is ever taken off: there is no reactivation. A revoked staff member or member gets a
new account (a member a new number); a retired kiosk is set up again with a new device token.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterable
from uuid import UUID

import structlog
from eventsourcing.persistence import Notification, Recording
from eventsourcing.utils import get_topic

from domain.identity import Kiosk, Member, Staff
from services.store.eventstore import Timebank

log = structlog.get_logger(__name__)

FOLLOW_SECONDS = 1.0  # how long another replica may still accept a revoked token
_PAGE = 1000
# The revoking events, by their stored topic, and the subject prefix of whom they revoke.
_REVOKING = {
    get_topic(Staff.StaffDeactivated): "staff",
    get_topic(Member.MemberDeactivated): "member",
    get_topic(Kiosk.KioskRetired): "kiosk",
}


class Revocations:
    def __init__(self, app: Timebank) -> None:
        self._app = app
        self._subjects: set[str] = set()  # "staff:<id>", "member:<id>", "kiosk:<id>"
        self._position = 0  # how far the store's notification log has been followed
        self._following = threading.Lock()
        app.on_saved.append(self._saved)
        self.catch_up()

    def revoked(self, subject: str, kiosk_id: UUID | None = None) -> bool:
        """Whether a token of ``subject`` (used at ``kiosk_id``) is no longer good."""
        return subject in self._subjects or (
            kiosk_id is not None and f"kiosk:{kiosk_id}" in self._subjects
        )

    def catch_up(self) -> None:
        """Take in the revoking events the store holds beyond what was followed so far."""
        with self._following:
            head = self._app.last_position()
            while self._position < head:
                found = self._app.recorder.select_notifications(
                    start=self._position + 1, limit=_PAGE, stop=head, topics=tuple(_REVOKING)
                )
                self._take(found)
                self._position = found[-1].id if len(found) == _PAGE else head

    async def follow(self, stop: asyncio.Event) -> None:
        """Catch up every ``FOLLOW_SECONDS`` until ``stop``; a failing store is retried."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), FOLLOW_SECONDS)
            if stop.is_set():
                return
            try:
                await asyncio.to_thread(self.catch_up)
            except Exception:
                log.exception("revocations.follow_failed")  # tried again next round

    def _saved(self, recordings: list[Recording[UUID]]) -> None:
        self._take(recording.notification for recording in recordings)

    def _take(self, notifications: Iterable[Notification]) -> None:
        for notification in notifications:
            kind = _REVOKING.get(notification.topic)
            if kind is not None:
                self._subjects.add(f"{kind}:{notification.originator_id}")
