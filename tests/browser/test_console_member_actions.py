"""What a coordinator does to a member's record on the console, as the API lets them (issue 15,
item 8): deactivate them after a confirmation the domain checked first; end a PIN lockout
with a new setup code, so the resident chooses their own PIN and signs in; record a consent
given on paper or its withdrawal; and erase a deactivated member's personal data after a
confirmation that says what goes and what stays. Refusals are said in words."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from domain.identity import PIN_ATTEMPTS, Member
from domain.ledger import AccountKind, TimeAccount, system_account_id
from services.identity.commands import SignInAtKiosk
from services.identity.records import SignInRefused
from services.identity.signin import kiosk_sign_in
from services.store.vault import PersonalDetails
from tests.browser.conftest import Site, serious_violations, sign_in_staff, untranslated
from tests.browser.kiosk_people import Resident, change_settings, register, sign_in_on_pad
from tests.browser.test_console import COORDINATOR, coordinator
from tests.integration.support import NOTICE, acting, deactivate_member

STATION_NOTICE = "station-2026.1"
KIOSK = {"width": 1080, "height": 1920}
CHOSEN = "135791"


def clean(page: Page) -> None:
    assert serious_violations(page) == []
    assert untranslated(page) == []


def member_of(site: Site, resident: Resident) -> Member:
    found = site.bone.timebank.find(resident.member_id, Member)
    assert found is not None
    return found


def balance(site: Site, account_id) -> int:
    account = site.bone.timebank.find(account_id, TimeAccount)
    assert account is not None
    return account.balance


def deactivated(site: Site, resident: Resident) -> None:
    deactivate_member(site.bone.timebank, resident.member_id, "搬离本社区", site.bone.clock())


def test_a_member_is_deactivated_after_a_confirmation_and_their_hours_go_to_the_pool(screens, site):
    li = register(site, "李师傅", minutes=180)
    pool = system_account_id(AccountKind.POOL)
    in_pool = balance(site, pool)
    page = coordinator(screens, site)
    page.goto(f"/console/members/{li.member_id}")
    stale = screens.person()  # a second coordinator's tab, opened before the deactivation
    stale.context.add_cookies(page.context.cookies())
    stale.goto(f"/console/members/{li.member_id}")

    # A reason that shows nothing is refused before the confirmation, by the domain.
    page.locator("#deactivation-reason").fill("   ")
    page.get_by_role("button", name="查看停用后果").click()
    expect(page.locator("main")).to_contain_text("请写明原因")
    page.goto(f"/console/members/{li.member_id}")

    page.locator("#deactivation-reason").fill("搬离本社区")
    page.get_by_role("button", name="查看停用后果").click()
    confirmation = page.locator("#confirm")
    expect(confirmation).to_contain_text(f"停用居民 {li.number}？")
    expect(confirmation).to_contain_text("3 小时转入社区公益池")
    expect(confirmation).to_contain_text("不能再在自助机登录")
    clean(page)
    screens.snap(page, "deactivation-confirm")
    assert member_of(site, li).is_active  # nothing recorded before the yes
    page.get_by_role("button", name="确认停用").click()
    expect(page.get_by_role("status")).to_contain_text("已停用")
    expect(page.locator("#member-status")).to_have_text("已停用")
    expect(page.locator("#deactivation-reason")).to_have_count(0)
    clean(page)
    screens.snap(page, "deactivated")
    assert not member_of(site, li).is_active
    assert balance(site, pool) == in_pool + 180

    # The stale tab's deactivation is refused before its confirmation, in words.
    stale.locator("#deactivation-reason").fill("重复操作")
    stale.get_by_role("button", name="查看停用后果").click()
    expect(stale.locator("main")).to_contain_text("已经停用")
    expect(stale.locator("#confirm")).to_have_count(0)

    english = screens.person(lang="en")
    sign_in_staff(english, COORDINATOR)
    wang = register(site, "王阿姨")
    english.goto(f"/console/members/{wang.member_id}")
    english.locator("#deactivation-reason").fill("Moved away")
    english.get_by_role("button", name="Review the deactivation").click()
    expect(english.locator("#confirm")).to_contain_text("it holds no hours")
    assert serious_violations(english) == []
    screens.snap(english, "deactivation-confirm-en")


def lock_out(site: Site, resident: Resident, kiosk_token: str) -> None:
    """Wrong PINs at the kiosk until the member number locks."""
    wrong = SignInAtKiosk(member_number=resident.number, pin="9999", kiosk_token=kiosk_token)
    for _ in range(PIN_ATTEMPTS):
        with pytest.raises(SignInRefused):
            kiosk_sign_in(wrong, acting(site.bone.timebank, site.bone.clock()))
    assert member_of(site, resident).pin_locked_until(site.bone.clock()) is not None


def test_a_locked_out_resident_gets_a_new_code_chooses_their_pin_and_signs_in(screens, site):
    kiosk = site.kiosk()
    zhao = register(site, "赵阿姨")
    lock_out(site, zhao, kiosk.token)
    page = coordinator(screens, site)
    page.goto(f"/console/members/{zhao.member_id}")
    expect(page.locator("#pin-locked")).to_contain_text("密码错误次数过多，锁定至")
    expect(page.locator("main")).to_contain_text("新设置码同时解除锁定")
    clean(page)
    screens.snap(page, "locked-out")
    page.get_by_role("button", name="生成新的设置码").click()
    code = page.locator("#setup-code").inner_text().strip()
    expect(page.locator("#pin-locked")).to_have_count(0)
    clean(page)

    at_kiosk = screens.person(kiosk=kiosk, viewport=KIOSK)
    at_kiosk.goto("/kiosk/first-pin")
    at_kiosk.locator("#member_number").fill(zhao.number)
    at_kiosk.locator("#setup_code").fill(code)
    at_kiosk.locator("#pin").fill(CHOSEN)
    at_kiosk.locator("#pin_again").fill(CHOSEN)
    at_kiosk.get_by_role("button", name="设置密码").click()
    expect(at_kiosk.locator("#pin-chosen")).to_contain_text("密码已设置好")
    sign_in_on_pad(at_kiosk, zhao, CHOSEN)
    expect(at_kiosk).to_have_url(f"{site.url}/kiosk")


def test_consent_withdrawn_and_given_again_on_paper_with_the_stations_notice(screens, site):
    change_settings(site, privacy_notice_version=STATION_NOTICE)
    qian = register(site, "钱师傅")
    page = coordinator(screens, site)
    page.goto(f"/console/members/{qian.member_id}")
    rows = page.locator("#consents tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("已同意")
    expect(rows.first).to_contain_text(NOTICE)

    page.get_by_role("button", name="记录撤回同意").click()
    expect(page.get_by_role("status")).to_contain_text("已记录撤回同意")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("已撤回")
    expect(rows.first).to_contain_text("coord.li")
    assert member_of(site, qian).consent is None
    expect(page.get_by_role("button", name="记录撤回同意")).to_have_count(0)

    expect(page.locator("#notice_version")).to_have_value(STATION_NOTICE)
    page.get_by_role("button", name="记录同意").click()
    expect(page.get_by_role("status")).to_contain_text("已记录同意")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text(STATION_NOTICE)
    assert member_of(site, qian).consent == STATION_NOTICE
    clean(page)
    screens.snap(page, "consents")

    # A version the form cannot hold is refused in words, and nothing is recorded.
    before = site.bone.timebank.last_position()
    version = page.locator("#notice_version")
    version.evaluate("field => field.removeAttribute('pattern')")
    version.fill("第二版 告知书")
    page.get_by_role("button", name="记录同意").click()
    expect(page.locator("main")).to_contain_text("填写的内容有误")
    assert site.bone.timebank.last_position() == before


def test_a_deactivated_members_personal_data_is_erased_after_a_plain_confirmation(screens, site):
    sun = register(site, "孙大爷")
    page = coordinator(screens, site)
    page.goto(f"/console/members/{sun.member_id}")
    expect(page.locator("#erasure-reason")).to_have_count(0)  # only once deactivated
    deactivated(site, sun)
    page.reload()

    # A blank reason gets its confirmation (nothing is checked before it), then the erasure
    # refuses it on the yes and deletes nothing.
    page.locator("#erasure-reason").fill("  ")
    page.get_by_role("button", name="查看删除内容").click()
    page.get_by_role("button", name="确认永久删除").click()
    expect(page.locator("main")).to_contain_text("请写明原因")
    found = member_of(site, sun)
    assert site.bone.vault.open(sun.member_id, found.sealed_details, PersonalDetails) is not None

    page.goto(f"/console/members/{sun.member_id}")
    page.locator("#erasure-reason").fill("本人要求删除个人信息")
    page.get_by_role("button", name="查看删除内容").click()
    confirmation = page.locator("#confirm")
    expect(confirmation).to_contain_text("无法撤销")
    expect(confirmation).to_contain_text("保留")
    clean(page)
    screens.snap(page, "erasure-confirm")
    page.get_by_role("button", name="确认永久删除").click()
    expect(page.get_by_role("status")).to_contain_text("个人信息已删除")
    expect(page.locator("#erased")).to_contain_text("该居民的个人信息已被删除")
    expect(page.locator("#erasure-reason")).to_have_count(0)
    expect(page.locator("#purpose")).to_have_count(0)  # nothing left to open
    clean(page)
    screens.snap(page, "erased")
    erased = member_of(site, sun)
    assert erased.is_erased
    assert site.bone.vault.open(sun.member_id, erased.sealed_details, PersonalDetails) is None
