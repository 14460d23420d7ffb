"""The coordinator console: what needs attention, the member and volunteer registries, the
approval queue and each entry's audit timeline, disputes and the pool, the monitoring report,
certificates, the personal-data access log, and the station's settings (exchange rules, help
categories). Staff only, but for certificate verification."""

from __future__ import annotations

from typing import Any

from litestar import Router

from services.pages.console import (
    access,
    approvals,
    categories,
    certificates,
    disputes,
    entries,
    exports,
    helped,
    home,
    limits,
    members,
    membership,
    motions,
    pool,
    report,
    settings,
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
            membership.consent,
            membership.deactivate,
            membership.erase,
            limits.limits_form,
            limits.change_limits,
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
            helped.confirm_help,
            helped.withdraw_help,
            helped.correct_settlement,
            pool.standing,
            pool.grant,
            report.report,
            report.export,
            certificates.issue,
            certificates.certificate,
            certificates.printable,
            certificates.verify,
            access.openings,
            settings.settings,
            settings.change_rules,
            categories.categories,
            categories.add,
            categories.retire,
        ],
    )
]
