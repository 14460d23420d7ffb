"""A district administrator's stations in the console (issue 17): opening a station, registering
a kiosk there (the form asks which station, as the administrator works at several), and
closing the station after a confirmation."""

from __future__ import annotations

from playwright.sync_api import expect

from domain.identity import Role
from domain.station import Level, station_id_for
from services.identity.commands import Reach
from tests.browser.conftest import STAFF_PASSWORD, serious_violations, sign_in_staff, untranslated
from tests.browser.test_console import read_model
from tests.integration.support import create_staff

DISTRICT_ADMIN = "zhao.district"


def test_a_district_admin_opens_a_station_registers_a_kiosk_there_and_closes_it(screens, site):
    district = Reach(level=Level.DISTRICT, district=site.bone.settings.district)
    create_staff(site.bone.timebank, DISTRICT_ADMIN, Role.ADMIN, STAFF_PASSWORD, reach=district)
    page = screens.person()
    sign_in_staff(page, DISTRICT_ADMIN)

    page.locator("header nav").get_by_role("link", name="站点", exact=True).click()
    page.locator("#code").fill("xh-02")
    page.locator("#name").fill("北山社区")
    page.locator("#district").fill(site.bone.settings.district)
    page.locator("#street").fill("北山街道")
    page.get_by_role("button", name="开设站点").click()
    expect(page.locator(".notice-ok")).to_contain_text("站点已开设")
    expect(page.locator("#station-code")).to_have_text("xh-02")
    assert untranslated(page) == []
    assert serious_violations(page) == []
    screens.snap(page, "station-opened")

    page.goto("/console/kiosks")
    page.locator("#name").fill("北山社区 一楼大厅")
    page.locator("#station").select_option(label="北山社区 (xh-02) · 北山街道")
    page.get_by_role("button", name="登记").click()
    expect(page.locator("#device-code-slip")).to_be_visible()
    kiosk_id = page.url.split("/console/kiosks/")[1].split("?")[0]
    stood = read_model(
        site,
        lambda db: db.one(
            "SELECT station_id FROM kiosks WHERE kiosk_id = %(id)s", {"id": kiosk_id}
        ),
    )
    assert stood == {"station_id": str(station_id_for("xh-02"))}

    page.goto(f"/console/stations/{station_id_for('xh-02')}")
    page.locator("#close-reason").fill("并入西溪社区")
    page.get_by_role("button", name="查看关闭说明").click()
    expect(page.locator("body")).to_contain_text("此操作无法撤销")
    page.get_by_role("button", name="确认关闭").click()
    expect(page.locator("#station-status")).to_have_text("已关闭")
    assert untranslated(page) == []
