"""Whom an action concerns, named the way a resident knows them.

A name is sealed personal data (services.store.vault). A kiosk shows one only where the resident
must know whom they are dealing with — the confirmation screen of help given or received, in
full, and the list of help waiting for their confirmation, masked (王*英) as Chinese public
services show names on a shared screen — and each opening is recorded in the personal-data
access log (who, whose, when, why), as a coordinator's is
(services.identity.records.open_personal_data). Elsewhere the kiosk names nobody.
"""

from __future__ import annotations

from uuid import UUID

from domain.identity import member_id_for
from domain.ledger import AccountKind, account_id_for
from domain.provenance import Provenance
from domain.rules import NotFound, RuleViolated
from projections import balances
from projections.readstore import ReadDb
from services.composition.runtime import Backbone
from services.identity import records as identity
from services.pages.i18n import N_, gettext

ERASED = N_("a member whose details were erased")


def member_by_number(bone: Backbone, member_number: str) -> UUID:
    """The active member with this number (a resident names the other party by it)."""
    member = identity.member_of(bone.timebank, member_id_for(member_number))
    if not member.is_active:
        raise RuleViolated("member-inactive", "This member number is no longer active.")
    return member.id


def member_account(member_id: UUID) -> UUID:
    return account_id_for(str(member_id), AccountKind.MEMBER)


def member_of_account(db: ReadDb, account_id: str) -> UUID:
    row = balances.account(db, UUID(account_id))
    if row is None or row["kind"] != AccountKind.MEMBER:
        raise NotFound("account-not-found", f"There is no member account {account_id}.")
    return UUID(row["owner"])


def name_of(bone: Backbone, member_id: UUID, *, purpose: str, by: Provenance) -> str:
    """The member's display name, the opening recorded with ``purpose``."""
    _, details, _ = identity.open_personal_data(
        bone.timebank, bone.vault, member_id=member_id, purpose=purpose, by=by
    )
    return details.display_name if details is not None else gettext(ERASED)
