"""Family at the kiosk (亲属转赠): register a family member by their member number, consent
to a tie a relative proposed, and give them time earned by helping others. Every step is said
in plain words, naming the relative, before anything is recorded."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from domain.family import Relation
from projections import family
from services.family.commands import ConfirmFamilyTie, GiveToFamily, ProposeFamilyTie
from services.family.handlers import allowance_of
from services.identity.commands import MemberNumber
from services.ledger import handlers as ledger
from services.pages.forms import Sent
from services.pages.i18n import N_, gettext, hours
from services.pages.kiosk import people
from services.pages.kiosk.frame import (
    RESIDENTS,
    ActionKey,
    Minutes,
    Note,
    account_of,
    confirmation,
    form_confirmed,
    member_of,
    new_key,
    resident_action,
    screen,
    to_done,
)
from services.pages.labels import label
from services.web.context import After, backbone
from services.web.reads import Reads

PATH = "/kiosk/family"
# Recorded in English, as every purpose is; the access log shows it in the reader's language.
PURPOSE = N_("kiosk: name the family member a tie or a gift concerns, to confirm it")


class Gift(msgspec.Struct, kw_only=True):
    relative: MemberNumber
    minutes: Minutes
    note: Note = ""

    def command(self, request: Request[Any, Any, Any], relative: UUID, key: str) -> GiveToFamily:
        return GiveToFamily(
            idempotency_key=f"kiosk-family-gift:{key}",
            from_account=account_of(request),
            to_account=people.member_account(relative),
            minutes=self.minutes,
            memo=self.note.strip(),
        )


class GiftConfirmed(Gift, kw_only=True):
    key: ActionKey


class Proposal(msgspec.Struct, kw_only=True):
    kin: MemberNumber  # not ``relative``: the gift's field of that name is on the same page
    relation: Relation


class ProposalConfirmed(Proposal, kw_only=True):
    key: ActionKey


class Consent(msgspec.Struct, kw_only=True):
    proposer: UUID


class ConsentConfirmed(Consent, kw_only=True):
    key: ActionKey


class Family(Controller):
    path = PATH

    @get("/", opt=RESIDENTS, sync_to_thread=True)
    def page(
        self, request: Request[Any, Any, Any], reads: NamedDependency[Reads], after: After = None
    ) -> Template:
        """My ties as I see them (the relation only: the list names nobody), the ones waiting
        for my consent first, what I may give, and the forms to give time and to register a
        relative."""
        me = member_of(request)
        rows = reads.query(("family",), after, lambda db: family.ties_of(db, me))
        bone = backbone(request.app.state)
        account = ledger.account_of(bone.timebank, account_of(request))
        may_give = allowance_of(bone.timebank, account, bone.settings, bone.clock())
        return screen(
            request,
            "family.html",
            available=may_give.available,
            waiting=[tie for tie in rows if tie["awaiting_my_consent"]],
            ties=[tie for tie in rows if not tie["awaiting_my_consent"]],
            relations=[(relation.value, label("relation", relation)) for relation in Relation],
        )


def _name(sent: Sent, member: UUID) -> str:
    return people.name_of(sent.station, member, purpose=PURPOSE, by=sent.caller.by)


def _relative(sent: Sent) -> UUID:
    return people.member_by_number(sent.station, sent.form.relative)


def _kin(sent: Sent) -> UUID:
    return people.member_by_number(sent.station, sent.form.kin)


def _asking_gift(sent: Sent) -> Template:
    relative = _relative(sent)
    question = gettext("You are giving %(hours)s of your time to %(name)s. Confirm?") % {
        "hours": hours(sent.form.minutes),
        "name": _name(sent, relative),
    }
    return form_confirmed(sent.request, question, sent.form, path=f"{PATH}/gift", detail="")


def _asking_proposal(sent: Sent) -> Template:
    question = gettext("You are registering %(name)s as your %(relation)s. Confirm?") % {
        "name": _name(sent, _kin(sent)),
        "relation": label("relation", sent.form.relation),
    }
    return form_confirmed(sent.request, question, sent.form, path=f"{PATH}/tie", detail="")


def _asking_consent(sent: Sent) -> Template:
    question = gettext(
        "%(name)s registered you as family. Do you agree? Then they may give you time."
    ) % {"name": _name(sent, sent.form.proposer)}
    fields = {"proposer": str(sent.form.proposer), "key": new_key()}
    return confirmation(sent.request, question, action=f"{PATH}/consent", back=PATH, fields=fields)


def _gift_checked(sent: Sent) -> GiveToFamily:
    return sent.form.command(sent.request, _relative(sent), new_key())


def _gift(sent: Sent) -> GiveToFamily:
    return sent.form.command(sent.request, _relative(sent), sent.form.key)


def _proposal(sent: Sent) -> ProposeFamilyTie:
    return ProposeFamilyTie(
        member=member_of(sent.request), relative=_kin(sent), relation=sent.form.relation
    )


def _consent(sent: Sent) -> ConfirmFamilyTie:
    return ConfirmFamilyTie(member=member_of(sent.request), proposer=sent.form.proposer)


ACTIONS = [
    resident_action(f"{PATH}/gift/check", Gift, None, ask=_asking_gift, command=_gift_checked),
    resident_action(f"{PATH}/gift", GiftConfirmed, to_done("gifted"), command=_gift),
    resident_action(f"{PATH}/tie/check", Proposal, None, ask=_asking_proposal, command=_proposal),
    resident_action(f"{PATH}/tie", ProposalConfirmed, to_done("kin-proposed"), command=_proposal),
    resident_action(f"{PATH}/consent/check", Consent, None, ask=_asking_consent, command=_consent),
    resident_action(
        f"{PATH}/consent", ConsentConfirmed, to_done("kin-confirmed"), command=_consent
    ),
]
