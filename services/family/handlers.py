"""Family handlers: ties proposed, confirmed and ended, and gifts along them.

A consent is the member's own act at a kiosk, or a coordinator's record of the member's signed
paper form, whose reference the consent keeps beside the coordinator's provenance.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.family import (
    Allowance,
    Consent,
    FamilyTie,
    Movement,
    family_tie_id,
    give_to_family,
    no_family_tie,
    owners,
)
from domain.identity import check_may_act
from domain.ledger import TimeAccount, Transfer, TransferKind, two_party_legs
from domain.rules import RuleViolated
from services.bus import Acting, Handler, NotYours, Receipt
from services.family.commands import ConfirmFamilyTie, EndFamilyTie, GiveToFamily, ProposeFamilyTie
from services.identity.records import member_of
from services.ledger.handlers import account_of
from services.pool.handlers import retried_request
from services.store.eventstore import Timebank, retried_on_conflict

if TYPE_CHECKING:
    from services.composition.config import Settings


def _consent(member: UUID, paper_form: str | None, acting: Acting) -> Consent:
    """``member``'s consent, given now: their own, or the paper form staff record for them."""
    caller = acting.caller
    if caller.is_member and caller.member_id != member:
        raise NotYours("You can only give your own consent.")
    if not caller.is_member and paper_form is None:
        raise RuleViolated(
            "paper-consent-required",
            "Staff record a member's consent from the signed paper form: give its reference.",
            field="paper_form",
        )
    return Consent(member=member, at=acting.now, paper_form=paper_form)


def _active(app: Timebank, *members: UUID) -> None:
    for member in members:
        check_may_act(member_of(app, member))


def _tie(app: Timebank, one: UUID, other: UUID) -> FamilyTie:
    tie = app.find(family_tie_id(one, other), FamilyTie)
    if tie is None:
        raise no_family_tie()
    return tie


@retried_on_conflict
def propose_tie(command: ProposeFamilyTie, acting: Acting) -> Receipt:
    """Register a relative, waiting for their consent (anew, if a tie between them ended)."""
    app = acting.app
    consent = _consent(command.member, command.paper_form, acting)
    _active(app, command.member, command.relative)
    proposal = {
        "proposer": command.member,
        "relative": command.relative,
        "relation": command.relation,
        "consent": consent,
        "by": acting.by,
    }
    tie = app.find(family_tie_id(command.member, command.relative), FamilyTie)
    if tie is None:
        tie = FamilyTie(**proposal)
    else:
        tie.propose_again(**proposal)
    return Receipt(tie.id, app.record(tie))


@retried_on_conflict
def confirm_tie(command: ConfirmFamilyTie, acting: Acting) -> Receipt:
    """The relative's consent: the tie now carries gifts."""
    app = acting.app
    consent = _consent(command.member, command.paper_form, acting)
    _active(app, command.member, command.proposer)
    tie = _tie(app, command.member, command.proposer)
    tie.confirm(consent, acting.by)
    return Receipt(tie.id, app.record(tie))


@retried_on_conflict
def end_tie(command: EndFamilyTie, acting: Acting) -> Receipt:
    """Either member ends the tie, saying why; gifts made along it stay."""
    app, caller = acting.app, acting.caller
    if caller.is_member and caller.member_id != command.member:
        raise NotYours("You can only end your own family ties.")
    tie = _tie(app, command.member, command.relative)
    tie.end(command.member, command.reason, acting.by)
    return Receipt(tie.id, app.record(tie))


def movements(app: Timebank, account: TimeAccount, zone: ZoneInfo) -> Iterator[Movement]:
    """Every transfer that touched ``account``, net of its corrections, up to the version
    loaded (so a gift posted meanwhile makes this one's save conflict and be retried)."""
    stored = account.version - len(account.pending_events)
    seen: set[UUID] = set()
    for entry in app.events.get(account.id, lte=stored):
        transfer_id: UUID | None = getattr(entry, "transfer_id", None)
        if transfer_id is None or transfer_id in seen:
            continue
        seen.add(transfer_id)
        transfer = app.find(transfer_id, Transfer)
        assert transfer is not None, "an entry is posted with its transfer"
        yield Movement.of(transfer, account.id, zone)


def allowance_of(
    app: Timebank, account: TimeAccount, settings: Settings, now: datetime
) -> Allowance:
    """What the owner of ``account`` may still give their family at ``now``."""
    zone = settings.zone
    return Allowance.of(
        movements(app, account, zone),
        balance=account.balance,
        year=now.astimezone(zone).year,
        yearly_limit=settings.family_gift_yearly_minutes,
    )


@retried_on_conflict
def give(command: GiveToFamily, acting: Acting) -> Receipt:
    """Minutes earned by service to a family member (a resident: from their own account)."""
    app = acting.app
    acting.caller.check_owns(command.from_account)
    legs = two_party_legs(command.from_account, command.to_account, command.minutes)
    key, memo = command.idempotency_key, command.memo
    if retried := retried_request(app, key, TransferKind.FAMILY_GIFT, legs, memo):
        return retried
    giver = account_of(app, command.from_account)
    recipient = account_of(app, command.to_account)
    posted = give_to_family(
        idempotency_key=key,
        tie=app.find(family_tie_id(*owners(giver, recipient)), FamilyTie),
        giver=giver,
        recipient=recipient,
        minutes=command.minutes,
        allowance=allowance_of(app, giver, acting.settings, acting.now),
        memo=memo,
        occurred_at=acting.now,
        by=acting.by,
    )
    return Receipt(posted.id, app.record(posted, giver, recipient))


HANDLERS: dict[type, Handler] = {
    ProposeFamilyTie: propose_tie,
    ConfirmFamilyTie: confirm_tie,
    EndFamilyTie: end_tie,
    GiveToFamily: give,
}
