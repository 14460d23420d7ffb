"""The console's monitoring report (charts drawn on the server, the figures as CSV) and a
certificate of the same service: issued for a period, printed with the volunteer's name
(recorded in the access log), verified by anyone with the code."""

from __future__ import annotations

import csv
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path

from playwright.sync_api import expect

from services.volunteers import handlers as volunteers
from services.volunteers.commands import RecordTraining
from tests.browser.conftest import Site
from tests.browser.test_console import (
    coordinator,
    enrol,
    log_hours,
    settled,
    station_now,
)
from tests.integration.support import acting_on, approve_entry


def months_back(today: date, count: int) -> date:
    """The first day of the month ``count`` months before ``today``'s."""
    month = today.month - count
    year = today.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1)


def at_nine(site: Site, day: date) -> datetime:
    return datetime.combine(day.replace(day=10), time(9), site.bone.settings.zone)


def test_the_report_charts_the_figures_exports_them_and_a_certificate_of_them_verifies(
    screens, site, tmp_path
):
    today = station_now(site).date()
    earlier, later = months_back(today, 2), months_back(today, 1)
    zhou = enrol(site)
    visits = [
        log_hours(site, zhou, at_nine(site, earlier), 90, "探访"),
        log_hours(site, zhou, at_nine(site, earlier) + timedelta(hours=3), 60, "代买", "errands"),
        log_hours(site, zhou, at_nine(site, later), 120, "探访"),
    ]
    for visit in visits:
        approve_entry(site.bone.timebank, visit)
    training = RecordTraining(
        idempotency_key=uuid.uuid4().hex,
        name="急救培训",
        content="心肺复苏",
        minutes=120,
        organiser="幸福社区社工站",
        held_on=later.replace(day=12),
        attendees=[zhou.volunteer_id],
    )
    volunteers.record_training(training, acting_on(site.bone))
    settled(site)
    page = coordinator(screens, site)
    first, last = earlier.strftime("%Y-%m"), later.strftime("%Y-%m")
    page.goto(f"/console/report?first={first}&last={last}")

    bars = page.locator("#service-chart rect.bar")
    expect(bars).to_have_count(3)
    titles = [bars.nth(index).locator("title").text_content() or "" for index in range(3)]
    assert sorted(title.split(": ")[-1] for title in titles) == ["1 小时", "1.5 小时", "2 小时"]
    companionship = page.locator("#service-table tr", has_text="陪伴聊天")
    expect(companionship.locator("td")).to_have_text(["1.5 小时", "2 小时"])
    errands = page.locator("#service-table tr", has_text="代买代办")
    expect(errands.locator("td")).to_have_text(["1 小时", "0 小时"])
    expect(page.locator("#volunteers-chart rect.bar")).to_have_count(2)  # active in each month
    expect(page.locator("#volunteers-table tbody tr")).to_have_count(2)
    expect(page.locator("#trainings-table tbody tr td")).to_have_text(["1", "2 小时", "2 小时"])
    trained = page.locator("#trainings-chart rect.bar title")
    expect(trained).to_have_count(1)
    assert (trained.text_content() or "").endswith(": 2 小时")
    screens.snap(page, "report")
    page.emulate_media(media="print")
    screens.snap(page, "report-printed")
    page.emulate_media(media="screen")

    with page.expect_download() as downloading:
        page.locator("#csv-export").click()
    saved = Path(tmp_path / "monitoring.csv")
    downloading.value.save_as(saved)
    rows = list(csv.reader(saved.read_text(encoding="utf-8-sig").splitlines()))
    assert rows == [
        ["month", "category", "building", "minutes", "services"],
        [first, "companionship", "3号楼", "90", "1"],
        [first, "errands", "3号楼", "60", "1"],
        [last, "companionship", "3号楼", "120", "1"],
    ]

    # The same service, certified: printed with the volunteer's name, verified by anyone.
    page.goto(f"/console/volunteers/{zhou.volunteer_id}")
    page.locator("#period_from").fill(earlier.isoformat())
    page.locator("#period_to").fill(today.isoformat())
    page.locator("#recording_body").fill("幸福社区社工站")
    page.get_by_role("button", name="出具证明").click()
    expect(page.locator("#certified-hours")).to_have_text("4.5 小时")
    expect(page.locator("#still-accurate")).to_contain_text("验证通过")
    issued = page.locator("#certificate-code").inner_text()
    assert len(issued) == 12
    assert "周志愿" not in page.locator("main").inner_text(), "no name until it is opened"
    screens.snap(page, "certificate")

    page.get_by_role("button", name="准备打印").click()
    expect(page.locator(".certificate .holder")).to_contain_text("周志愿")
    expect(page.locator(".certificate #certificate-code")).to_have_text(issued)
    page.emulate_media(media="print")
    screens.snap(page, "certificate-printed")
    page.emulate_media(media="screen")
    page.get_by_role("link", name="查看查阅记录").click()
    expect(page.locator("#access-log tbody tr").first).to_contain_text(f"打印证明 {issued}")
    screens.snap(page, "access-log")

    anyone = screens.person()
    anyone.goto(f"/console/certificates/verify/{issued}")
    expect(anyone.locator("#certificate-code")).to_have_text(issued)
    expect(anyone.locator("#still-accurate")).to_contain_text("验证通过")
    expect(anyone.locator("#certified-hours")).to_have_text("4.5 小时")
    assert "周志愿" not in anyone.locator("body").inner_text()
    screens.snap(anyone, "verified-by-anyone")
