"""Registration without friction (issue 15, item 12): the station's privacy notice is the
default and can be read; the coordinator never learns the PIN — they hand over a one-time
code with which the resident chooses their own at the kiosk; a volunteer's gender is a
choice, and registering a volunteer ends on a word that it worked."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from domain.identity import Member, member_id_for
from domain.ledger import AccountKind, account_id_for
from tests.browser.conftest import Site, serious_violations, untranslated
from tests.browser.kiosk_people import Resident, change_settings, sign_in_on_pad, tap_digits
from tests.browser.test_console import coordinator

NOTICE = "station-2026.1"
NOTICE_TEXT = "幸福社区社工站个人信息保护告知书\n\n我们只收集为您提供服务所必需的信息。"
KIOSK = {"width": 1080, "height": 1920}
CHOSEN = "246810"


def clean(page: Page) -> None:
    assert serious_violations(page) == []
    assert untranslated(page) == []


def register_on_the_console(screens, site: Site) -> tuple[Page, str, str]:
    """The coordinator registers 张三 with the station's notice; returns the coordinator's
    page, the member number and the setup code."""
    page = coordinator(screens, site)
    page.goto("/console/members/new")
    expect(page.locator("#notice_version")).to_have_value(NOTICE)
    assert page.locator("#pin").count() == 0  # staff never type the resident's PIN
    clean(page)
    for field, value in {
        "#display_name": "张三",
        "#building": "5号楼",
        "#household": "5-101",
        "#phone": "13700000000",
    }.items():
        page.locator(field).fill(value)
    page.get_by_role("button", name="登记", exact=True).click()
    code = page.locator("#setup-code").inner_text().strip()
    number = page.locator("#member-number").inner_text().strip()
    assert len(code) == 8 and code.isdigit()
    expect(page.locator("#setup-code-slip")).to_contain_text("只能用一次")
    expect(page.locator("main")).to_contain_text(f"告知书 {NOTICE}")
    assert code not in page.url
    clean(page)
    screens.snap(page, "registered-with-code")
    page.reload()  # shown once: the code is not on the member's page again
    expect(page.locator("#setup-code")).to_have_count(0)
    return page, number, code


def test_a_resident_registered_without_a_pin_chooses_their_own_at_the_kiosk(
    screens, site, tmp_path
):
    notice = tmp_path / "notice.txt"
    notice.write_text(NOTICE_TEXT, encoding="utf-8")
    change_settings(site, privacy_notice_version=NOTICE, privacy_notice_file=str(notice))
    reader = screens.person()
    reader.goto("/privacy-notice")
    expect(reader.locator("main")).to_contain_text("我们只收集为您提供服务所必需的信息")
    expect(reader.locator("#notice-version")).to_contain_text(NOTICE)
    clean(reader)

    _, number, code = register_on_the_console(screens, site)
    member = site.bone.timebank.find(member_id_for(number), Member)
    assert member is not None and member.consent == NOTICE

    page = screens.person(kiosk=site.kiosk(), viewport=KIOSK)
    page.goto("/kiosk/sign-in")
    page.get_by_role("link", name="第一次使用？用社工给的设置码设置密码").click()
    clean(page)
    page.locator("#member_number").click()
    tap_digits(page, number + code + CHOSEN + "135790")
    page.get_by_role("button", name="设置密码").click()
    expect(page.locator("#refusal")).to_contain_text("两次输入的密码不一样")
    expect(page.locator("#member_number")).to_have_value(number)
    page.locator("#setup_code").fill(code)
    page.locator("#pin").fill(CHOSEN)
    page.locator("#pin_again").fill(CHOSEN)
    screens.snap(page, "first-pin")
    page.get_by_role("button", name="设置密码").click()
    expect(page.locator("#pin-chosen")).to_contain_text("密码已设置好")
    clean(page)
    screens.snap(page, "pin-chosen")
    account = account_id_for(str(member.id), AccountKind.MEMBER)
    sign_in_on_pad(page, Resident("张三", number, member.id, account), CHOSEN)
    expect(page).to_have_url(f"{site.url}/kiosk")

    # The code worked once: used again, it is refused in words.
    page.goto("/kiosk/first-pin")
    page.locator("#member_number").fill(number)
    page.locator("#setup_code").fill(code)
    page.locator("#pin").fill("1111")
    page.locator("#pin_again").fill("1111")
    page.get_by_role("button", name="设置密码").click()
    expect(page.locator("#refusal")).to_contain_text("已经用过或已过期")


def test_a_volunteer_registered_with_gender_chosen_ends_on_a_success_message(screens, site):
    change_settings(site, privacy_notice_version=NOTICE)
    page, number, _ = register_on_the_console(screens, site)
    page.goto(f"/console/members?number={number}")
    page.get_by_role("link", name="登记为志愿者").click()
    gender = page.get_by_label("性别")
    expect(gender.locator("option")).to_have_text(["女", "男", "未说明"])
    clean(page)
    for field, value in {
        "#name": "张三",
        "#birth_date": "1958-05-01",
        "#id_number": "110101195805010011",
        "#area": "幸福社区",
        "#contact": "13700000000",
        "#consent_version": "volunteer-2026-01",
    }.items():
        page.locator(field).fill(value)
    gender.select_option(label="男")
    page.get_by_role("button", name="登记为志愿者").click()
    expect(page.get_by_role("status")).to_contain_text("已登记为志愿者")
    clean(page)
    screens.snap(page, "volunteer-registered")
