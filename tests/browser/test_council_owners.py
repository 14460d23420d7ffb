"""A motion's owner (issue 15, item 11): chosen from the staff directory on the tracker,
shown by name and title rather than by id, and handed to someone else with a reason that the
motion's timeline keeps."""

from __future__ import annotations

from playwright.sync_api import expect

from domain.identity import Role
from tests.browser.conftest import make_staff
from tests.browser.test_council import adopted, checked, officer, residents

COORDINATOR = "coord.li"


def test_the_owner_is_chosen_by_name_and_handed_over_with_a_reason(screens):
    site = screens.site
    people = residents(site, 5)
    adopted(site, people, "加装楼道扶手")
    make_staff(site, COORDINATOR, Role.COORDINATOR)
    page = officer(screens)

    page.get_by_role("link", name="落实跟踪").click()
    waiting = page.locator("ul.waiting li", has_text="加装楼道扶手")
    waiting.get_by_label("负责人").select_option(label=COORDINATOR)
    waiting.get_by_role("button", name="指定负责人").click()
    row = page.locator("tr[data-motion]", has_text="加装楼道扶手")
    expect(row.locator("td").nth(1)).to_have_text(COORDINATOR)
    checked(page, screens, "tracker-owner")

    row.get_by_role("link", name="加装楼道扶手").click()
    page.locator("#new-owner").select_option(label="wang.chair（主任）")
    page.locator("#reassignment-reason").fill("社工休假，由主任跟进")
    page.get_by_role("button", name="确认更换").click()
    step = page.locator(".timeline li").last
    expect(step).to_contain_text("更换负责人")
    expect(step).to_contain_text(f"{COORDINATOR} → wang.chair（主任）")
    expect(step).to_contain_text("社工休假，由主任跟进")
    checked(page, screens, "owner-handed-over")

    page.get_by_role("link", name="落实跟踪").click()
    row = page.locator("tr[data-motion]", has_text="加装楼道扶手")
    expect(row.locator("td").nth(1)).to_have_text("wang.chair（主任）")
    assert "staff:" not in page.locator("main").inner_text()
