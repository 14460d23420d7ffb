"""Every kiosk page, in Chinese and in English: nothing left untranslated, no serious or
critical accessibility violations (axe-core), and every target big enough for a finger."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from domain.identity import Role
from services.pages.i18n import translations
from tests.browser.conftest import STAFF_PASSWORD, make_staff, serious_violations, untranslated
from tests.browser.kiosk_people import (
    change_settings,
    neighbourhood,
    open_first_waiting,
    sign_in_on_pad,
)

SMALLEST_TARGET = 48  # px, WCAG 2.5.5 as the issue asks; the kiosk's own are 64 and up
LANG = {"zh_CN": "zh-CN", "en": "en"}

# Every interactive element's size as a finger meets it: a radio button's target is its
# label; elements moved off screen until focused (the skip link) are left out.
_TARGETS = """(least) => Array.from(document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea')).flatMap((el) => {
  const target = el.matches('input[type=radio], input[type=checkbox]')
    ? (el.closest('label') || el) : el;
  const box = target.getBoundingClientRect();
  if (box.right <= 0 || (box.width === 0 && box.height === 0)) return [];
  return box.width < least || box.height < least
    ? [`${el.outerHTML.slice(0, 80)}: ${Math.round(box.width)}x${Math.round(box.height)}`] : [];
})"""


@pytest.fixture(autouse=True)
def patient_expectations() -> Iterator[None]:
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=5_000)


def chinese_on_english_page(page: Page) -> list[str]:
    """Chinese catalog translations showing on a page meant to be in English."""
    text = page.locator("body").inner_text()
    shown = []
    for translated in getattr(translations("zh_CN"), "_catalog", {}).values():
        words = re.sub(r"%\(\w+\)s", "", translated).strip()
        if len(words) > 3 and words in text:
            shown.append(translated)
    return shown


def check(page: Page, lang: str, name: str, screens, axe: bool = False) -> None:
    expect(page.locator("html")).to_have_attribute("lang", LANG[lang])
    expect(page.locator("h1")).to_be_visible()
    if lang == "zh_CN":
        assert untranslated(page) == [], name
    else:
        assert chinese_on_english_page(page) == [], name
    assert page.evaluate(_TARGETS, SMALLEST_TARGET) == [], name
    if axe:
        assert serious_violations(page) == [], name
    screens.snap(page, f"{lang}-{name}")


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_kiosk_page_in_both_languages_is_accessible_with_big_targets(site, screens, lang):
    here = neighbourhood(site)
    supported, voting = here.gathering_support, here.being_voted
    make_staff(site, "station.admin", Role.ADMIN)
    change_settings(site, kiosk_idle_seconds=600)  # checks take a while on a busy machine
    axe = lang == "zh_CN"  # the pages' structure is the same in both languages

    page = screens.person(lang=lang)  # a new screen in the community centre
    page.goto("/kiosk/sign-in")
    check(page, lang, "not-a-kiosk-yet", screens)
    page.locator("a[href='/kiosk/setup']").click()
    page.locator("#username").fill("station.admin")  # the administrator sets it up
    page.locator("#password").fill(STAFF_PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.locator("#name")).to_be_visible()
    check(page, lang, "setup", screens, axe=axe)
    page.locator("#name").fill("社区中心一楼")
    page.locator("form button[type=submit]").click()
    expect(page.locator(".notice-ok")).to_be_visible()  # a kiosk now; the administrator is out
    check(page, lang, "sign-in", screens, axe=axe)

    sign_in_on_pad(page, here.zhao)
    expect(page.locator("#balance")).to_be_visible()
    check(page, lang, "home", screens, axe=axe)
    for name, path, with_axe in [
        ("give", "/kiosk/give", axe),
        ("received", "/kiosk/received", False),
        ("donate", "/kiosk/donate", False),
        ("listings", "/kiosk/listings", axe),
        ("listings-by-category", "/kiosk/listings?category=repairs", False),
        ("my-listings", "/kiosk/listings/mine", False),
        ("new-listing", "/kiosk/listings/new", False),
        ("hours", "/kiosk/hours", axe),
        ("council", "/kiosk/council", False),
        ("new-motion", "/kiosk/council/new", axe),
        ("motion-gathering-support", f"/kiosk/council/{supported}", False),
        ("motion-being-voted", f"/kiosk/council/{voting}", axe),
        ("done", "/kiosk/done/donated", False),
    ]:
        page.goto(path)
        check(page, lang, name, screens, axe=with_axe)

    page.goto("/kiosk")
    open_first_waiting(page)
    expect(page.locator("#question")).to_be_visible()
    check(page, lang, "confirm-received", screens, axe=axe)
    page.locator("a[href$='/objection']").click()
    expect(page.locator("input[name=why]").first).to_be_attached()
    check(page, lang, "objection", screens)

    page.goto("/kiosk/donate")
    page.locator("[data-fill='60']").click()
    page.locator("form.with-pad button[type=submit]").click()
    expect(page.locator("#question")).to_be_visible()
    check(page, lang, "confirm-donation", screens, axe=axe)

    page.goto(f"/kiosk/council/{voting}/vote/yes")
    check(page, lang, "confirm-vote", screens, axe=axe)
