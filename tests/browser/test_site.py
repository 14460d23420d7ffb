"""The start page and what every page shares: both languages, the switch between them,
locally served assets, accessibility."""

from __future__ import annotations

from playwright.sync_api import expect

from domain.identity import Role
from tests.browser.conftest import (
    STAFF_PASSWORD,
    make_staff,
    serious_violations,
    untranslated,
)


def test_the_start_page_speaks_chinese_first_and_switches_to_english(screens):
    page = screens.person()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_role("heading", level=1).inner_text() == "社区时间银行"
    assert untranslated(page) == []
    assert serious_violations(page) == []
    screens.snap(page, "zh")

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Community time bank")
    screens.snap(page, "en")
    assert page.evaluate("typeof htmx") == "object"
    assert all(url.startswith(screens.site.url) for url in requested), requested


def test_staff_sign_in_lands_on_their_pages_and_wrong_passwords_are_refused(screens):
    make_staff(screens.site, "social.worker", Role.COORDINATOR)
    page = screens.person()
    page.goto("/console/sign-in")
    assert serious_violations(page) == []
    assert untranslated(page) == []
    page.locator("#username").fill("social.worker")
    page.locator("#password").fill("not the password")
    page.locator("form button[type=submit]").click()
    expect(page.locator(".notice-error")).to_contain_text("登录没有成功")
    screens.snap(page, "refused")
    page.goto("/console/sign-in?next=/lang/en")
    page.locator("#username").fill("social.worker")
    page.locator("#password").fill(STAFF_PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
