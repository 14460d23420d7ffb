"""Service-hour command handlers: submit, approve, reject, amend, void, and bulk import.

Each saves the entry with everything it touched (the volunteer's spans, the credit transfer,
both accounts) in one ``save()``: an approval never credits without being on record, nor the
reverse.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from uuid import UUID

from domain.hours import (
    HourEntry,
    Service,
    amend_hours,
    approve_hours,
    check_reason,
    entry_id_for,
    reject_hours,
    submit_hours,
    void_hours,
)
from domain.identity import member_id_for
from domain.ledger import AccountKind, TimeAccount, Transfer, system_account_id
from domain.rules import KeyReused, NotFound, RuleViolated, plain_text
from domain.volunteer import Volunteer, volunteer_id_for
from services import windows
from services.bus import Acting, Caller, Handler, NotYours, Receipt
from services.hours.commands import (
    AmendEntry,
    ApproveEntries,
    ApproveEntry,
    ImportAttendance,
    RejectEntries,
    RejectEntry,
    SubmitEntry,
    VoidEntry,
)
from services.identity.records import member_of
from services.ledger.handlers import account_of
from services.listings.handlers import categories_of
from services.stations.handlers import check_works_at, station_for
from services.store.eventstore import Timebank, retried_on_conflict
from services.volunteers.handlers import volunteer_of


def entry_of(app: Timebank, entry_id: UUID) -> HourEntry:
    entry = app.find(entry_id, HourEntry)
    if entry is None:
        raise NotFound("entry-not-found", f"There is no service-hour entry {entry_id}.")
    return entry


def entry_at_hand(acting: Acting, entry_id: UUID) -> HourEntry:
    """An entry to decide on or change: only the staff of its station (or over it) may."""
    entry = entry_of(acting.app, entry_id)
    check_works_at(acting.app, acting.by, entry.station)
    return entry


def volunteer_for(caller: Caller, named: UUID | None) -> UUID:
    """Volunteers record (and list) their own service; coordinators name whose."""
    if caller.member_id is not None:
        own = volunteer_id_for(caller.member_id)
        if named not in (None, own):
            raise RuleViolated("not-your-entry", "You can record only your own service.")
        return own
    if named is None:
        raise RuleViolated("volunteer-required", "Name the volunteer whose service this is.")
    return named


def submit(command: SubmitEntry, acting: Acting) -> Receipt:
    """Record service as submitted, awaiting approval: a volunteer's own at their home
    station, a coordinator's at the station they name or work at."""
    volunteer_id = volunteer_for(acting.caller, command.volunteer_id)
    service = command.service(acting.zone)
    if acting.caller.member_id is not None:
        station = member_of(acting.app, acting.caller.member_id).station
    else:
        station = station_for(acting, command.station)
    return _submitted(acting, command.idempotency_key, volunteer_id, service, station)


@retried_on_conflict
def _submitted(
    acting: Acting, key: str, volunteer_id: UUID, service: Service, station: UUID
) -> Receipt:
    app = acting.app
    existing = app.find(entry_id_for(key), HourEntry)
    if existing is not None:
        if (existing.volunteer_id, existing.service) != (volunteer_id, service):
            raise KeyReused
        return Receipt(existing.id, app.last_position(), replayed=True)
    volunteer = volunteer_of(app, volunteer_id)
    if not member_of(app, volunteer.member_id).is_active:
        raise RuleViolated(
            "member-inactive", "This volunteer's membership has ended; record no more service."
        )
    entry = submit_hours(
        idempotency_key=key,
        volunteer=volunteer,
        service=service,
        categories=categories_of(app),
        now=acting.local_now(),
        by=acting.by,
        station=station,
    )
    return Receipt(entry.id, app.record(entry, volunteer))


@retried_on_conflict
def approve(command: ApproveEntry, acting: Acting) -> Receipt:
    """Credit the volunteer from the community account."""
    app = acting.app
    entry = entry_at_hand(acting, command.entry_id)
    account = account_of(app, entry.account_id)
    community = account_of(app, system_account_id(AccountKind.COMMUNITY))
    credit = approve_hours(entry, account=account, community=community, by=acting.by)
    return Receipt(entry.id, app.record(entry, credit, account, community))


@retried_on_conflict
def reject(command: RejectEntry, acting: Acting) -> Receipt:
    app = acting.app
    entry = entry_at_hand(acting, command.entry_id)
    volunteer = volunteer_of(app, entry.volunteer_id)
    reject_hours(entry, volunteer, reason=command.reason, by=acting.by)
    return Receipt(entry.id, app.record(entry, volunteer))


def _credits(app: Timebank, entry: HourEntry) -> dict[UUID, Transfer]:
    found = {transfer_id: app.find(transfer_id, Transfer) for transfer_id in entry.credits}
    return {transfer_id: transfer for transfer_id, transfer in found.items() if transfer}


Correction = Callable[
    [HourEntry, Volunteer, dict[UUID, Transfer], dict[UUID, TimeAccount]], list[Transfer]
]


def _changing(acting: Acting, entry_id: UUID, change: Correction) -> Receipt:
    """Load an entry with its volunteer, credits and both accounts, let ``change`` act, and
    save all of it at once (what ``change`` left alone has no new events to save)."""
    app = acting.app
    entry = entry_at_hand(acting, entry_id)
    volunteer = volunteer_of(app, entry.volunteer_id)
    account = account_of(app, entry.account_id)
    community = account_of(app, system_account_id(AccountKind.COMMUNITY))
    credits = _credits(app, entry)
    posted = change(entry, volunteer, credits, {account.id: account, community.id: community})
    return Receipt(
        entry.id, app.record(entry, volunteer, *posted, *credits.values(), account, community)
    )


@retried_on_conflict
def amend(command: AmendEntry, acting: Acting) -> Receipt:
    """Change an entry with a reason and who asked; an approved one is credited or debited
    the difference."""
    app = acting.app

    def change(
        entry: HourEntry,
        volunteer: Volunteer,
        credits: dict[UUID, Transfer],
        accounts: dict[UUID, TimeAccount],
    ) -> list[Transfer]:
        return amend_hours(
            entry,
            volunteer=volunteer,
            service=command.service(acting.zone),
            categories=categories_of(app),
            reason=command.reason,
            requested_by=command.requested_by,
            now=acting.local_now(),
            credits=credits,
            accounts=accounts,
            by=acting.by,
        )

    return _changing(acting, command.entry_id, change)


@retried_on_conflict
def void(command: VoidEntry, acting: Acting) -> Receipt:
    """Undo an approved entry with a reason and who asked; its credits are corrected."""

    def change(
        entry: HourEntry,
        volunteer: Volunteer,
        credits: dict[UUID, Transfer],
        accounts: dict[UUID, TimeAccount],
    ) -> list[Transfer]:
        return void_hours(
            entry,
            volunteer=volunteer,
            reason=command.reason,
            requested_by=command.requested_by,
            credits=credits,
            accounts=accounts,
            by=acting.by,
        )

    return _changing(acting, command.entry_id, change)


@dataclass(frozen=True)
class Result:
    """What one item of a bulk command came to: recorded, or refused and why."""

    item: str
    position: int | None = None
    code: str | None = None
    message: str | None = None
    field: str | None = None  # the field (an imported list's column) at fault

    @classmethod
    def refused(cls, item: str, refusal: RuleViolated | NotFound | NotYours) -> Result:
        if isinstance(refusal, NotYours):  # another station's entry, as the API answers it
            return cls(item, code="forbidden", message=str(refusal))
        field = refusal.field if isinstance(refusal, RuleViolated) else None
        return cls(item, code=refusal.code, message=refusal.message, field=field)


@dataclass(frozen=True)
class Outcomes:
    """What a bulk command came to, item by item, and the store's position once it is done
    (a read after it sees every item recorded)."""

    results: list[Result]
    position: int

    @property
    def recorded(self) -> int:
        return sum(1 for result in self.results if result.code is None)


def _each(acting: Acting, entry_ids: list[UUID], command: Callable[[UUID], Receipt]) -> Outcomes:
    """Run ``command`` for every entry on its own: one refusal does not stop the others, and
    each either fully happens or not at all."""
    outcomes = []
    for entry_id in entry_ids:
        try:
            receipt = command(entry_id)
        except (RuleViolated, NotFound, NotYours) as refused:
            outcomes.append(Result.refused(str(entry_id), refused))
        else:
            outcomes.append(Result(str(entry_id), position=receipt.position))
    return Outcomes(outcomes, acting.app.last_position())


def approve_each(command: ApproveEntries, acting: Acting) -> Outcomes:
    return _each(
        acting, command.entry_ids, lambda entry_id: approve(ApproveEntry(entry_id=entry_id), acting)
    )


def reject_each(command: RejectEntries, acting: Acting) -> Outcomes:
    """Reject each entry chosen with the one reason: without one, none is asked about."""
    check_reason(command.reason)

    def rejected(entry_id: UUID) -> Receipt:
        return reject(RejectEntry(entry_id=entry_id, reason=command.reason), acting)

    return _each(acting, command.entry_ids, rejected)


# The columns of an attendance list, as a coordinator's spreadsheet exports them.
IMPORT_COLUMNS = (
    "member_number",
    "activity",
    "date",
    "start",
    "minutes",
    "place",
    "content",
    "organiser",
    "responsible",
    "category",
    "building",
)


class MalformedRow(ValueError):
    """A row that cannot be read as a service entry at all."""


def _service_from(row: dict[str, str], now: datetime) -> Service:
    missing = [column for column in IMPORT_COLUMNS if not (row.get(column) or "").strip()]
    if missing:
        raise MalformedRow(f"missing {', '.join(missing)}")
    for column in IMPORT_COLUMNS:
        plain_text(column, row[column])
    try:
        started_at = datetime.combine(
            date.fromisoformat(row["date"].strip()),
            time.fromisoformat(row["start"].strip()),
            tzinfo=now.tzinfo,
        )
        minutes = int(row["minutes"].strip())
    except ValueError as error:
        raise MalformedRow(f"date, start or minutes unreadable: {error}") from None
    windows.check("date", started_at.date(), windows.Window.DONE, now)
    return Service(
        activity=row["activity"].strip(),
        started_at=started_at,
        minutes=minutes,
        place=row["place"].strip(),
        content=row["content"].strip(),
        organiser=row["organiser"].strip(),
        responsible=row["responsible"].strip(),
        category=row["category"].strip(),
        building=row["building"].strip(),
    )


def import_attendance(command: ImportAttendance, acting: Acting) -> Outcomes:
    """One entry per row of an attendance list (CSV with a header row). Each row is recorded
    on its own, all of it or nothing; a row that cannot be recorded is reported with its line
    number and why. Uploading the same list again under the same key records nothing new.
    The list's days and times are the station's."""
    reader = csv.DictReader(io.StringIO(command.text, newline=""))
    if reader.fieldnames is None or set(IMPORT_COLUMNS) - set(reader.fieldnames):
        raise RuleViolated(
            "import-columns-missing",
            f"The first line must name the columns: {', '.join(IMPORT_COLUMNS)}.",
        )
    station = station_for(acting, command.station)
    outcomes = []
    ended = reader.line_num  # a quoted cell may span lines: a row starts after the last one
    for row in reader:
        first, ended = ended + 1, reader.line_num
        key = f"{command.import_key}.{first}"
        outcomes.append(_imported(key, f"line {first}", row, station, acting))
    return Outcomes(outcomes, acting.app.last_position())


def _imported(key: str, line: str, row: dict[str, str], station: UUID, acting: Acting) -> Result:
    """One row of an attendance list, recorded under ``key`` at ``station``, or why not."""
    try:
        service = _service_from(row, acting.local_now())
        volunteer_id = volunteer_id_for(member_id_for(row["member_number"].strip()))
        receipt = _submitted(acting, key, volunteer_id, service, station)
    except MalformedRow as malformed:
        return Result(line, code="malformed-row", message=str(malformed))
    except (RuleViolated, NotFound) as refused:
        return Result.refused(line, refused)
    return Result(line, position=receipt.position)


HANDLERS: dict[type, Handler] = {
    SubmitEntry: submit,
    ApproveEntry: approve,
    RejectEntry: reject,
    AmendEntry: amend,
    VoidEntry: void,
    ApproveEntries: approve_each,
    RejectEntries: reject_each,
    ImportAttendance: import_attendance,
}
