"""What residents and coordinators ask about family ties and gifts to family, as they say it."""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

from msgspec import Meta

from domain.family import Relation
from services.bus import Command, IdempotencyKey, Minutes, Reason

PaperForm = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9_.:/-]+$",
        description="The reference of the signed paper consent form a coordinator records "
        "(its number in the station's file); never a name.",
    ),
]


class ProposeFamilyTie(Command):
    """``member`` asks to register ``relative`` as their ``relation``; a coordinator records
    it from the member's signed paper form (``paper_form``)."""

    member: UUID
    relative: UUID
    relation: Relation
    paper_form: PaperForm | None = None


class ConfirmFamilyTie(Command):
    """``member``, the relative a tie was proposed to, consents to it."""

    member: UUID
    proposer: UUID
    paper_form: PaperForm | None = None


class EndFamilyTie(Command):
    """``member`` ends their tie with ``relative`` (or withdraws a proposal)."""

    member: UUID
    relative: UUID
    reason: Reason


class GiveToFamily(Command):
    """Minutes earned by service, from the giver's account to a family member's."""

    # Reads the giver's whole history of entries to know what service earned: run on its own,
    # in a worker thread, rather than hold up a group.
    alone: ClassVar[bool] = True

    idempotency_key: IdempotencyKey
    from_account: UUID
    to_account: UUID
    minutes: Minutes
    memo: Annotated[str, Meta(max_length=500)] = ""
