"""The kiosk in a real browser: two residents trade help on the number pad and the idle
clock signs one out; refusals are said in the resident's language and record nothing; and a
resident uses every other flow: the pool, an objection, the board, volunteer hours, the
council."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from projections import access_log, exchanges
from services.pages.i18n import gettext, speaking
from services.pages.labels import LABELS
from tests.browser.conftest import KIOSK_IDLE_SECONDS, untranslated
from tests.browser.kiosk_people import (
    change_settings,
    expect_balance,
    log_two_hours,
    neighbourhood,
    open_first_waiting,
    register,
    sign_in_on_pad,
    tap_digits,
)

PATIENT = 30_000  # ms: what a shared, busy test machine may need for a page or a poll


@pytest.fixture(autouse=True)
def patient_expectations() -> Iterator[None]:
    expect.set_options(timeout=PATIENT)
    yield
    expect.set_options(timeout=5_000)


def test_two_residents_trade_an_hour_and_a_half_and_the_idle_kiosk_signs_out(site, screens):
    kiosk = site.kiosk()
    li = register(site, "李师傅", minutes=120)
    wang = register(site, "王阿姨", minutes=120)
    # Two residents at one kiosk in two browsers side by side: the idle clock is long while
    # both are at it, and short again when Li walks away.
    change_settings(site, kiosk_idle_seconds=600)

    a = screens.person(kiosk=kiosk)
    sign_in_on_pad(a, li)
    expect_balance(a, "2 小时")
    screens.snap(a, "li-home")

    a.get_by_role("link", name="记录我给的帮助").click()
    a.locator("#receiver").click()
    tap_digits(a, wang.number)
    a.get_by_role("button", name="1.5 小时").click()
    a.get_by_text("陪伴聊天").click()
    a.locator("#note").fill("陪她去医院复查")
    screens.snap(a, "li-records-help")
    a.get_by_role("button", name="下一步").click()
    expect(a.locator("#question")).to_have_text("您将给 王阿姨 记录 1.5 小时的帮助 — 确认？")
    screens.snap(a, "li-confirms-in-plain-words")
    a.locator("#yes").click()
    expect(a.locator("#done")).to_be_visible()
    expect(a.locator("#unconfirmed")).to_contain_text("1.5 小时 · 陪伴聊天：陪她去医院复查")
    expect_balance(a, "2 小时")  # nothing moves until Wang confirms
    screens.snap(a, "li-recorded-awaiting-wang")
    a.get_by_role("link", name="回到首页").click()
    expect(a.locator("#unconfirmed")).to_contain_text("1.5 小时")

    b = screens.person(kiosk=kiosk)
    sign_in_on_pad(b, wang)
    open_first_waiting(b)
    expect(b.locator("#question")).to_have_text(
        "您确认 李师傅 帮您 1.5 小时 — 将从您的账户转出 1.5 小时？"
    )
    screens.snap(b, "wang-confirms-in-plain-words")
    b.locator("#yes").click()
    expect(b.locator("#done")).to_be_visible()
    expect_balance(b, "0.5 小时")
    expect(b.locator("#statement tbody tr").first).to_contain_text("-1.5 小时")
    screens.snap(b, "wang-new-balance")

    expect_balance(a, "3.5 小时")  # Li's page refreshed itself: no reload
    expect(a.locator("#statement tbody tr").first).to_contain_text("+1.5 小时")
    expect(a.locator("#unconfirmed")).to_have_count(0)
    screens.snap(a, "li-credited-without-reload")

    # Each confirmation screen named the other resident: both openings are on the record; so
    # is the list of help waiting for Wang, which named Li (masked), as one list view.
    position = site.bone.timebank.last_position()
    opened = site.bone.read_side.query(
        ("access_log",), position, lambda db: access_log.entries(db, None, limit=10)
    )
    assert {(row["member_id"], row["actor"]) for row in opened} == {
        (str(wang.member_id), f"member:{li.member_id}"),
        (str(li.member_id), f"member:{wang.member_id}"),
        (access_log.LIST, f"member:{wang.member_id}"),
    }
    naming_li = site.bone.read_side.query(
        ("access_log",),
        position,
        lambda db: access_log.entries(db, li.member_id, limit=10),
    )
    assert {row["member_id"] for row in naming_li} == {str(li.member_id), access_log.LIST}

    change_settings(site, kiosk_idle_seconds=KIOSK_IDLE_SECONDS)
    a.get_by_role("link", name="社区时间银行").click()  # home again; then Li walks away
    countdown = a.locator(".countdown")
    expect(countdown).to_contain_text("秒后自动退出")
    expect(countdown).to_have_class(re.compile("low"))
    screens.snap(a, "li-idle-countdown")
    expect(a.locator("#member_number")).to_be_visible()
    expect(countdown).to_have_count(0)
    screens.snap(a, "li-signed-out-by-idling")
    a.goto("/kiosk")  # the server's session ended too
    expect(a.locator("#member_number")).to_be_visible()


def test_refusals_are_said_in_the_residents_language_and_record_nothing(site, screens):
    kiosk = site.kiosk()
    li = register(site, "李师傅", minutes=120)
    wang = register(site, "王阿姨")
    change_settings(site, kiosk_idle_seconds=600)
    page = screens.person(kiosk=kiosk)

    sign_in_on_pad(page, li, pin="1357")
    notice = page.locator("#notice")
    expect(notice).not_to_be_empty()
    wrong_pin = notice.inner_text()
    assert re.search(r"[\u4e00-\u9fff]", wrong_pin) and untranslated(page) == []
    expect(page.locator("#member_number")).to_be_visible()  # still on the number pad
    screens.snap(page, "wrong-pin")
    for _ in range(4):  # the keyboard works as well as the pad
        page.locator("#member_number").fill(li.number)
        page.locator("#pin").fill("1357")
        with page.expect_response(lambda answer: answer.request.method == "POST"):
            page.locator("form.with-pad button[type=submit]").click()
        expect(page.locator("#pin")).to_have_value("")
    expect(notice).to_contain_text("已锁定")  # the fifth wrong PIN locked the number
    sign_in_on_pad(page, li)  # the right PIN, but the number is locked now
    expect(notice).to_contain_text("已锁定")
    expect(notice).not_to_have_text(wrong_pin)
    assert untranslated(page) == []
    screens.snap(page, "locked")

    helper = screens.person(kiosk=kiosk)
    sign_in_on_pad(helper, wang)
    helper.get_by_role("link", name="记录我给的帮助").click()
    helper.locator("#receiver").fill(li.number)
    helper.locator("#minutes").fill("600")  # more than one exchange may carry (480)
    helper.get_by_text("陪伴聊天").click()
    before = site.bone.timebank.last_position()
    helper.get_by_role("button", name="下一步").click()
    expect(helper.locator("#notice .notice-error")).not_to_be_empty()
    assert re.search(r"[\u4e00-\u9fff]", helper.locator("#notice").inner_text())
    assert untranslated(helper) == []
    expect(helper.locator("#receiver")).to_have_value(li.number)  # the form is still there
    screens.snap(helper, "too-long-refused")
    assert site.bone.timebank.last_position() == before
    awaiting = site.bone.read_side.query(
        ("exchanges",),
        before,
        lambda db: exchanges.awaiting(db, account=str(li.account_id), role="receiver", limit=5),
    )
    assert awaiting == []

    # Wang has earned nothing to give: the domain says so before any question is asked.
    helper.goto("/kiosk/donate")
    helper.get_by_role("button", name="1 小时").click()
    helper.get_by_role("button", name="下一步").click()
    expect(helper.locator("#notice .notice-error")).not_to_be_empty()
    expect(helper.locator("#question")).to_have_count(0)
    assert untranslated(helper) == []
    screens.snap(helper, "donation-over-balance-refused")
    assert site.bone.timebank.last_position() == before

    # The read models behind (the broker down, say): the page says so, in Chinese.
    change_settings(site, read_wait_seconds=0.2)
    helper.goto(f"/kiosk?after={site.bone.timebank.last_position() + 1000}")
    expect(helper.locator(".notice-error")).not_to_be_empty()
    assert untranslated(helper) == []
    screens.snap(helper, "read-model-behind")


def test_a_resident_gives_to_the_pool_objects_posts_logs_hours_supports_and_votes(site, screens):
    zhao = neighbourhood(site).zhao
    change_settings(site, kiosk_idle_seconds=600)
    page = screens.person(kiosk=site.kiosk())
    sign_in_on_pad(page, zhao)

    page.get_by_role("link", name="向公益池捐时间").click()
    page.get_by_role("button", name="1 小时").click()
    page.get_by_role("button", name="下一步").click()
    expect(page.locator("#question")).to_have_text(
        "您将向公益池捐出 1 小时 — 将从您的账户转出 1 小时，确认？"
    )
    screens.snap(page, "donation-in-plain-words")
    page.locator("#yes").click()
    expect(page.locator("#done")).to_have_text("已捐出。感谢您为公益池捐出时间！")
    expect_balance(page, "2 小时")
    screens.snap(page, "donated")

    page.get_by_role("link", name="回到首页").click()
    open_first_waiting(page)
    page.get_by_role("link", name="有问题：提出异议").click()
    page.get_by_text("时间不对").click()
    page.locator("#words").fill("只帮了半小时")
    screens.snap(page, "objection")
    page.get_by_role("button", name="提交异议").click()
    expect(page.locator("#done")).to_contain_text("您的异议已记录")
    expect(page.get_by_role("link", name=re.compile("等您确认"))).to_have_count(0)
    expect_balance(page, "2 小时")  # held: nothing moved

    page.get_by_role("link", name="回到首页").click()
    page.get_by_role("link", name="互助信息").click()
    page.get_by_role("link", name="发布互助信息").click()
    page.get_by_text("我可以提供这项帮助").click()
    page.get_by_text("家电维修").click()
    page.locator("#title").fill("修收音机")
    page.get_by_role("button", name="发布").click()
    listing = page.locator("#listings li", has_text="修收音机")
    expect(listing).to_contain_text("发布中")
    screens.snap(page, "listing-posted")
    listing.get_by_role("button", name="撤下").click()
    expect(page.locator("#listings li", has_text="修收音机")).to_contain_text("已撤下")

    page.get_by_role("link", name="回到首页").click()
    page.get_by_role("link", name="登记我的志愿服务时长").click()
    yesterday = datetime.now(site.bone.settings.zone).date() - timedelta(days=1)
    log_two_hours(page, yesterday.isoformat())
    expect(page.locator("#done")).to_contain_text("已提交审核")
    with speaking("zh_CN"):
        awaiting_approval = gettext("Awaiting approval")
        in_favour = gettext(LABELS["choice"]["yes"])
    expect(page.locator("#my-hours tbody tr").first).to_contain_text("陪伴独居老人")
    expect(page.locator("#my-hours tbody tr").first).to_contain_text(awaiting_approval)
    screens.snap(page, "hours-logged")

    page.get_by_role("link", name="回到首页").click()
    page.get_by_role("link", name="居民议事会").click()
    page.get_by_role("link", name=re.compile("楼道加装扶手")).click()
    page.get_by_role("button", name="我附议").click()
    expect(page.locator("#support")).to_contain_text("已有 1 人")
    page.get_by_role("link", name="回到议事会").click()
    page.get_by_role("link", name=re.compile("东门加装长椅")).click()
    page.get_by_role("link", name=in_favour).click()
    expect(page.locator("#question")).to_have_text(
        f"您将对「东门加装长椅」投「{in_favour}」票 — 确认？"
    )
    screens.snap(page, "vote-in-plain-words")
    page.locator("#yes").click()
    expect(page.locator("#my-vote")).to_contain_text(in_favour)
    expect(page.locator("#turnout")).to_contain_text("已有 1 人投票")
    screens.snap(page, "voted")
