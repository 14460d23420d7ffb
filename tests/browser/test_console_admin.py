"""The administrator's work in the console (issue 15, item 8): staff accounts (list, create, a
new password, deactivation after a confirmation — then the account signs in no more and its
sessions end) and kiosks (list, register with a device code shown once and how to set the
screen up, retire after a confirmation — then its code signs nobody in)."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from domain.identity import Role
from services.pages import refusals
from services.pages.i18n import speaking
from services.web.auth import KIOSK_TOKEN_HEADER
from tests.browser.conftest import (
    make_staff,
    serious_violations,
    sign_in_staff,
    untranslated,
)
from tests.browser.kiosk_people import register, sign_in_on_pad
from tests.integration.support import PIN

ADMIN = "wang.admin"
KIOSK_SCREEN = {"width": 1080, "height": 1920}


def said(code: str) -> str:
    with speaking("zh_CN"):
        return refusals.explain_code(code)


def admin(screens, site, lang: str = "zh_CN") -> Page:
    make_staff(site, ADMIN, Role.ADMIN)
    page = screens.person(lang=lang)
    sign_in_staff(page, ADMIN)
    return page


def sign_in_with(page: Page, username: str, password: str) -> None:
    page.goto("/console/sign-in")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()


def unchecked(page: Page) -> None:
    """As a browser that checks nothing sends the form: the service has to say no itself."""
    page.evaluate(
        "document.querySelectorAll('[required],[minlength],[pattern]').forEach((field) => {"
        " field.removeAttribute('required'); field.removeAttribute('minlength');"
        " field.removeAttribute('pattern'); })"
    )


def create_account(page: Page, username: str, role: str, password: str, title: str = "") -> None:
    page.goto("/console/staff")
    unchecked(page)
    page.locator("#username").fill(username)
    page.locator("#role").select_option(role)
    page.locator("#title").select_option(title)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="开设账户").click()


def test_an_admin_creates_an_account_gives_it_a_password_and_deactivation_ends_it(screens, site):
    page = admin(screens, site)
    expect(page).to_have_url(f"{site.url}/console")  # an admin lands on the overview
    nav = page.locator("header nav")
    expect(nav.get_by_role("link", name="职员账户")).to_be_visible()
    expect(nav.get_by_role("link", name="自助服务机")).to_be_visible()
    nav.get_by_role("link", name="职员账户").click()
    expect(page.locator("#staff-accounts tbody tr", has_text=ADMIN)).to_contain_text("管理员")
    assert untranslated(page) == []
    assert serious_violations(page) == []
    screens.snap(page, "staff-accounts")

    create_account(page, "li.coord", "coordinator", "first password 1")
    expect(page.locator(".notice-ok")).to_contain_text("账户已开通")
    expect(page.locator("#account-status")).to_have_text("在册")
    assert serious_violations(page) == []
    screens.snap(page, "account-created")

    before = site.bone.timebank.last_position()
    for username, role, password, title, code in [
        ("li.coord", "coordinator", "another password", "", "username-taken"),
        ("zhao.council", "council", "a long password", "", "council-title"),
        ("zhao.council", "coordinator", "short", "", "weak-password"),
    ]:
        create_account(page, username, role, password, title)
        expect(page.locator("main")).to_contain_text(said(code))
    create_account(page, "Not A Name!", "coordinator", "a long password")
    # the form's types: refused in words, never a server error
    expect(page.locator("main")).to_contain_text("填写的内容有误")
    assert site.bone.timebank.last_position() == before

    desk = screens.person()
    sign_in_with(desk, "li.coord", "first password 1")
    expect(desk.locator("header nav").get_by_role("link", name="审批")).to_be_visible()
    expect(desk.locator("header nav").get_by_role("link", name="职员账户")).to_have_count(0)
    api = httpx.post(
        f"{site.url}/api/v1/auth/staff",
        json={"username": "li.coord", "password": "first password 1"},
    )
    assert api.status_code == 201, api.text

    page.goto("/console/staff")
    page.get_by_role("link", name="li.coord").click()
    page.locator("#password").fill("second password 2")
    page.get_by_role("button", name="设置密码").click()
    expect(page.locator(".notice-ok")).to_contain_text("密码已更改")
    other = screens.person()
    sign_in_with(other, "li.coord", "first password 1")
    expect(other.locator("main")).to_contain_text(said("wrong-credentials"))

    page.locator("#reason").fill("调往其他社工站")
    page.get_by_role("button", name="查看停用后果").click()
    expect(page.locator("#confirm-heading")).to_have_text("停用账户 li.coord？")
    expect(page.locator("#confirm")).to_contain_text("调往其他社工站")
    assert serious_violations(page) == []
    screens.snap(page, "deactivation-confirmation")
    assert site.bone.timebank.last_position() == before + 1  # the new password alone
    page.get_by_role("button", name="确认停用").click()
    expect(page.locator(".notice-ok")).to_contain_text("账户已停用")
    expect(page.locator("#account-status")).to_have_text("已停用")
    expect(page.locator("#password")).to_have_count(0)
    screens.snap(page, "account-deactivated")

    desk.goto("/console/hours")  # the open session ends
    expect(desk).to_have_url(f"{site.url}/console/sign-in?next=/console/hours")
    sign_in_with(desk, "li.coord", "second password 2")
    expect(desk.locator("main")).to_contain_text(said("wrong-credentials"))
    refreshed = httpx.post(
        f"{site.url}/api/v1/auth/refresh",
        headers={"Authorization": f"Bearer {api.json()['token']}"},
    )
    assert refreshed.status_code == 401

    page.goto("/console/staff")
    expect(page.locator("#staff-accounts tbody tr", has_text="li.coord")).to_contain_text("已停用")


def test_deactivating_without_a_reason_is_refused_in_words_before_any_confirmation(screens, site):
    make_staff(site, "li.coord", Role.COORDINATOR)
    page = admin(screens, site)
    page.goto("/console/staff")
    page.get_by_role("link", name="li.coord").click()
    before = site.bone.timebank.last_position()
    unchecked(page)
    page.get_by_role("button", name="查看停用后果").click()
    expect(page.locator("main")).to_contain_text(said("reason-required"))
    expect(page.locator("#confirm")).to_have_count(0)
    page.goto("/console/staff/00000000-0000-0000-0000-000000000000")
    expect(page.locator("main")).to_contain_text(said("staff-not-found"))
    assert site.bone.timebank.last_position() == before


def test_an_admin_registers_a_kiosk_its_screen_is_set_up_with_the_code_and_retiring_it_ends_it(
    screens, site
):
    wang = register(site, "王秀英")
    page = admin(screens, site)
    page.locator("header nav").get_by_role("link", name="自助服务机").click()
    expect(page.locator("#kiosks tbody")).to_contain_text("还没有自助服务机")
    assert serious_violations(page) == []
    page.locator("#name").fill("社区活动中心一楼")
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.locator(".notice-ok")).to_contain_text("自助服务机已登记")
    code = page.locator("#device-code").inner_text().strip()
    assert len(code) > 20
    expect(page.locator("#kiosk-instructions")).to_contain_text("/kiosk/enrol")
    assert untranslated(page) == []
    assert serious_violations(page) == []
    screens.snap(page, "kiosk-registered-code-once")
    page.reload()
    expect(page.locator("#device-code")).to_have_count(0)  # shown only once

    screen = screens.person(viewport=KIOSK_SCREEN)
    screen.goto("/kiosk/enrol")
    assert serious_violations(screen) == []
    screen.locator("#code").fill("not-the-code")
    screen.get_by_role("button", name="设为自助机").click()
    expect(screen.locator("#refusal")).to_contain_text("这个设备码不属于任何在用的自助服务机")
    expect(screen.locator("#code")).to_have_value("not-the-code")
    screen.locator("#code").fill(code)
    screen.get_by_role("button", name="设为自助机").click()
    expect(screen.locator("#member_number")).to_be_visible()
    screens.snap(screen, "kiosk-set-up-with-the-code")
    sign_in_on_pad(screen, wang)
    expect(screen.locator("#balance")).to_be_visible()

    page.goto("/console/kiosks")
    page.get_by_role("link", name="社区活动中心一楼").click()
    unchecked(page)
    page.get_by_role("button", name="核对停用").click()  # no reason: said, nothing asked
    expect(page.locator("main")).to_contain_text(said("reason-required"))
    expect(page.locator("#confirm")).to_have_count(0)
    page.go_back()
    page.locator("#reason").fill("屏幕已更换")
    page.get_by_role("button", name="核对停用").click()
    expect(page.locator("#confirm-heading")).to_have_text("停用自助服务机“社区活动中心一楼”？")
    assert serious_violations(page) == []
    screens.snap(page, "kiosk-retirement-confirmation")
    page.get_by_role("button", name="确认停用").click()
    expect(page.locator(".notice-ok")).to_contain_text("自助服务机已停用")
    expect(page.locator("#kiosk-status")).to_have_text("已停用")

    screen.goto("/kiosk")  # the resident's session there ends
    expect(screen.locator("#member_number")).to_be_visible()
    sign_in_on_pad(screen, wang)
    expect(screen.locator("#refusal")).to_contain_text(said("unknown-kiosk"))
    signed = httpx.post(
        f"{site.url}/api/v1/auth/kiosk",
        json={"member_number": wang.number, "pin": PIN},
        headers={KIOSK_TOKEN_HEADER: code},
    )
    assert signed.status_code == 401
    page.goto("/console/kiosks")
    expect(page.locator("#kiosks tbody tr", has_text="社区活动中心一楼")).to_contain_text("已停用")


def test_the_admin_pages_speak_english_and_are_closed_to_coordinators(screens, site):
    page = admin(screens, site, lang="en")
    page.goto("/console/staff")
    expect(page.locator("h1")).to_have_text("Staff accounts")
    expect(page.locator("#new-account-heading")).to_have_text("New staff account")
    assert serious_violations(page) == []
    page.goto("/console/kiosks")
    expect(page.locator("h1")).to_have_text("Kiosks")
    assert serious_violations(page) == []

    make_staff(site, "li.coord", Role.COORDINATOR)
    desk = screens.person()
    sign_in_staff(desk, "li.coord")
    expect(desk.locator("header nav").get_by_role("link", name="自助服务机")).to_have_count(0)
    for path in ("/console/staff", "/console/kiosks"):
        answer = desk.goto(path)
        assert answer is not None and answer.status == 403
        expect(desk.locator("main")).to_contain_text("您的账户不能做这件事")
