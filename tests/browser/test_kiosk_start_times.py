"""Less typing at the kiosk (issue 15, item 4): a volunteer taps when their service started
(上午 9:00, or "just finished": the chosen length before now); a time not over yet is said in
words before the form is sent, and should it be sent anyway, the refusal says so and keeps
what was entered. Other residents' names at the kiosk are masked (王*英)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, serious_violations, untranslated
from tests.browser.kiosk_people import (
    Resident,
    change_settings,
    help_given,
    make_volunteer,
    register,
    sign_in_on_pad,
)

KIOSK_SCREEN = {"width": 1080, "height": 1920}  # the kiosk's portrait screen
NOT_OVER_YET = "这段时间还没过完"


@pytest.fixture(autouse=True)
def patient_expectations() -> Iterator[None]:
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=5_000)


def at_the_kiosk(screens, site: Site, resident: Resident) -> Page:
    change_settings(site, kiosk_idle_seconds=600, station_name="幸福社区社工站")
    page = screens.person(kiosk=site.kiosk(), viewport=KIOSK_SCREEN)
    sign_in_on_pad(page, resident)
    expect(page.locator("#balance")).to_be_visible()
    page.goto("/kiosk/hours")
    return page


def volunteer(site: Site) -> Resident:
    zhou = register(site, "周秀兰")
    make_volunteer(site, zhou)
    return zhou


def what_and_who(page: Page) -> None:
    page.get_by_text("陪伴聊天").click()
    page.get_by_role("button", name="陪同就医").click()
    page.locator("#responsible").fill("刘社工")


def station_now(site: Site) -> datetime:
    return site.bone.local_now().replace(tzinfo=None)


def test_a_volunteer_taps_yesterday_and_nine_in_the_morning_and_sends_the_hours(screens, site):
    page = at_the_kiosk(screens, site, volunteer(site))
    what_and_who(page)
    page.get_by_role("button", name="昨天").click()
    page.get_by_role("button", name="上午 9:00").click()
    expect(page.locator("#start")).to_have_value("09:00")
    expect(page.get_by_role("button", name="上午 9:00")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="下午 2:00")).to_have_attribute("aria-pressed", "false")
    page.get_by_role("button", name="2 小时").click()
    assert untranslated(page) == []
    assert serious_violations(page) == []
    screens.snap(page, "start-time-in-one-touch")
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#done")).to_contain_text("已提交审核")
    yesterday = site.bone.today() - timedelta(days=1)
    logged = page.locator("#my-hours tbody tr").first
    expect(logged).to_contain_text(f"{yesterday.month}月{yesterday.day}日 09:00")
    expect(logged).to_contain_text("2 小时")


def test_just_finished_starts_the_chosen_time_before_now(screens, site):
    page = at_the_kiosk(screens, site, volunteer(site))
    what_and_who(page)
    page.get_by_role("button", name="1 小时", exact=True).click()
    before = station_now(site) - timedelta(hours=1)
    page.get_by_role("button", name="刚做完").click()
    after = station_now(site) - timedelta(hours=1)
    # The day follows the start: an hour before 00:10 was yesterday.
    shown = {f"{when:%Y-%m-%d %H:%M}" for when in (before, after)}
    day, start = page.locator("#day").input_value(), page.locator("#start").input_value()
    assert f"{day} {start}" in shown
    page.get_by_role("button", name="增加半小时").click()  # 1.5 hours: it starts earlier
    expect(page.locator("#start")).not_to_have_value(start)
    assert serious_violations(page) == []
    screens.snap(page, "just-finished")
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#done")).to_contain_text("已提交审核")
    expect(page.locator("#my-hours tbody tr").first).to_contain_text("1.5 小时")


def test_a_time_not_over_yet_is_said_before_sending_and_a_refusal_keeps_the_form(screens, site):
    page = at_the_kiosk(screens, site, volunteer(site))
    what_and_who(page)
    page.get_by_role("button", name="今天").click()
    page.locator("#start").fill("23:59")  # with two hours, it ends tomorrow: always ahead
    page.get_by_role("button", name="2 小时").click()
    before = site.bone.timebank.last_position()

    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.method))
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#not-over-yet")).to_be_visible()
    expect(page.locator("#not-over-yet")).to_contain_text(NOT_OVER_YET)
    expect(page).to_have_url(re.compile(r"/kiosk/hours$"))
    assert serious_violations(page) == []
    screens.snap(page, "not-over-yet-said-before-sending")
    assert "POST" not in sent

    # Sent anyway (a screen without the script): the service refuses, in the same words,
    # and the form comes back as it was filled in.
    with page.expect_navigation():
        page.evaluate("document.querySelector('form[data-not-ahead]').submit()")
    expect(page.locator("#refusal")).to_contain_text(NOT_OVER_YET)
    expect(page.locator("#activity")).to_have_value("陪同就医")
    expect(page.locator("#start")).to_have_value("23:59")
    expect(page.locator("#minutes")).to_have_value("120")
    expect(page.locator("#responsible")).to_have_value("刘社工")
    expect(page.locator('input[name="category"]:checked')).to_have_count(1)
    assert serious_violations(page) == []
    screens.snap(page, "not-over-yet-refused-form-kept")
    assert site.bone.timebank.last_position() == before

    page.get_by_role("button", name="昨天").click()
    page.get_by_role("button", name="上午 9:00").click()
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#done")).to_contain_text("已提交审核")


def test_the_kiosk_masks_the_names_of_other_residents(screens, site):
    wang, li = register(site, "王秀英", minutes=120), register(site, "李明")
    help_given(site, wang, li, 60)
    change_settings(site, kiosk_idle_seconds=600)
    page = screens.person(kiosk=site.kiosk(), viewport=KIOSK_SCREEN)
    sign_in_on_pad(page, li)
    page.get_by_role("link", name=re.compile("等您确认")).click()
    waiting = page.locator("#to-confirm")
    expect(waiting).to_contain_text("王*英")
    expect(page.locator("body")).not_to_contain_text("王秀英")
    screens.snap(page, "kiosk-masked-names")
    # Opening one, the resident is asked about that help: the confirmation names who gave it
    # (each opening logged). Waiting for its heading, not for a name, keeps the checks off the
    # list still shown while the confirmation loads.
    page.locator("#to-confirm a").first.click()
    expect(page.get_by_role("heading", name="请核对")).to_be_visible()
    expect(page.locator("main")).to_contain_text("您确认 王秀英 帮您 1 小时")
    assert serious_violations(page) == []
    screens.snap(page, "kiosk-confirmation-names-the-helper")
