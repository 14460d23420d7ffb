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
    check_amendment,
    entry_id_for,
    reject_hours,
    submit_hours,
    void_hours,
)
from domain.identity import member_id_for
from domain.ledger import AccountKind, TimeAccount, Transfer, system_account_id
from domain.provenance import Provenance
from domain.rules import KeyReused, NotFound, RuleViolated, plain_text
from domain.volunteer import Volunteer, volunteer_id_for
from services import windows
from services.bus import Receipt
from services.eventstore import Timebank, retried_on_conflict
from services.identity.records import member_of
from services.ledger.handlers import account_of
from services.listings.handlers import categories_of
from services.volunteers.handlers import volunteer_of


def entry_of(app: Timebank, entry_id: UUID) -> HourEntry:
    entry = app.find(entry_id, HourEntry)
    if entry is None:
        raise NotFound("entry-not-found", f"There is no service-hour entry {entry_id}.")
    return entry


@retried_on_conflict
def submit(
    app: Timebank,
    *,
    idempotency_key: str,
    volunteer_id: UUID,
    service: Service,
    now: datetime,
    by: Provenance,
) -> Receipt:
    existing = app.find(entry_id_for(idempotency_key), HourEntry)
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
        idempotency_key=idempotency_key,
        volunteer=volunteer,
        service=service,
        categories=categories_of(app),
        now=now,
        by=by,
    )
    return Receipt(entry.id, app.record(entry, volunteer))


@retried_on_conflict
def approve(app: Timebank, *, entry_id: UUID, by: Provenance) -> Receipt:
    entry = entry_of(app, entry_id)
    account = account_of(app, entry.account_id)
    community = account_of(app, system_account_id(AccountKind.COMMUNITY))
    credit = approve_hours(entry, account=account, community=community, by=by)
    return Receipt(entry.id, app.record(entry, credit, account, community))


@retried_on_conflict
def reject(app: Timebank, *, entry_id: UUID, reason: str, by: Provenance) -> Receipt:
    entry = entry_of(app, entry_id)
    volunteer = volunteer_of(app, entry.volunteer_id)
    reject_hours(entry, volunteer, reason=reason, by=by)
    return Receipt(entry.id, app.record(entry, volunteer))


def _credits(app: Timebank, entry: HourEntry) -> dict[UUID, Transfer]:
    found = {transfer_id: app.find(transfer_id, Transfer) for transfer_id in entry.credits}
    return {transfer_id: transfer for transfer_id, transfer in found.items() if transfer}


Correction = Callable[
    [HourEntry, Volunteer, dict[UUID, Transfer], dict[UUID, TimeAccount]], list[Transfer]
]


def _changing(app: Timebank, entry_id: UUID, change: Correction) -> Receipt:
    """Load an entry with its volunteer, credits and both accounts, let ``change`` act, and
    save all of it at once (what ``change`` left alone has no new events to save)."""
    entry = entry_of(app, entry_id)
    volunteer = volunteer_of(app, entry.volunteer_id)
    account = account_of(app, entry.account_id)
    community = account_of(app, system_account_id(AccountKind.COMMUNITY))
    credits = _credits(app, entry)
    posted = change(entry, volunteer, credits, {account.id: account, community.id: community})
    return Receipt(
        entry.id, app.record(entry, volunteer, *posted, *credits.values(), account, community)
    )


@retried_on_conflict
def amend(
    app: Timebank,
    *,
    entry_id: UUID,
    service: Service,
    reason: str,
    requested_by: str,
    now: datetime,
    by: Provenance,
) -> Receipt:
    def change(
        entry: HourEntry,
        volunteer: Volunteer,
        credits: dict[UUID, Transfer],
        accounts: dict[UUID, TimeAccount],
    ) -> list[Transfer]:
        return amend_hours(
            entry,
            volunteer=volunteer,
            service=service,
            categories=categories_of(app),
            reason=reason,
            requested_by=requested_by,
            now=now,
            credits=credits,
            accounts=accounts,
            by=by,
        )

    return _changing(app, entry_id, change)


def check_amending(
    app: Timebank,
    *,
    entry_id: UUID,
    service: Service,
    reason: str,
    requested_by: str,
    now: datetime,
) -> HourEntry:
    """The entry, if ``amend`` could change it to ``service`` (as far as its accounts allow);
    else the refusal ``amend`` would give."""
    entry = entry_of(app, entry_id)
    check_amendment(
        entry,
        service=service,
        categories=categories_of(app),
        reason=reason,
        requested_by=requested_by,
        now=now,
    )
    return entry


@retried_on_conflict
def void(
    app: Timebank, *, entry_id: UUID, reason: str, requested_by: str, by: Provenance
) -> Receipt:
    def change(
        entry: HourEntry,
        volunteer: Volunteer,
        credits: dict[UUID, Transfer],
        accounts: dict[UUID, TimeAccount],
    ) -> list[Transfer]:
        return void_hours(
            entry,
            volunteer=volunteer,
            reason=reason,
            requested_by=requested_by,
            credits=credits,
            accounts=accounts,
            by=by,
        )

    return _changing(app, entry_id, change)


@dataclass(frozen=True)
class Result:
    """What one item of a bulk command came to: recorded, or refused and why."""

    item: str
    position: int | None = None
    code: str | None = None
    message: str | None = None
    field: str | None = None  # the field (an imported list's column) at fault

    @classmethod
    def refused(cls, item: str, refusal: RuleViolated | NotFound) -> Result:
        field = refusal.field if isinstance(refusal, RuleViolated) else None
        return cls(item, code=refusal.code, message=refusal.message, field=field)


def each(items: list[str], command: Callable[[str], Receipt]) -> list[Result]:
    """Run ``command`` for every item on its own: one refusal does not stop the others, and
    each either fully happens or not at all."""
    outcomes = []
    for item in items:
        try:
            receipt = command(item)
        except (RuleViolated, NotFound) as refused:
            outcomes.append(Result.refused(item, refused))
        else:
            outcomes.append(Result(item, position=receipt.position))
    return outcomes


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


def import_attendance(
    app: Timebank,
    *,
    import_key: str,
    text: str,
    now: datetime,
    by: Provenance,
) -> list[Result]:
    """One entry per row of an attendance list (CSV with a header row). Each row is recorded
    on its own, all of it or nothing; a row that cannot be recorded is reported with its line
    number and why. Uploading the same list again under the same key records nothing new.
    ``now`` is the station's: its zone is the one the list's days and times are written in."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or set(IMPORT_COLUMNS) - set(reader.fieldnames):
        raise RuleViolated(
            "import-columns-missing",
            f"The first line must name the columns: {', '.join(IMPORT_COLUMNS)}.",
        )
    outcomes = []
    ended = reader.line_num  # a quoted cell may span lines: a row starts after the last one
    for row in reader:
        first, ended = ended + 1, reader.line_num
        line = f"line {first}"
        try:
            service = _service_from(row, now)
            volunteer_id = volunteer_id_for(member_id_for(row["member_number"].strip()))
            receipt = submit(
                app,
                idempotency_key=f"{import_key}.{first}",
                volunteer_id=volunteer_id,
                service=service,
                now=now,
                by=by,
            )
        except MalformedRow as malformed:
            outcomes.append(Result(line, code="malformed-row", message=str(malformed)))
        except (RuleViolated, NotFound) as refused:
            outcomes.append(Result.refused(line, refused))
        else:
            outcomes.append(Result(line, position=receipt.position))
    return outcomes
