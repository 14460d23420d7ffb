"""What a coordinator did only through the API before (issue 15, item 8), now in the console:
the exchange rules and the help categories under Settings, a member's account limits, help
confirmed for its receiver, withdrawn or corrected — each after a confirmation the domain was
asked about first, a refusal said in words with nothing recorded."""

from __future__ import annotations

import uuid
from datetime import timedelta

from playwright.sync_api import Page, expect

from domain.ledger import Limits, TimeAccount
from projections import exchanges
from services.exchange.commands import PairIn, RecordHelp
from services.exchange.handlers import record, rules_in_force
from services.identity import records as identity
from services.listings import handlers as listings
from tests.browser.conftest import Site, serious_violations, untranslated
from tests.browser.test_console import coordinator, read_model, said, settled
from tests.browser.test_console_pages import balance_of, disputed_exchange
from tests.integration.support import acting, register_resident


def clean(page: Page, screens, name: str) -> None:
    """The screen as it is now passes axe, says nothing in English, and is kept."""
    assert serious_violations(page) == [], name
    assert untranslated(page) == [], name
    screens.snap(page, name)


def refused_with(page: Page, site: Site, code: str, before: int) -> None:
    expect(page.locator("#notice .notice-error")).to_have_text(said(code))
    assert site.bone.timebank.last_position() == before


def test_the_exchange_rules_are_changed_with_a_reason_under_settings(screens, site):
    page = coordinator(screens, site)
    page.get_by_role("link", name="站点设置").click()
    expect(page.locator("#max-minutes")).to_have_text("8 小时")  # the station's 480 minutes
    clean(page, screens, "settings")

    before = site.bone.timebank.last_position()
    page.locator("#max_minutes").fill("240")
    page.get_by_role("button", name="核对修改").click()
    refused_with(page, site, "reason-required", before)

    page.locator("#rules-reason").fill("议事会决定缩短单次时长")
    page.get_by_role("button", name="核对修改").click()
    expect(page.locator("#confirm")).to_contain_text("每对居民最多可记录 4 小时")
    expect(page.locator("#confirm")).to_contain_text("已经记录的交换仍按记录时的规则处理")
    clean(page, screens, "confirm-rules")
    assert site.bone.timebank.last_position() == before
    page.get_by_role("button", name="是，修改规则").click()
    expect(page.locator("#max-minutes")).to_have_text("4 小时")
    assert rules_in_force(site.bone.timebank).max_minutes == 240

    page.get_by_role("link", name="English").click()
    expect(page.locator("#max-minutes")).to_have_text("4 hours")
    assert serious_violations(page) == []
    screens.snap(page, "settings-en")


def test_a_category_is_added_and_retired_and_listings_keep_it(screens, site):
    page = coordinator(screens, site)
    page.goto("/console/settings")
    page.get_by_role("link", name="管理类别").click()
    expect(page.locator("#category-home-visits")).to_contain_text("上门探访")
    assert serious_violations(page) == []  # the English names are shown as they are
    screens.snap(page, "categories")

    before = site.bone.timebank.last_position()
    page.locator("#code").fill("Garden Work")
    page.locator("#name_zh").fill("园艺")
    page.locator("#name_en").fill("Gardening")
    page.get_by_role("button", name="添加").click()
    refused_with(page, site, "invalid-category-code", before)

    page.locator("#code").fill("gardening")
    page.get_by_role("button", name="添加").click()
    expect(page.locator("#categories .notice-ok")).to_have_text("已新增类别“园艺”。")
    expect(page.locator("#category-gardening")).to_contain_text("在用")
    assert "gardening" in listings.categories_of(site.bone.timebank).names

    before = site.bone.timebank.last_position()
    page.locator("#retire-code").select_option("gardening")
    page.get_by_role("button", name="核对停用").click()
    refused_with(page, site, "reason-required", before)
    page.locator("#retire-reason").fill("冬季暂停")
    page.get_by_role("button", name="核对停用").click()
    expect(page.locator("#confirm")).to_contain_text("停用类别“园艺”？")
    expect(page.locator("#confirm")).to_contain_text(
        "已经按它发布的帮助信息和记录的服务时长保持不变"
    )
    clean(page, screens, "confirm-retirement")
    assert site.bone.timebank.last_position() == before
    page.get_by_role("button", name="是，停用").click()
    expect(page.locator("#category-gardening")).to_contain_text("已停用")
    assert "gardening" in listings.categories_of(site.bone.timebank).retired
    expect(page.locator("#retire-code option[value=gardening]")).to_have_count(0)


def test_a_members_limits_are_set_from_their_page_and_a_grant_starts_there(screens, site):
    resident = register_resident(site.bone, "孙奶奶")
    settled(site)
    page = coordinator(screens, site)
    page.goto(f"/console/members/{resident.id}")
    page.get_by_role("link", name="账户额度").click()
    expect(page.locator("#account-floor")).to_have_text("-10 小时")
    expect(page.locator("#account-balance")).to_have_text("0 小时")
    clean(page, screens, "limits")

    before = site.bone.timebank.last_position()
    page.locator("#floor").fill("120")
    page.locator("#limits-reason").fill("照顾困难老人")
    page.get_by_role("button", name="核对修改").click()
    refused_with(page, site, "invalid-limits", before)
    page.locator("#floor").fill("十小时")  # not a number of minutes: the form says so
    page.get_by_role("button", name="核对修改").click()
    expect(page.locator("#notice .notice-error")).to_have_text("填写的内容有误，请检查后再试。")
    assert site.bone.timebank.last_position() == before

    page.locator("#floor").fill("-1200")
    page.locator("#cap").fill("")
    page.get_by_role("button", name="核对修改").click()
    expect(page.locator("#confirm")).to_contain_text(
        f"居民 {resident.member_number} 的余额最低可到 -20 小时"
    )
    expect(page.locator("#confirm")).to_contain_text("最高可到 不限")
    clean(page, screens, "confirm-limits")
    assert site.bone.timebank.last_position() == before
    page.get_by_role("button", name="是，修改额度").click()
    expect(page.locator("#account-floor")).to_have_text("-20 小时")
    expect(page.locator("#account-cap")).to_have_text("不设上限")
    account = site.bone.timebank.find(resident.account_id, TimeAccount)
    assert account is not None and account.limits == Limits(floor=-1200, cap=None)

    page.get_by_role("link", name="返回居民").click()
    page.get_by_role("link", name="从公益池拨付").click()
    expect(page.locator("#member_number")).to_have_value(resident.member_number)


def recorded_help(
    site: Site, minutes: int = 90
) -> tuple[uuid.UUID, identity.Registered, identity.Registered]:
    """Resident A helped B for ``minutes``; it awaits B's confirmation. (exchange, A, B)"""
    giver, receiver = register_resident(site.bone, "王阿姨"), register_resident(site.bone, "李大爷")
    assert giver.account_id is not None and receiver.account_id is not None
    now = site.bone.clock()
    recorded = record(
        RecordHelp(
            idempotency_key=uuid.uuid4().hex,
            pairs=[
                PairIn(provider=giver.account_id, receiver=receiver.account_id, minutes=minutes)
            ],
            description="陪同就医",
            occurred_at=now - timedelta(hours=3),
        ),
        acting(site.bone.timebank, now),
    )
    return recorded.id, giver, receiver


def status_of(site: Site, exchange_id: uuid.UUID) -> str:
    row = read_model(site, lambda db: exchanges.exchange(db, str(exchange_id)))
    assert row is not None
    return row["status"]


def test_help_is_confirmed_for_its_receiver_then_corrected_and_another_withdrawn(screens, site):
    confirmed, giver, receiver = recorded_help(site)
    mistaken, _, _ = recorded_help(site, 30)
    settled(site)
    page = coordinator(screens, site)
    page.goto("/console/exchanges?status=awaiting_confirmation")
    page.locator(f"a[href='/console/exchanges/{confirmed}']").click()
    clean(page, screens, "awaiting")
    page.get_by_role("button", name="核对确认").click()
    expect(page.locator("#confirm")).to_contain_text(
        f"代居民 {receiver.member_number} 确认：居民 {giver.member_number} 帮助了他 1.5 小时"
    )
    clean(page, screens, "confirm-for-receiver")
    page.get_by_role("button", name="是的，确认").click()
    expect(page.locator("#exchange-status")).to_have_text("已结算")
    assert balance_of(site, giver.account_id) == 90
    assert balance_of(site, receiver.account_id) == -90

    before = site.bone.timebank.last_position()
    page.locator("#correct-minutes").fill("120")
    page.locator("#correct-reason").fill("实际只有一小时")
    page.get_by_role("button", name="核对更正").click()
    refused_with(page, site, "over-correction", before)
    page.locator("#correct-minutes").fill("30")
    page.get_by_role("button", name="核对更正").click()
    expect(page.locator("#confirm")).to_contain_text("一笔冲正转账退回 0.5 小时")
    clean(page, screens, "confirm-correction")
    page.get_by_role("button", name="是，更正").click()
    expect(page.locator("#exchange .notice-ok")).to_have_text("已更正。")
    assert balance_of(site, giver.account_id) == 60
    assert balance_of(site, receiver.account_id) == -60

    page.goto(f"/console/exchanges/{mistaken}")
    before = site.bone.timebank.last_position()
    page.get_by_role("button", name="核对撤回").click()
    refused_with(page, site, "reason-required", before)
    page.locator("#withdraw-reason").fill("记错了人")
    page.get_by_role("button", name="核对撤回").click()
    expect(page.locator("#confirm")).to_contain_text("这是误记")
    clean(page, screens, "confirm-withdrawal")
    page.get_by_role("button", name="是，撤回").click()
    expect(page.locator("#exchange-status")).to_have_text("已撤回")
    assert status_of(site, mistaken) == "withdrawn"


def test_a_resolution_the_domain_would_refuse_is_refused_before_the_question(screens, site):
    disputed_exchange(site)
    settled(site)
    page = coordinator(screens, site)
    page.goto("/console/exchanges")
    page.get_by_role("link", name="打开").click()
    before = site.bone.timebank.last_position()
    page.get_by_label("调整时长").check()  # yet the minutes stay as recorded
    page.locator("#resolution-reason").fill("双方确认")
    page.get_by_role("button", name="核对处理").click()
    refused_with(page, site, "nothing-adjusted", before)
    expect(page.locator("#confirm")).to_have_count(0)
    screens.snap(page, "nothing-adjusted-refused")
