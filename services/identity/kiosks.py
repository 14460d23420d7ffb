"""Kiosks, the shared screens residents sign in at: registering one, and retiring it."""

from __future__ import annotations

import secrets

from domain.identity import Kiosk
from domain.rules import NotFound
from services.bus import Acting
from services.identity.commands import RegisterKiosk, RetireKiosk
from services.identity.records import Registered, token_digest
from services.stations.handlers import check_works_at, station_for
from services.store.eventstore import retried_on_conflict


def register_kiosk(command: RegisterKiosk, acting: Acting) -> Registered:
    """A kiosk and its device token, which is shown this once and never stored."""
    token = secrets.token_urlsafe(32)
    kiosk = Kiosk(
        token_digest=token_digest(token),
        name=command.name,
        by=acting.by,
        station=station_for(acting, command.station),
    )
    return Registered(kiosk.id, acting.app.record(kiosk), token=token)


@retried_on_conflict
def retire_kiosk(command: RetireKiosk, acting: Acting) -> Registered:
    kiosk = acting.app.find(command.kiosk_id, Kiosk)
    if kiosk is None:
        raise NotFound("kiosk-not-found", f"There is no kiosk {command.kiosk_id}.")
    check_works_at(acting.app, acting.by, kiosk.station)
    kiosk.retire(command.reason, acting.by)
    return Registered(kiosk.id, acting.app.record(kiosk))
