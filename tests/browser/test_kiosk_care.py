"""The kiosk as an elderly resident meets it (issue 15): a wrong PIN is cleared rather than
typed onto, and the screen says how many tries are left and how long a lock lasts; the idle
sign-out asks "still there?" first and, when it happens, says why on the sign-in screen; every
action ends on a "done" in words, and a vote shows its choice and whether it may change."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from uuid import UUID

import pytest
from playwright.sync_api import Page, expect

from domain.identity import PIN_ATTEMPTS, Role
from services.council import handlers as council
from services.council.commands import ChangeRules
from services.pages.i18n import gettext, speaking
from services.pages.labels import LABELS
from tests.browser.conftest import make_staff, serious_violations, sign_in_staff, untranslated
from tests.browser.kiosk_people import (
    change_settings,
    help_given,
    log_two_hours,
    neighbourhood,
    register,
    sign_in_on_pad,
    tap_digits,
    vote_opened,
)
from tests.integration.support import PIN, acting

PATIENT = 30_000  # ms: what a shared, busy test machine may need for a page or a poll
WRONG_PIN = "9999"


@pytest.fixture(autouse=True)
def patient_expectations() -> Iterator[None]:
    expect.set_options(timeout=PATIENT)
    yield
    expect.set_options(timeout=5_000)


def tap_sign_in(page: Page) -> None:
    with page.expect_response(lambda answer: answer.request.method == "POST"):
        page.locator("form.with-pad button[type=submit]").click()


def test_a_wrong_pin_is_cleared_and_the_screen_counts_down_to_the_lock(site, screens):
    kiosk = site.kiosk()
    li = register(site, "李师傅")
    change_settings(site, kiosk_idle_seconds=600)
    page = screens.person(kiosk=kiosk)
    refusal = page.locator("#notice")

    sign_in_on_pad(page, li, pin=WRONG_PIN)
    expect(refusal).not_to_be_empty()
    expect(page.locator("#member_number")).to_have_value(li.number)  # the number stays
    expect(page.locator("#pin")).to_have_value("")  # the wrong PIN is gone
    expect(refusal).not_to_contain_text("还可以再试")  # three left: no count yet
    screens.snap(page, "wrong-pin-cleared")

    # The pad now types into the empty PIN field: a second wrong try, then the count shows.
    tap_digits(page, WRONG_PIN)
    expect(page.locator("#pin")).to_have_value(WRONG_PIN)
    tap_sign_in(page)
    expect(page.locator("#pin")).to_have_value("")
    expect(refusal).not_to_contain_text("还可以再试")
    for left in (2, 1):
        tap_digits(page, WRONG_PIN)
        tap_sign_in(page)
        expect(refusal).to_contain_text(f"还可以再试 {left} 次")
        expect(page.locator("#member_number")).to_have_value(li.number)
        expect(page.locator("#pin")).to_have_value("")
    assert untranslated(page) == []
    assert serious_violations(page) == []
    screens.snap(page, "one-try-left")

    tap_digits(page, WRONG_PIN)  # the fifth wrong PIN locks the number, and says until when
    tap_sign_in(page)
    expect(refusal).to_contain_text("已锁定")
    expect(refusal).to_contain_text("15 分钟后可以再试，或请社工帮您重置")
    expect(refusal).to_contain_text(re.compile(r"到 \d{1,2}:\d{2} 为止"))
    screens.snap(page, "locked")

    tap_digits(page, PIN)  # the right PIN, typed on the cleared field: still locked
    tap_sign_in(page)
    expect(refusal).to_contain_text("已锁定")
    expect(refusal).to_contain_text("分钟后可以再试，或请社工帮您重置")
    expect(page.locator("#pin")).to_have_value("")
    assert untranslated(page) == []
    assert serious_violations(page) == []
    screens.snap(page, "locked-number-tries-again")
    assert PIN_ATTEMPTS == 5  # the count above follows the station's rule


def test_the_idle_kiosk_asks_still_there_and_says_why_it_signed_out(site, screens):
    kiosk = site.kiosk()
    wang = register(site, "王阿姨", minutes=60)
    change_settings(site, kiosk_idle_seconds=44)  # asks at 20 s left, after 24 s untouched
    page = screens.person(kiosk=kiosk)
    sign_in_on_pad(page, wang)
    expect(page.locator("#balance")).to_be_visible()

    asking = page.get_by_role("dialog", name="还在吗？")
    expect(asking).to_be_visible()
    carry_on = asking.get_by_role("button", name="继续使用")
    expect(carry_on).to_be_focused()
    expect(asking).to_contain_text("秒后将自动退出")
    assert serious_violations(page) == []
    assert untranslated(page) == []
    screens.snap(page, "still-there")
    with page.expect_response("**/kiosk/still-here") as renewed:
        carry_on.click()
    assert renewed.value.status == 204
    assert "timebank_session=" in (renewed.value.header_value("set-cookie") or "")
    expect(asking).to_be_hidden()
    expect(page.locator("#balance")).to_be_visible()  # still signed in, on the same page

    expect(asking).to_be_visible()  # untouched again: it asks again, then signs out
    expect(page.locator("#member_number")).to_be_visible(timeout=60_000)
    expect(page.locator("#signed-out-idle")).to_have_text("为了保护您的账户，已自动退出。")
    assert serious_violations(page) == []
    screens.snap(page, "signed-out-by-idling")

    sign_in_on_pad(page, wang)  # signing out by hand says nothing of the kind
    page.get_by_role("button", name="退出登录").click()
    expect(page.locator("#member_number")).to_be_visible()
    expect(page.locator("#signed-out-idle")).to_have_count(0)


def test_every_action_ends_on_a_done_state_in_words_and_a_vote_shows_its_choice(site, screens):
    here = neighbourhood(site)
    zhao = here.zhao
    change_settings(site, kiosk_idle_seconds=600)
    page = screens.person(kiosk=site.kiosk())
    sign_in_on_pad(page, zhao)
    expect(page.locator("#balance")).to_be_visible()
    done = page.locator("#done")

    page.goto("/kiosk/listings/new")
    page.get_by_text("我需要这项帮助").click()
    page.get_by_text("家电维修").click()
    page.locator("#title").fill("修收音机")
    page.get_by_role("button", name="发布").click()
    expect(done).to_contain_text("已发布")
    assert serious_violations(page) == []
    screens.snap(page, "listing-posted")
    page.locator("#listings li", has_text="修收音机").get_by_role("button", name="撤下").click()
    expect(done).to_contain_text("已撤下")

    page.goto("/kiosk/donate")
    page.get_by_role("button", name="1 小时").click()
    page.get_by_role("button", name="下一步").click()
    page.locator("#yes").click()
    expect(done).to_contain_text("已捐出")
    screens.snap(page, "donated")

    page.goto("/kiosk/hours")
    log_two_hours(page)
    expect(done).to_contain_text("已提交审核")
    screens.snap(page, "hours-sent")

    page.goto(f"/kiosk/council/{here.gathering_support}")
    page.get_by_role("button", name="我附议").click()
    expect(page.locator("#i-support")).to_contain_text("您已附议")
    expect(page.get_by_role("button", name="我附议")).to_have_count(0)
    assert serious_violations(page) == []
    screens.snap(page, "supported")

    with speaking("zh_CN"):
        in_favour, against = gettext(LABELS["choice"]["yes"]), gettext(LABELS["choice"]["no"])
    page.goto(f"/kiosk/council/{here.being_voted}")  # an open vote whose ballots may change
    page.get_by_role("link", name=in_favour).click()
    page.locator("#yes").click()
    expect(done).to_contain_text("您的投票已记录")
    expect(page.locator("#chosen")).to_have_text(f"✓ {in_favour}（您的选择）")
    expect(page.locator("#vote-change")).to_have_text("投票结束前，您可以改投。")
    expect(page.get_by_role("link", name=against)).to_be_visible()  # the others stay open
    assert serious_violations(page) == []
    screens.snap(page, "voted-may-change")

    # A secret vote whose ballots may not change: the choice is shown to the voter alone,
    # and no other choice is offered.
    rules = replace(council.rules_in_force(site.bone.timebank), secret=True, votes_may_change=False)
    council.change_rules(
        ChangeRules(**vars(rules), reason="无记名投票"), acting(site.bone.timebank)
    )
    sun, zhou = (register(site, name) for name in ("吴大爷", "郑阿姨"))
    secret = vote_opened(site, here.qian, [zhao, sun, zhou], "小区加装路灯")
    page.goto(f"/kiosk/council/{secret}?after={site.bone.timebank.last_position()}")
    page.get_by_role("link", name=against).click()
    page.locator("#yes").click()
    expect(page.locator("#my-vote")).to_contain_text(f"您投的是：{against}")
    expect(page.locator("#vote-change")).to_have_text("按议事会的规则，这次投票投出后不能更改。")
    expect(page.get_by_role("link", name=in_favour)).to_have_count(0)  # nothing else offered
    assert untranslated(page) == []
    assert serious_violations(page) == []
    screens.snap(page, "voted-secret-final")


def test_plain_words_one_name_for_the_number_what_is_owed_minutes_and_who_helped(site, screens):
    kiosk = site.kiosk()
    li, wang = register(site, "李师傅", minutes=120), register(site, "王阿姨")
    help_given(site, li, wang, 60)
    change_settings(site, kiosk_idle_seconds=600)
    page = screens.person(kiosk=kiosk)
    page.goto("/kiosk/sign-in")
    expect(page.get_by_label("会员号（见会员卡）")).to_be_visible()
    sign_in_on_pad(page, wang)
    expect(page.locator("#balance")).to_be_visible()
    expect(page.locator("#owing")).to_have_count(0)

    page.get_by_role("link", name=re.compile("等您确认")).click()
    waiting = page.locator("#to-confirm a").first
    expect(waiting).to_contain_text("李*傅 帮您")  # masked: the kiosk is a shared screen
    expect(waiting).not_to_contain_text("李师傅")
    assert serious_violations(page) == []
    screens.snap(page, "who-helped-in-the-list")
    waiting.click()
    page.locator("#yes").click()
    expect(page.locator("#balance")).to_have_text("-1 小时")
    expect(page.locator("#owing")).to_have_text("您欠社区 1 小时，帮助别人就能补上。")
    when = page.locator("#statement tbody tr td").first
    expect(when).to_have_text(re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}:\d{2}$"))  # no seconds
    assert untranslated(page) == []
    assert serious_violations(page) == []
    screens.snap(page, "owing-explained")

    make_staff(site, "liu.coordinator", Role.COORDINATOR)  # the console calls it the same
    desk = screens.person()
    sign_in_staff(desk, "liu.coordinator")
    desk.goto("/console/members")
    expect(desk.get_by_label("会员号")).to_be_visible()
    expect(desk.locator("body")).not_to_contain_text("居民编号")


def test_titles_days_and_lengths_are_a_touch_each_and_the_organiser_is_filled_in(site, screens):
    zhao = neighbourhood(site).zhao
    change_settings(site, kiosk_idle_seconds=600, station_name="幸福社区社工站")
    page = screens.person(kiosk=site.kiosk())
    sign_in_on_pad(page, zhao)
    expect(page.locator("#balance")).to_be_visible()

    page.goto("/kiosk/listings/new")
    page.get_by_text("我需要这项帮助").click()
    expect(page.get_by_role("button", name="帮忙买菜")).to_be_hidden()  # no kind chosen yet
    page.get_by_text("代买代办").click()
    page.get_by_role("button", name="代取快递").click()
    expect(page.locator("#title")).to_have_value("代取快递")
    expect(page.get_by_role("button", name="陪同就医")).to_be_hidden()  # another kind's
    assert serious_violations(page) == []
    screens.snap(page, "listing-title-in-one-touch")
    page.get_by_role("button", name="发布").click()
    expect(page.locator("#listings li", has_text="代取快递")).to_be_visible()

    page.goto("/kiosk/hours")
    page.get_by_text("陪伴聊天").click()
    page.get_by_role("button", name="陪同就医").click()
    expect(page.locator("#activity")).to_have_value("陪同就医")
    yesterday = site.bone.today() - timedelta(days=1)
    page.get_by_role("button", name="昨天").click()
    expect(page.locator("#day")).to_have_value(yesterday.isoformat())
    expect(page.get_by_role("button", name="昨天")).to_have_attribute("aria-pressed", "true")
    page.locator("#start").fill("09:30")
    page.get_by_role("button", name="1 小时", exact=True).click()
    page.get_by_role("button", name="增加半小时").click()  # the stepper: 1.5 hours
    expect(page.locator("#minutes")).to_have_value("90")
    expect(page.get_by_role("button", name="1.5 小时")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#organiser")).to_have_value("幸福社区社工站")  # from the station
    page.locator("#responsible").fill("刘社工")
    assert serious_violations(page) == []
    screens.snap(page, "hours-in-touches")
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#done")).to_contain_text("已提交审核")
    logged = page.locator("#my-hours tbody tr").first
    expect(logged).to_contain_text("陪同就医")
    expect(logged).to_contain_text(f"{yesterday.month}月{yesterday.day}日")
    expect(logged).to_contain_text("1.5 小时")
    expect(page.locator("#responsible")).to_have_value("刘社工")  # as given last time


def test_a_resident_proposes_a_motion_in_a_few_touches_after_a_plain_confirmation(site, screens):
    wang = register(site, "王阿姨")
    change_settings(site, kiosk_idle_seconds=600)
    page = screens.person(kiosk=site.kiosk())
    sign_in_on_pad(page, wang)
    expect(page.locator("#balance")).to_be_visible()

    page.get_by_role("link", name="居民议事会").click()
    page.get_by_role("link", name="提出提案").click()
    page.get_by_role("button", name="楼梯加装扶手").click()
    expect(page.locator("#title")).to_have_value("楼梯加装扶手")
    page.locator("#text").fill("3号楼楼道太暗太陡，老人上下楼不安全。")
    assert serious_violations(page) == []
    screens.snap(page, "motion-form")
    before = site.bone.timebank.last_position()
    page.get_by_role("button", name="下一步").click()
    expect(page.locator("#question")).to_have_text("您将向议事会提出提案「楼梯加装扶手」— 确认？")
    assert site.bone.timebank.last_position() == before  # nothing recorded before "yes"
    screens.snap(page, "motion-confirm")
    page.locator("#yes").click()
    expect(page.locator("#done")).to_contain_text("已提交提案")
    expect(page.locator("h1")).to_have_text("楼梯加装扶手")
    expect(page.get_by_role("button", name="我附议")).to_have_count(0)  # not for the mover
    motion_id = UUID(re.search(r"/kiosk/council/([0-9a-f-]{36})", page.url)[1])
    assert council.motion_of(site.bone.timebank, motion_id).mover == wang.member_id
    assert untranslated(page) == []
    assert serious_violations(page) == []
    screens.snap(page, "motion-proposed")
    page.get_by_role("link", name="回到议事会").click()
    expect(page.locator("#motions")).to_contain_text("楼梯加装扶手")
