"""What volunteers and coordinators ask of the service-hour record, as they say it."""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID
from zoneinfo import ZoneInfo

from msgspec import Meta

from domain.hours import Service
from domain.rules import RuleViolated
from services.bus import Command, IdempotencyKey, Reason
from services.windows import DoneAt

Text = Annotated[str, Meta(max_length=200)]
Required = Annotated[str, Meta(min_length=1, max_length=200)]
Requester = Annotated[
    str, Meta(min_length=1, max_length=100, description="Who asked for the change (Art. 13)")
]
# The largest attendance list taken, in bytes: a few thousand rows.
MAX_IMPORT_BYTES = 2 * 1024 * 1024
ImportKey = Annotated[str, Meta(min_length=8, max_length=80, pattern=r"^[\w.:-]+$")]


class ServiceDone(Command):
    """The service as a volunteer or coordinator writes it down."""

    activity: Required
    started_at: DoneAt
    minutes: Annotated[int, Meta(gt=0, le=24 * 60)]
    organiser: Required
    responsible: Required
    category: Annotated[str, Meta(min_length=1, max_length=40)]
    place: Text = ""
    content: Annotated[str, Meta(max_length=1000)] = ""
    building: Annotated[str, Meta(max_length=40)] = ""
    beneficiary: UUID | None = None  # a member id, never a name

    def service(self, zone: ZoneInfo) -> Service:
        """The service, its time in the station's zone: the day and month it counts in are the
        station's, whatever offset the client wrote."""
        return Service(
            activity=self.activity,
            started_at=self.started_at.astimezone(zone),
            minutes=self.minutes,
            place=self.place,
            content=self.content,
            organiser=self.organiser,
            responsible=self.responsible,
            category=self.category,
            building=self.building,
            beneficiary=self.beneficiary,
        )


StationChoice = Annotated[
    UUID | None,
    Meta(description="Where the service was given; by default the station of whoever records it"),
]


class SubmitEntry(ServiceDone, kw_only=True):
    idempotency_key: IdempotencyKey
    volunteer_id: UUID | None = None  # coordinators name the volunteer; volunteers are themselves
    station: StationChoice = None  # a volunteer's own service counts at their home station


class ApproveEntry(Command):
    entry_id: UUID


class Rejection(Command):
    reason: Reason


class RejectEntry(Rejection, kw_only=True):
    entry_id: UUID


class Amendment(ServiceDone, kw_only=True):
    reason: Reason
    requested_by: Requester


class AmendEntry(Amendment, kw_only=True):
    entry_id: UUID


class Voiding(Command):
    reason: Reason
    requested_by: Annotated[str, Meta(min_length=1, max_length=100)]


class VoidEntry(Voiding, kw_only=True):
    entry_id: UUID


class Several(Command):
    """A command for each entry named, each recorded on its own (all of it or nothing) with
    its own position: so the whole never joins a group, whose one save would merge them."""

    alone: ClassVar[bool] = True


class Chosen(Several):
    entry_ids: Annotated[list[UUID], Meta(min_length=1, max_length=200)]


class ApproveEntries(Chosen, kw_only=True):
    """Approve each entry chosen: each credits its volunteer."""


class RejectEntries(Chosen, kw_only=True):
    reason: Reason


class ImportAttendance(Several):
    """An activity's attendance list (CSV with a header row), one entry a row."""

    import_key: ImportKey
    text: str
    station: StationChoice = None

    @classmethod
    def uploaded(cls, import_key: str, raw: bytes, station: UUID | None = None) -> ImportAttendance:
        """The list as a spreadsheet saves it (UTF-8, perhaps with a byte-order mark)."""
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RuleViolated("not-utf8", "Save the list as CSV in UTF-8 and try again.") from None
        return cls(import_key=import_key, text=text, station=station)
