"""What a coordinator asks of the certificates, as they say it."""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

from msgspec import Meta

from services.bus import Command
from services.windows import DoneOn, PeriodEnd


class IssueCertificate(Command, kw_only=True):
    # Never in a group: it records the store's position as that of the entries it counted,
    # which the group's earlier commands would not have reached yet.
    alone: ClassVar[bool] = True

    volunteer_id: UUID
    period_from: DoneOn
    period_to: PeriodEnd
    recording_body: Annotated[
        str, Meta(min_length=1, max_length=100, description="Who recorded the service (Art. 15)")
    ]
