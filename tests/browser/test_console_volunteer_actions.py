"""What a coordinator does to volunteers from the console, as the API lets them (issue 15, item
8): change a volunteer's status (confirmed first, a refusal shown before the yes), edit their
skills, categories and building, record awards and evaluations, record trainings with their
attendees, found by member number or name, and import an activity's attendance list."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from domain.identity import Role
from domain.station import DEFAULT_STATION
from projections import access_log, hours, volunteers
from services.hours.handlers import IMPORT_COLUMNS
from services.pages import purposes
from tests.browser.conftest import make_staff, serious_violations, sign_in_staff, untranslated
from tests.browser.test_console import Volunteer, coordinator, read_model, settled
from tests.integration.support import register_resident, register_volunteer

FIRST = [str(DEFAULT_STATION)]  # the trainings the first station held


def _volunteer(site, name: str) -> Volunteer:
    member = register_resident(site.bone, name)
    registered = register_volunteer(site.bone, member.id, name, skills=("读报",))
    assert member.account_id is not None
    return Volunteer(member.id, member.member_number, member.account_id, registered.id)


def _record(site, volunteer: Volunteer) -> dict:
    found = read_model(site, lambda db: volunteers.volunteer(db, str(volunteer.volunteer_id)))
    assert found is not None
    return found


def test_a_coordinator_changes_a_volunteers_status_profile_awards_and_evaluations(screens, site):
    wang = _volunteer(site, "王秀英")
    settled(site)
    page = coordinator(screens, site)
    page.goto(f"/console/volunteers/{wang.volunteer_id}")
    assert serious_violations(page) == []
    assert untranslated(page) == []
    screens.snap(page, "volunteer-actions")

    # Asking for the status they already have is refused before any confirmation.
    page.locator("#status").select_option("active")
    page.locator("#status-reason").fill("确认在册")
    page.get_by_role("button", name="核对修改").click()
    expect(page.locator("#notice")).to_contain_text("志愿者已经是这个状态了")
    expect(page.locator("#confirm")).to_have_count(0)

    page.locator("#status").select_option("paused")
    page.locator("#status-reason").fill("外出三个月")
    page.get_by_role("button", name="核对修改").click()
    expect(page.locator("#confirm")).to_contain_text(
        f"志愿者 {wang.member_number} 的状态将改为：暂停"
    )
    assert _record(site, wang)["status"] == "active"  # nothing recorded before the yes
    assert serious_violations(page) == []
    screens.snap(page, "confirm-status")
    page.get_by_role("button", name="是，更改状态").click()
    expect(page.locator("#volunteer-status")).to_have_text("暂停")
    expect(page.locator("#records")).to_contain_text("外出三个月")
    assert _record(site, wang)["status"] == "paused"

    page.locator("#profile-skills").fill("读报，理发")
    page.locator("#profile-building").fill("5号楼")
    page.get_by_label("陪伴聊天").uncheck()
    page.get_by_label("代买代办").check()
    page.get_by_role("button", name="保存资料").click()
    expect(page.locator(".notice-ok")).to_have_text("资料已保存。")
    expect(page.locator("#volunteer-skills")).to_have_text("读报、理发")
    expect(page.locator("#volunteer-categories")).to_have_text("代买代办")
    assert _record(site, wang)["building"] == "5号楼"

    # A day still to come is refused in words, and nothing is recorded.
    tomorrow = site.bone.today() + timedelta(days=1)
    page.locator("#award-name").fill("优秀志愿者")
    page.locator("#awarded_by").fill("幸福社区居委会")
    page.locator("#awarded_on").fill(tomorrow.isoformat())
    page.get_by_role("button", name="记录表彰").click()
    expect(page.locator("#notice")).to_contain_text("只能在事情发生之后记录")
    page.locator("#awarded_on").fill(site.bone.today().isoformat())
    page.get_by_role("button", name="记录表彰").click()
    expect(page.locator(".notice-ok")).to_have_text("表彰奖励已记录。")
    expect(page.locator("#records")).to_contain_text("幸福社区居委会")

    page.locator("#rating").select_option("excellent")
    page.locator("#stars").select_option("4")
    page.locator("#evaluation-note").fill("服务认真")
    page.get_by_role("button", name="记录评价").click()
    expect(page.locator(".notice-ok")).to_have_text("评价已记录。")
    evaluated = page.locator("#records tr", has_text="服务认真")
    expect(evaluated).to_contain_text("优秀 (4★)")
    assert serious_violations(page) == []
    screens.snap(page, "records")
    kinds = [record["kind"] for record in _record(site, wang)["records"]]
    assert kinds == ["status", "award", "evaluation"]


def test_an_administrator_reads_a_volunteers_page_without_the_coordinators_forms(screens, site):
    wang = _volunteer(site, "王秀英")
    settled(site)
    make_staff(site, "admin.zhao", Role.ADMIN)
    page = screens.person()
    sign_in_staff(page, "admin.zhao")
    page.goto(f"/console/volunteers/{wang.volunteer_id}")
    expect(page.locator("#volunteer-status")).to_have_text("在册")
    expect(page.locator("main form[action$='/status']")).to_have_count(0)
    expect(page.locator("main form[action$='/awards']")).to_have_count(0)
    page.goto("/console/trainings")
    expect(page.locator("main form[action='/console/trainings']")).to_have_count(0)


def _lists(site, purpose: str) -> list[dict]:
    return [
        row
        for row in read_model(site, lambda db: access_log.entries(db, None, limit=50))
        if row["member_id"] == access_log.LIST and row["purpose"] == purpose
    ]


def test_a_training_is_recorded_with_attendees_found_by_member_number_and_name(screens, site):
    wang = _volunteer(site, "王秀英")
    li = _volunteer(site, "李明")
    resident = register_resident(site.bone, "赵大爷")  # a resident, not a volunteer
    settled(site)
    page = coordinator(screens, site)
    page.get_by_role("link", name="培训", exact=True).click()
    expect(page.locator("main h1")).to_have_text("培训")
    assert serious_violations(page) == []
    assert untranslated(page) == []
    screens.snap(page, "trainings-empty")

    page.locator("#training-name").fill("急救知识")
    page.locator("#minutes").fill("90")
    page.locator("#organiser").fill("幸福社区社工站")
    page.locator("#training-content").fill("心肺复苏")
    page.locator("#who").fill(f"{resident.member_number}")
    page.get_by_role("button", name="核对培训").click()
    expect(page.locator("#notice")).to_contain_text("不能确定为一位已登记的志愿者")

    page.locator("#who").fill(f"{wang.member_number}\n李明")
    page.get_by_role("button", name="核对培训").click()
    confirmation = page.locator("#confirm")
    expect(confirmation).to_contain_text("2 位志愿者参加")
    expect(confirmation).to_contain_text(f"王秀英（{wang.member_number}）")
    expect(confirmation).to_contain_text(f"李明（{li.member_number}）")
    assert read_model(site, lambda db: volunteers.trainings(db, limit=10, stations=FIRST)) == []
    assert len(_lists(site, purposes.TRAINING_ATTENDEES)) == 1
    assert serious_violations(page) == []
    screens.snap(page, "confirm-training")
    page.get_by_role("button", name="是，记录培训").click()
    expect(page.locator(".notice-ok")).to_have_text("已为 2 位志愿者记录培训。")
    row = page.locator("#trainings tbody tr").first
    expect(row).to_contain_text("急救知识")
    expect(row).to_contain_text("1.5 小时")
    expect(row).to_contain_text(f"王秀英（{wang.member_number}）")
    assert serious_violations(page) == []
    screens.snap(page, "training-recorded")
    [listed] = _lists(site, purposes.TRAININGS)
    assert listed["shown"] == 2

    [training] = read_model(site, lambda db: volunteers.trainings(db, limit=10, stations=FIRST))
    assert sorted(training["attendee_ids"]) == sorted(
        [str(wang.volunteer_id), str(li.volunteer_id)]
    )
    row.get_by_role("link", name=f"李明（{li.member_number}）").click()
    expect(page.locator("#records")).to_contain_text("急救知识")

    page.get_by_role("link", name="English").click()
    page.goto("/console/trainings")
    expect(page.locator("main h1")).to_have_text("Trainings")
    expect(page.locator("#trainings")).to_contain_text("1.5 hours")
    assert serious_violations(page) == []
    screens.snap(page, "en-trainings")
    page.goto(f"/console/volunteers/{wang.volunteer_id}")
    expect(page.get_by_role("heading", name="Change the status")).to_be_visible()
    assert serious_violations(page) == []
    screens.snap(page, "en-volunteer-actions")


def test_an_attendance_list_is_imported_and_each_row_says_whether_it_was_recorded(screens, site):
    wang = _volunteer(site, "王秀英")
    resident = register_resident(site.bone, "赵大爷")  # not a volunteer: their row is refused
    settled(site)
    day = (site.bone.today() - timedelta(days=2)).isoformat()
    rows = [
        ",".join(IMPORT_COLUMNS),
        f"{wang.member_number},重阳节活动,{day},09:00,120,活动室,陪老人包饺子,社工站,李社工,"
        "companionship,3号楼",
        f"{resident.member_number},重阳节活动,{day},09:00,120,活动室,陪老人包饺子,社工站,李社工,"
        "companionship,3号楼",
        f"{wang.member_number},重阳节活动,{day},09:00,两小时,活动室,陪老人,社工站,李社工,"
        "companionship,3号楼",
    ]
    page = coordinator(screens, site)
    page.goto("/console/hours")
    page.get_by_role("link", name="导入活动签到名单").click()
    expect(page.locator("#import-columns")).to_have_text(",".join(IMPORT_COLUMNS))
    assert serious_violations(page) == []
    assert untranslated(page) == []
    screens.snap(page, "import-form")

    listed = "\n".join(rows).encode("utf-8")
    page.locator("#data").set_input_files(
        {"name": "签到.csv", "mimeType": "text/csv", "buffer": listed}
    )
    page.get_by_role("button", name="导入名单").click()
    expect(page.locator("#import-summary")).to_have_text("已记录 1 行，等待审批； 2 行未记录。")
    results = page.locator("#import-results li")
    expect(results).to_have_count(3)
    expect(results.nth(0)).to_have_text(re.compile(r"第 2 行：\s*已记录"))
    expect(results.nth(1)).to_have_text(re.compile(r"第 3 行：\s*未记录 — 没有找到这位志愿者。"))
    expect(results.nth(2)).to_have_text(re.compile(r"第 4 行：\s*未记录 — .+"))
    assert serious_violations(page) == []
    screens.snap(page, "import-results")
    recorded = read_model(
        site,
        lambda db: hours.listed(
            db,
            volunteer=str(wang.volunteer_id),
            status=None,
            started_from=None,
            started_before=None,
            before=None,
            limit=10,
        ),
    )
    assert [entry["activity"] for entry in recorded] == ["重阳节活动"]

    # A file that is not UTF-8 is refused in words.
    page.locator("#data").set_input_files(
        {"name": "gbk.csv", "mimeType": "text/csv", "buffer": "\n".join(rows).encode("gbk")}
    )
    page.get_by_role("button", name="导入名单").click()
    expect(page.locator("#notice")).to_contain_text("UTF-8")
