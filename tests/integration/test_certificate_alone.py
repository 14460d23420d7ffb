"""A certificate is issued on its own, never in a group: it records the store's position as
that of the entries it counted, so it never counts an approval a waiting group has staged
but not yet saved (whose position would lie after the one it records)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from uuid import UUID

from domain.certificate import Certificate
from domain.hours import HourEntry, Service, approve_hours, submit_hours
from domain.ledger import AccountKind, system_account_id
from domain.listing import Categories, categories_id
from domain.rules import RuleViolated
from domain.volunteer import Volunteer
from services.bus import Caller, Receipt
from services.certificates.commands import IssueCertificate
from services.composition.runtime import Backbone
from services.ledger.handlers import account_of
from services.store.eventstore import Timebank
from tests.integration.support import BY, make_backbone, register_resident, register_volunteer


def submitted(app: Timebank, volunteer_id: UUID, started_at: datetime) -> UUID:
    """An hour of companionship the volunteer gave from ``started_at``, submitted."""
    volunteer = app.find(volunteer_id, Volunteer)
    categories = app.find(categories_id(), Categories)
    assert volunteer is not None and categories is not None
    service = Service(
        activity="探访",
        started_at=started_at,
        minutes=60,
        place="3号楼",
        content="陪伴",
        organiser="社工站",
        responsible="coordinator",
        category="companionship",
        building="3号楼",
    )
    entry = submit_hours(
        idempotency_key="visit-1",
        volunteer=volunteer,
        service=service,
        categories=categories,
        now=started_at + timedelta(hours=2),
        by=BY,
    )
    app.record(entry, volunteer)
    return entry.id


def approve(app: Timebank, entry_id: UUID) -> Receipt:
    entry = app.find(entry_id, HourEntry)
    assert entry is not None
    account = account_of(app, entry.account_id)
    community = account_of(app, system_account_id(AccountKind.COMMUNITY))
    credit = approve_hours(entry, account=account, community=community, by=BY)
    return Receipt(entry.id, app.record(entry, credit, account, community))


async def together(bone: Backbone, entry_id: UUID, certify: IssueCertificate) -> tuple:
    """The approval and the certificate, sent at once (the approval first)."""
    await bone.commits.attach()
    return await asyncio.gather(
        bone.commits.run(approve, bone.timebank, entry_id),
        bone.bus.handle(certify, Caller(BY)),
        return_exceptions=True,
    )


def test_a_certificate_never_counts_an_approval_a_waiting_group_has_not_saved(stores, tmp_path):
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), "nats://unused")
    resident = register_resident(bone, "周志愿")
    volunteer_id = register_volunteer(bone, resident.id, "周志愿").id
    yesterday = bone.local_now().replace(hour=9, minute=0, second=0, microsecond=0)
    yesterday -= timedelta(days=1)
    entry_id = submitted(bone.timebank, volunteer_id, yesterday)
    certify = IssueCertificate(
        volunteer_id=volunteer_id,
        period_from=yesterday.date(),
        period_to=bone.today(),
        recording_body="幸福社区社工站",
    )

    approved, refused = asyncio.run(together(bone, entry_id, certify))

    # Run while the approval waited in its group, it found no approved service yet.
    assert isinstance(refused, RuleViolated) and refused.code == "nothing-to-certify"
    certified = asyncio.run(bone.bus.handle(certify, Caller(BY)))
    certificate = bone.timebank.find(certified.id, Certificate)
    assert certificate is not None
    assert certificate.entries and certificate.as_of >= approved.position
