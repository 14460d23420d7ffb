"""Family at the kiosk (亲属转赠): a grandmother registers her grandson, he agrees at the
kiosk, and she gives him an hour she earned helping a neighbour — each step said in plain
words, naming the relative, before anything is recorded."""

from __future__ import annotations

from playwright.sync_api import expect

from domain.ledger import TimeAccount
from services.exchange import handlers as exchange
from services.exchange.commands import ConfirmHelp, PairIn, RecordHelp
from tests.browser.conftest import serious_violations, untranslated
from tests.browser.kiosk_people import Resident, change_settings, register, sign_in_on_pad
from tests.integration.support import acting


def earned(site, helper: Resident, helped: Resident, minutes: int) -> None:
    """``helper`` helped ``helped``, who confirmed it: minutes earned by service."""
    app = site.bone.timebank
    pair = PairIn(provider=helper.account_id, receiver=helped.account_id, minutes=minutes)
    recorded = exchange.record(
        RecordHelp(idempotency_key=f"help-{helper.number}", pairs=[pair], description="买菜"),
        acting(app),
    )
    confirming = ConfirmHelp(
        idempotency_key=f"confirm-{helper.number}",
        exchange_id=recorded.id,
        receiver=helped.account_id,
    )
    exchange.confirm(confirming, acting(app))


def balance(site, resident: Resident) -> int:
    account = site.bone.timebank.find(resident.account_id, TimeAccount)
    assert account is not None
    return account.balance


def test_a_grandmother_registers_her_grandson_and_gives_him_an_hour_once_he_agrees(site, screens):
    kiosk = site.kiosk()
    grandma, grandson = register(site, "王奶奶"), register(site, "王小明")
    earned(site, grandma, register(site, "李阿姨"), 60)
    change_settings(site, kiosk_idle_seconds=600)

    a = screens.person(kiosk=kiosk)
    sign_in_on_pad(a, grandma)
    a.get_by_role("link", name="我的亲属").click()
    a.locator("#kin").fill(grandson.number)
    a.get_by_text("孙子女/外孙子女").click()
    a.get_by_role("button", name="下一步").last.click()
    expect(a.locator("#question")).to_have_text("您将登记 王小明 为您的孙子女/外孙子女。确认吗？")
    a.locator("#yes").click()
    expect(a.locator("#done")).to_be_visible()
    screens.snap(a, "grandma-registered-grandson")

    # Before he agrees, a gift is refused before anything is asked.
    a.goto(f"{site.url}/kiosk/family")
    a.locator("#relative").fill(grandson.number)
    a.locator("#minutes").fill("60")
    before = site.bone.timebank.last_position()
    a.get_by_role("button", name="下一步").first.click()
    expect(a.locator("#notice .notice-error")).to_contain_text("尚未确认")
    assert site.bone.timebank.last_position() == before

    b = screens.person(kiosk=kiosk)
    sign_in_on_pad(b, grandson)
    b.get_by_role("link", name="我的亲属").click()
    b.get_by_role("button", name="查看并同意").click()
    expect(b.locator("#question")).to_contain_text("王奶奶 将您登记为亲属")
    b.locator("#yes").click()
    expect(b.locator("#done")).to_be_visible()
    screens.snap(b, "grandson-agreed")

    a.goto(f"{site.url}/kiosk/family")
    expect(a.get_by_role("list", name="已与您登记的亲属")).to_contain_text(
        "孙子女/外孙子女 · 已确认"
    )
    expect(a.locator("#may-give")).to_have_text("您最多可以转赠 1 小时。")
    a.locator("#relative").fill(grandson.number)
    a.get_by_role("button", name="1 小时").click()
    a.get_by_role("button", name="下一步").first.click()
    expect(a.locator("#question")).to_have_text("您将把 1 小时 转赠给 王小明。确认吗？")
    a.locator("#yes").click()
    expect(a.locator("#done")).to_be_visible()
    assert (balance(site, grandma), balance(site, grandson)) == (0, 60)
    assert untranslated(a) == []
    assert serious_violations(a) == []
    screens.snap(a, "grandma-gave-an-hour")
