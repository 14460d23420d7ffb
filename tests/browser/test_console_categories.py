"""Categories where service hours are recorded (issue 15, item 14): home visits (上门探访) are
offered, and an entry named under a category not on the list is refused on the page."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from projections import hours
from tests.browser.conftest import serious_violations
from tests.browser.test_console import (
    coordinator,
    enrol,
    log_hours,
    read_model,
    said,
    settled,
    station_now,
)


def test_home_visits_are_offered_and_a_category_off_the_list_is_refused(screens, site):
    zhou = enrol(site)
    started = station_now(site).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(
        days=1
    )
    visit = log_hours(site, zhou, started, 60, "探访独居老人", category="home-visits")
    settled(site)
    page = coordinator(screens, site)
    page.goto(f"/console/hours/{visit}")
    expect(page.locator("#entry")).to_contain_text("上门探访")
    page.get_by_text("修改记录").click()
    expect(page.locator("#category option[value=home-visits]")).to_have_text("上门探访")
    assert serious_violations(page) == []
    screens.snap(page, "home-visit-entry")

    # A form sent with a category the list does not hold (an old bookmark, a forged form).
    before = site.bone.timebank.last_position()
    page.locator("#category option[value=home-visits]").evaluate(
        "option => { option.value = 'home_visit_nonexistent' }"
    )
    page.locator("#minutes").fill("90")
    page.locator("#amend-reason").fill("核对签到表")
    page.locator("#requested-by").fill("组织者")
    page.get_by_role("button", name="核对修改").click()
    expect(page.locator("#notice .notice-error")).to_have_text(said("unknown-category"))
    screens.snap(page, "unknown-category-refused")
    assert site.bone.timebank.last_position() == before
    entry = read_model(site, lambda db: hours.entry(db, str(visit)))
    assert (entry["category"], entry["minutes"]) == ("home-visits", 60)
