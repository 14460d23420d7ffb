"""Wording and polish (issue 15, item 13): every printout names the station and the day it was
printed; a printed certificate sends its reader to the configured public address, not to
whatever host the page was opened on; English counts take their plural; the access log says
the service's own purposes in the reader's language; the site answers /favicon.ico."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from services.identity import records as identity
from services.pages.kiosk import giving
from tests.browser.conftest import serious_violations
from tests.browser.kiosk_people import change_settings
from tests.browser.test_console import coordinator, enrol, log_hours, settled, station_now
from tests.integration.support import BY, approve_entry

STATION = "幸福社区社工站"
PUBLIC = "https://timebank.example.org/"


def test_printouts_name_the_station_and_the_day_and_point_at_the_public_address(screens, site):
    change_settings(site, station_name=STATION, public_url=PUBLIC)
    now = station_now(site)
    today = now.date()
    # Over an hour ago, so it is already done at any time of day; its day may be yesterday.
    served = (now - timedelta(minutes=61)).replace(second=0, microsecond=0)
    zhou = enrol(site)
    visit = log_hours(site, zhou, served, 60, "探访")
    approve_entry(site.bone.timebank, visit)
    settled(site)
    page = coordinator(screens, site, lang="en")
    month = served.strftime("%Y-%m")
    page.goto(f"/console/report?first={month}&last={month}")
    expect(page.locator(".report")).to_contain_text("1 hour of service in 1 service.")
    printed = page.locator("#printed-by")
    expect(printed).to_contain_text(f"{STATION} · printed")
    expect(printed).to_contain_text(str(today.year))
    assert serious_violations(page) == []
    page.emulate_media(media="print")
    screens.snap(page, "report-printed")
    page.emulate_media(media="screen")

    page.goto(f"/lang/zh_CN?next=/console/volunteers/{zhou.volunteer_id}")
    page.locator("#period_from").fill(served.date().replace(day=1).isoformat())
    page.locator("#period_to").fill(served.date().isoformat())
    page.locator("#recording_body").fill(STATION)
    page.get_by_role("button", name="出具证明").click()
    code = page.locator("#certificate-code").inner_text()
    page.get_by_role("button", name="准备打印").click()
    certificate = page.locator(".certificate")
    expect(certificate).to_contain_text(f"{PUBLIC}console/certificates/verify/{code}")
    expect(certificate.locator("#printed-by")).to_contain_text(f"{STATION} · 打印于")
    assert site.url.removeprefix("http://") not in (certificate.inner_text())
    assert serious_violations(page) == []
    screens.snap(page, "certificate-printed")


def test_the_access_log_says_the_services_purposes_in_chinese(screens, site):
    zhou = enrol(site)
    identity.open_personal_data(
        site.bone.timebank, site.bone.vault, member_id=zhou.member_id, purpose=giving.PURPOSE, by=BY
    )
    settled(site)
    page = coordinator(screens, site)
    page.goto("/console/access-log")
    expect(page.locator("#access-log tbody")).to_contain_text("自助机：显示受助居民的姓名")
    assert giving.PURPOSE not in page.locator("main").inner_text()


def test_the_site_answers_favicon_ico(screens, site):
    answer = screens.person().request.get("/favicon.ico")
    assert answer.status == 200
    assert answer.headers["content-type"] == "image/x-icon"
    assert answer.body()[:4] == b"\x00\x00\x01\x00"  # an icon file
