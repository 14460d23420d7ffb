"""The public certificate verification page (issue 15, item 15): whoever holds the code sees
what a certificate must show — the masked name, the period, the totals by category, who
recorded it, whether it still holds — and never what an entry says; staff see the entries."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from services.certificates import handlers as certificates
from services.certificates.commands import IssueCertificate
from services.hours import handlers as hours
from services.hours.commands import VoidEntry
from tests.browser.conftest import serious_violations
from tests.browser.test_console import (
    coordinator,
    enrol,
    log_hours,
    settled,
    station_now,
)
from tests.integration.support import acting, acting_on, approve_entry

PRIVATE = "陪王阿姨去社区医院复诊"  # a third person's name and a hospital visit


def test_anyone_verifying_sees_totals_by_category_and_staff_see_the_entries(screens, site):
    now = station_now(site)
    started = now.replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
    zhou = enrol(site, "周志愿")
    escort = log_hours(site, zhou, started, 120, PRIVATE, category="escort")
    visit = log_hours(site, zhou, started + timedelta(hours=3), 60, "上门探访", "home-visits")
    for entry in (escort, visit):
        approve_entry(site.bone.timebank, entry)
    certificate = IssueCertificate(
        volunteer_id=zhou.volunteer_id,
        period_from=started.date(),
        period_to=now.date(),
        recording_body="幸福社区社工站",
    )
    code = certificates.issue(certificate, acting_on(site.bone)).code
    void = VoidEntry(entry_id=visit, reason="王阿姨住院，探访未成行", requested_by="社工")
    hours.void(void, acting(site.bone.timebank))
    settled(site)

    anyone = screens.person()
    anyone.goto(f"/console/certificates/verify/{code}")
    expect(anyone.locator("#certificate-code")).to_have_text(code)
    expect(anyone.locator("#certificate-volunteer")).to_have_text("周*愿")
    expect(anyone.locator("#certified-hours")).to_have_text("3 小时")
    expect(anyone.locator("#still-accurate")).to_contain_text("2 小时")
    expect(anyone.locator("#changes-since")).to_have_text("1")
    totals = anyone.locator("#category-totals tbody tr")
    expect(totals).to_have_count(2)
    expect(totals.filter(has_text="接送").locator("td")).to_have_text(["2 小时", "2 小时"])
    expect(totals.filter(has_text="上门探访").locator("td")).to_have_text(["1 小时", "0 小时"])
    shown = anyone.locator("body").inner_text()
    for private in (PRIVATE, "社区医院", "王阿姨", "周志愿", "3号楼"):
        assert private not in shown, private
    assert serious_violations(anyone) == []
    screens.snap(anyone, "verified-by-anyone")

    staff = coordinator(screens, site)
    staff.goto(f"/console/certificates/{code}")
    expect(staff.locator("main")).to_contain_text(PRIVATE)
    expect(staff.locator("main")).to_contain_text("王阿姨住院，探访未成行")
    screens.snap(staff, "certificate-for-staff")
