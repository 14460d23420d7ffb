"""Names where the coordinator works (issue 15, items 7 and 9): the approval queue names each
volunteer, one access-log record per list shown; entries are found by member number or name;
an approved entry's audit timeline is reachable from the queue's result, from the search and
from the volunteer's page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from projections import access_log
from services.identity.commands import ErasePersonalData
from services.identity.privacy import erase_member
from services.pages import purposes
from tests.browser.conftest import serious_violations
from tests.browser.test_console import (
    Volunteer,
    coordinator,
    enrol,
    log_hours,
    read_model,
    settled,
    station_now,
)
from tests.browser.test_console_pages import disputed_exchange
from tests.browser.test_council import officer, residents
from tests.browser.test_council_confirmations import on_agenda
from tests.integration.support import (
    acting,
    deactivate_member,
    register_resident,
    register_volunteer,
)


def _volunteer(site, name: str) -> Volunteer:
    member = register_resident(site.bone, name)
    registered = register_volunteer(site.bone, member.id, name, skills=("读报",))
    assert member.account_id is not None
    return Volunteer(member.id, member.member_number, member.account_id, registered.id)


def _lists(site) -> list[dict]:
    return [
        row
        for row in read_model(site, lambda db: access_log.entries(db, None, limit=50))
        if row["member_id"] == access_log.LIST
    ]


def test_the_queue_names_volunteers_in_one_access_log_record_and_finds_them_by_name(screens, site):
    wang = _volunteer(site, "王秀英")
    li = _volunteer(site, "李明")
    morning = station_now(site).replace(hour=9, minute=0, second=0, microsecond=0)
    log_hours(site, wang, morning - timedelta(days=1), 60, "陪同就医")
    log_hours(site, li, morning - timedelta(days=2), 90, "聊天散步")
    settled(site)
    page = coordinator(screens, site)

    page.goto("/console/hours")
    rows = page.locator("#queue tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="陪同就医")).to_contain_text(f"王秀英（{wang.member_number}）")
    expect(rows.filter(has_text="聊天散步")).to_contain_text(f"李明（{li.member_number}）")
    screens.snap(page, "queue-with-names")
    assert serious_violations(page) == []
    [listed] = _lists(site)
    assert listed["shown"] == 2 and listed["purpose"] == purposes.HOURS_LIST
    mine = read_model(site, lambda db: access_log.entries(db, wang.member_id, limit=50))
    assert [row["position"] for row in mine] == [listed["position"]]

    page.locator("#who").fill("秀英")
    page.get_by_role("button", name="查找记录").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("王秀英")
    assert [row["shown"] for row in _lists(site)] == [1, 2]

    page.goto(f"/console/access-log?number={wang.member_number}")
    expect(page.locator("#access-log tbody tr", has_text="列表，显示")).to_have_count(2)
    expect(page.locator("#access-log")).to_contain_text("工作台：按会员号或姓名查找服务时长记录")
    assert serious_violations(page) == []

    page.goto("/console/volunteers")
    found = page.locator("main tbody tr")
    expect(found.filter(has_text="李明")).to_contain_text(f"李明（{li.member_number}）")
    page.locator("#name").fill("李")
    page.get_by_role("button", name="搜索").click()
    expect(found).to_have_count(1)
    expect(found).to_contain_text("李明")
    assert serious_violations(page) == []
    assert [(row["shown"], row["purpose"]) for row in _lists(site)][:2] == [
        (1, purposes.VOLUNTEERS_FOUND),
        (2, purposes.VOLUNTEERS),
    ]


def test_an_approved_entry_is_found_again_from_the_result_the_search_and_the_volunteer(
    screens, site
):
    zhou = enrol(site)
    morning = station_now(site).replace(hour=9, minute=0, second=0, microsecond=0)
    entry = log_hours(site, zhou, morning - timedelta(days=1), 60, "上门探访")
    settled(site)
    page = coordinator(screens, site)

    page.goto("/console/hours")
    page.locator("#select-all").check()
    page.get_by_role("button", name="批准所选").click()
    page.get_by_role("button", name="是，批准并记入").click()
    expect(page.locator("#queue .result-done")).to_have_count(1)
    page.locator("#queue .result-timeline").click()
    expect(page).to_have_url(re.compile(f"/console/hours/{entry}$"))
    expect(page.locator("#entry-status")).to_have_text("已批准")

    for who in (zhou.member_number, "周阿"):
        page.goto("/console/hours?status=approved")
        page.locator("#who").fill(who)
        page.get_by_role("button", name="查找记录").click()
        page.locator("#queue tbody tr").get_by_role("link").click()
        expect(page).to_have_url(re.compile(f"/console/hours/{entry}$"))

    page.goto(f"/console/volunteers/{zhou.volunteer_id}")
    page.locator("#all-entries").click()
    page.locator("#queue tbody tr").get_by_role("link").click()
    expect(page).to_have_url(re.compile(f"/console/hours/{entry}$"))
    expect(page.locator("#timeline .step")).to_have_count(2)
    expect(page.locator("#entry-volunteer")).to_have_text(f"周阿姨（{zhou.member_number}）")
    assert _lists(site)[0]["purpose"] == purposes.TIMELINE
    assert serious_violations(page) == []


def test_the_member_registry_names_residents_and_finds_them_by_name(screens, site):
    wang = register_resident(site.bone, "王秀英")
    li = register_resident(site.bone, "李明")
    settled(site)
    page = coordinator(screens, site)

    page.goto("/console/members")
    rows = page.locator("main tbody tr")
    expect(rows.filter(has_text=wang.member_number)).to_contain_text("王秀英")
    expect(rows.filter(has_text=li.member_number)).to_contain_text("李明")
    assert [row["shown"] for row in _lists(site)] == [2]

    page.locator("#name").fill("秀英")
    page.get_by_role("button", name="查找").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(wang.member_number)
    screens.snap(page, "members-found-by-name")
    assert serious_violations(page) == []
    assert [row["shown"] for row in _lists(site)] == [1, 2]


def test_the_roll_call_names_the_members_in_one_access_log_record(screens, site):
    people = residents(site, 4)
    meeting = on_agenda(site, people, "增设休息长椅", datetime.now(UTC) - timedelta(minutes=10))
    page = officer(screens)

    page.goto(f"/council/meetings/{meeting}")
    for n, person in enumerate(people):
        expect(page.get_by_label(f"居民{n}（{person.number}）")).to_be_visible()
    [listed] = _lists(site)
    assert listed["shown"] == 4 and listed["purpose"] == purposes.ROLL_CALL
    assert serious_violations(page) == []


def test_the_volunteer_page_is_headed_by_their_name_in_one_access_log_record(screens, site):
    wang = _volunteer(site, "王秀英")
    settled(site)
    page = coordinator(screens, site)

    page.goto(f"/console/volunteers/{wang.volunteer_id}")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(f"志愿者 · 王秀英（{wang.member_number}）")
    screens.snap(page, "volunteer-named")
    assert serious_violations(page) == []
    [viewed] = _lists(site)
    assert (viewed["purpose"], viewed["shown"]) == (purposes.VOLUNTEER_PAGE, 1)

    page.get_by_role("link", name="English").click()
    expect(heading).to_have_text(f"Volunteer · 王秀英 ({wang.member_number})")
    assert serious_violations(page) == []

    deactivate_member(site.bone.timebank, wang.member_id, "搬走", site.bone.clock())
    erasure = ErasePersonalData(member_id=wang.member_id, reason="本人要求")
    erased = erase_member(erasure, acting(site.bone.timebank, vault=site.bone.vault))
    page.goto(f"/console/volunteers/{wang.volunteer_id}?after={erased.position}")
    expect(heading).to_have_text(f"Volunteer · Member {wang.member_number}")


def test_the_exchanges_name_who_helped_whom_in_one_access_log_record_per_page(screens, site):
    giver, receiver = disputed_exchange(site)
    settled(site)
    page = coordinator(screens, site)

    page.goto("/console/exchanges")
    row = page.locator("main tbody tr")
    expect(row).to_contain_text(
        f"王阿姨（{giver.member_number}） 帮助 李大爷（{receiver.member_number}）"
    )
    screens.snap(page, "exchanges-named")
    assert serious_violations(page) == []
    [listed] = _lists(site)
    assert (listed["purpose"], listed["shown"]) == (purposes.EXCHANGES, 2)

    row.get_by_role("link", name="打开").click()
    pair = page.locator("#exchange tbody tr")
    expect(pair).to_have_text(
        f"王阿姨（{giver.member_number}）李大爷（{receiver.member_number}）1.5 小时"
    )
    screens.snap(page, "exchange-named")
    assert serious_violations(page) == []
    viewed = _lists(site)[0]
    assert (viewed["purpose"], viewed["shown"]) == (purposes.EXCHANGE, 2)
