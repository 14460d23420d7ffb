"""The access matrix's bodies for the family routes (tests/integration/test_access.py): each
names the member the call is about, and what it acts on is made fresh where the action is
one-off (a tie proposed, confirmed or ended)."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from domain.family import FamilyTie, Relation, family_tie_id
from services.family import handlers as family
from services.family.commands import ConfirmFamilyTie, ProposeFamilyTie
from tests.integration.support import acting


def _member_of(world: Any, account: UUID) -> UUID:
    people = (world.alice, world.bob, world.vera)
    return next(person.member_id for person in people if person.account_id == account)


def _kin_proposing_to(world: Any, member: UUID) -> UUID:
    """A fresh member who proposes a tie to ``member``, on a paper form staff record."""
    kin = world.member(world.unique("Matrix Kin ")).member_id
    proposed = ProposeFamilyTie(
        member=kin, relative=member, relation=Relation.SIBLING, paper_form="F-1"
    )
    family.propose_tie(proposed, acting(world.bone.timebank))
    return kin


def _vera_and_alice(world: Any) -> None:
    """Vera (with minutes from her approved service) and alice, registered as family once."""
    vera, alice = world.vera.member_id, world.alice.member_id
    if world.bone.timebank.find(family_tie_id(vera, alice), FamilyTie) is not None:
        return
    on_paper = acting(world.bone.timebank)
    proposal = ProposeFamilyTie(
        member=vera, relative=alice, relation=Relation.SIBLING, paper_form="F-2"
    )
    family.propose_tie(proposal, on_paper)
    consent = ConfirmFamilyTie(member=alice, proposer=vera, paper_form="F-3")
    family.confirm_tie(consent, on_paper)


def _gift(world: Any, account: UUID) -> dict[str, Any]:
    _vera_and_alice(world)
    other = world.alice if account != world.alice.account_id else world.vera
    return {
        "idempotency_key": uuid.uuid4().hex,
        "from_account": str(account),
        "to_account": str(other.account_id),
        "minutes": 1,
    }


FAMILY_BODIES = {
    "/api/v1/family/ties": lambda w, account: {
        "member": str(_member_of(w, account)),
        "relative": str(w.member(w.unique("Matrix Kin ")).member_id),
        "relation": "sibling",
        "paper_form": "F-4",
    },
    "/api/v1/family/ties/confirmation": lambda w, account: {
        "member": str(member := _member_of(w, account)),
        "proposer": str(_kin_proposing_to(w, member)),
        "paper_form": "F-5",
    },
    "/api/v1/family/ties/ending": lambda w, account: {
        "member": str(member := _member_of(w, account)),
        "relative": str(_kin_proposing_to(w, member)),
        "reason": "access matrix",
    },
    "/api/v1/family/gifts": _gift,
}
