"""The coordinator console: what needs attention, the member and volunteer registries, the
approval queue and each entry's audit timeline, disputes and the pool, the monitoring report,
certificates and the personal-data access log. Staff only, but for certificate verification."""

from __future__ import annotations

from typing import Any

from litestar import Router

from services.pages.console import (
    access,
    accounts,
    approvals,
    certificates,
    disputes,
    entries,
    exports,
    home,
    kiosks,
    members,
    motions,
    pool,
    report,
    volunteers,
)

PAGES: list[Any] = [
    Router(
        path="/console",
        route_handlers=[
            home.overview,
            members.registry,
            members.registration,
            members.register,
            members.member,
            members.setup_code,
            motions.paper_motion_form,
            motions.enter_paper_motion,
            members.details,
            volunteers.search,
            volunteers.registration,
            volunteers.register,
            volunteers.volunteer,
            volunteers.details,
            approvals.queue,
            approvals.approve,
            approvals.reject,
            entries.entry,
            entries.approve,
            entries.reject,
            entries.amend,
            entries.void,
            exports.history,
            exports.volunteer_hours,
            disputes.listed,
            disputes.detail,
            disputes.resolve,
            pool.standing,
            pool.grant,
            report.report,
            report.export,
            certificates.issue,
            certificates.certificate,
            certificates.printable,
            certificates.verify,
            access.openings,
            accounts.accounts,
            accounts.create,
            accounts.account,
            accounts.set_password,
            accounts.deactivate,
            kiosks.listed,
            kiosks.register,
            kiosks.kiosk,
            kiosks.retire,
        ],
    )
]
