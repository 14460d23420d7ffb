"""What an administrator asks of the stations of a deployment, as they say it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from domain.station import CODE_MAX_LENGTH, Place
from services.bus import Command, Reason

StationCode = Annotated[
    str,
    Meta(
        pattern=rf"^[A-Za-z0-9][A-Za-z0-9-]{{0,{CODE_MAX_LENGTH - 1}}}$",
        description="Letters, digits and hyphens, chosen by the station (xh-01)",
    ),
]
Name = Annotated[str, Meta(min_length=1, max_length=100)]


class Placing(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The station's street (街道) within its district (区)."""

    district: Name
    street: Name

    @property
    def place(self) -> Place:
        return Place(district=self.district, street=self.street)


class OpenStation(Command):
    code: StationCode
    name: Name
    placing: Placing


class Renaming(Command):
    name: Name
    placing: Placing
    reason: Reason


class RenameStation(Renaming, kw_only=True):
    station_id: UUID


class Closing(Command):
    reason: Reason


class CloseStation(Closing, kw_only=True):
    station_id: UUID
