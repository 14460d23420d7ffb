"""Residents at a kiosk: signing in with their member number and PIN, and choosing their PIN
with the station's one-time setup code. A wrong PIN or code is recorded, and enough of them
lock the number for a while."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.identity import PIN_TRIES_SAID, Kiosk, Member, PinLocked, kiosk_id_for, member_id_for
from domain.provenance import Provenance
from domain.rules import RuleViolated
from services.bus import Acting
from services.identity.commands import ChoosePin, SignInAtKiosk
from services.identity.hashing import hashed, verified
from services.identity.records import Registered, SignInRefused, token_digest
from services.store.eventstore import Timebank, retried_on_conflict


def _at_kiosk(
    app: Timebank, kiosk_token: str, member_number: str, by: Provenance
) -> tuple[Kiosk, Member, Provenance]:
    """The kiosk a resident stands at and the member their number names; tries are recorded
    as from that kiosk."""
    kiosk = app.find(kiosk_id_for(token_digest(kiosk_token)), Kiosk)
    if kiosk is None or not kiosk.is_active:
        raise SignInRefused("unknown-kiosk", "Residents sign in at a registered kiosk.")
    member = app.find(member_id_for(member_number), Member)
    if member is None:
        raise SignInRefused("wrong-credentials", "The member number or PIN is wrong.")
    return kiosk, member, replace(by, channel=f"kiosk:{kiosk.id}")


def _refused_try(member: Member, now: datetime, message: str) -> SignInRefused:
    left = member.pin_tries_left(now)
    return SignInRefused(
        "wrong-credentials",
        message,
        tries_left=left if left <= PIN_TRIES_SAID else None,
        locked_until=member.pin_locked_until(now),
    )


def _check_may_try(member: Member, now: datetime) -> None:
    try:
        member.check_may_try_pin(now)
    except PinLocked as locked:
        raise SignInRefused(
            locked.code, locked.message, status=423, tries_left=0, locked_until=locked.until
        ) from None


@retried_on_conflict
def kiosk_sign_in(command: SignInAtKiosk, acting: Acting) -> tuple[Member, Kiosk]:
    """The member and the kiosk they signed in at (the caller gives them their token)."""
    app, now = acting.app, acting.now
    kiosk, member, by = _at_kiosk(app, command.kiosk_token, command.member_number, acting.by)
    if not member.is_active and not verified(member.pin_hash, command.pin):
        # Without the right PIN, an inactive number looks like any unknown one.
        raise SignInRefused("wrong-credentials", "The member number or PIN is wrong.")
    try:
        _check_may_try(member, now)
    except RuleViolated as refused:
        raise SignInRefused(refused.code, refused.message, status=423) from None
    if not verified(member.pin_hash, command.pin):
        member.reject_pin(at=now, by=by)
        app.record(member)
        raise _refused_try(member, now, "The member number or PIN is wrong.")
    member.accept_pin(by=by)
    app.record(member)
    return member, kiosk


@retried_on_conflict
def choose_pin(command: ChoosePin, acting: Acting) -> Registered:
    """The resident's own PIN, chosen at a kiosk with the one-time code the station gave
    them. A wrong code counts as a wrong PIN; a used or expired one is refused."""
    app, now = acting.app, acting.now
    _, member, by = _at_kiosk(app, command.kiosk_token, command.member_number, acting.by)
    if not member.is_active:
        raise SignInRefused("wrong-credentials", "The member number or PIN is wrong.")
    _check_may_try(member, now)
    member.check_may_choose_pin(now)
    if not verified(member.setup_code_hash or "", command.setup_code):
        member.reject_pin(at=now, by=by)
        app.record(member)
        raise _refused_try(member, now, "The member number or setup code is wrong.")
    member.choose_pin(hashed(command.pin), by=by)
    return Registered(member.id, app.record(member))
