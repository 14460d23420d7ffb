"""The coordinator console in a real browser: the approval queue, an entry's audit timeline and
amendment (the issue's story), and refusals that record nothing."""

from __future__ import annotations

import csv
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

from playwright.sync_api import expect

from domain.hours import Service
from domain.identity import Role
from domain.provenance import Provenance
from domain.rules import RuleViolated
from projections import balances, hours
from services.pages import refusals
from services.pages.i18n import speaking
from tests.browser.conftest import Site, make_staff, sign_in_staff
from tests.integration.support import (
    caught_up,
    register_resident,
    register_volunteer,
    submit_entry,
    wait_until,
)

COORDINATOR = "coord.li"


@dataclass(frozen=True)
class Volunteer:
    member_id: UUID
    member_number: str
    account_id: UUID
    volunteer_id: UUID


def station_now(site: Site) -> datetime:
    return site.bone.clock().astimezone(site.bone.settings.zone)


def enrol(site: Site, name: str = "周志愿") -> Volunteer:
    """A resident registered, and then registered as a volunteer, as the station does."""
    member = register_resident(site.bone, "周阿姨")
    registered = register_volunteer(site.bone, member.id, name, skills=("读报",))
    assert member.account_id is not None
    return Volunteer(member.id, member.member_number, member.account_id, registered.id)


def log_hours(
    site: Site,
    volunteer: Volunteer,
    started_at: datetime,
    minutes: int,
    activity: str,
    category: str = "companionship",
) -> UUID:
    """Service the volunteer logged at the kiosk; it awaits approval."""
    at_kiosk = Provenance(
        actor=f"member:{volunteer.member_id}", channel="kiosk:test", correlation_id="test"
    )
    receipt = submit_entry(
        site.bone.timebank,
        volunteer.volunteer_id,
        Service(
            activity=activity,
            started_at=started_at,
            minutes=minutes,
            place="3号楼",
            content="陪伴聊天，读报",
            organiser="幸福社区社工站",
            responsible=COORDINATOR,
            category=category,
            building="3号楼",
        ),
        uuid.uuid4().hex,
        now=station_now(site),
        by=at_kiosk,
        settings=site.bone.settings,
    )
    return receipt.id


def settled(site: Site) -> None:
    """Every read model has caught up with what the set-up recorded."""
    wait_until(lambda: caught_up(site.bone), what="the read models to catch up")


def coordinator(screens, site: Site, lang: str = "zh_CN"):
    make_staff(site, COORDINATOR, Role.COORDINATOR)
    page = screens.person(lang=lang)
    sign_in_staff(page, COORDINATOR)
    return page


def read_model(site: Site, query):
    """``query`` on the read models once they have caught up with everything recorded."""
    settled(site)
    with site.bone.reads.transaction(commit=False) as db:
        return query(db)


def downloaded(page, click, saved: Path) -> list[list[str]]:
    """The rows of the CSV file that ``click`` downloads (its byte-order mark dropped)."""
    with page.expect_download() as downloading:
        click()
    downloading.value.save_as(saved)
    return list(csv.reader(saved.read_text(encoding="utf-8-sig").splitlines()))


def test_a_coordinator_approves_a_page_of_hours_then_amends_one_and_the_timeline_shows_it(
    screens, site, tmp_path
):
    zhou = enrol(site)
    yesterday = station_now(site).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(
        days=1
    )
    visits = [
        log_hours(
            site, zhou, yesterday + timedelta(hours=2 * index), 60 + 30 * index, f"探访{index}"
        )
        for index in range(4)
    ]
    settled(site)
    page = coordinator(screens, site)
    expect(page.locator("#submitted-count")).to_have_text("4")
    screens.snap(page, "console-home")

    page.get_by_role("link", name="打开审批队列").click()
    expect(page.locator("#queue tbody tr")).to_have_count(4)
    page.locator("#select-all").check()
    screens.snap(page, "queue-selected")
    page.get_by_role("button", name="批准所选").click()
    expect(page.locator("#confirm")).to_contain_text("7 小时")  # 60 + 90 + 120 + 150 minutes
    screens.snap(page, "confirm-approval")
    page.get_by_role("button", name="是，批准并记入").click()
    expect(page.locator("#queue .result-done")).to_have_count(4)
    expect(page.locator("#queue")).to_contain_text("这里没有记录")
    screens.snap(page, "approved")

    account = read_model(site, lambda db: balances.account(db, zhou.account_id))
    assert account is not None and account["balance"] == 420
    assert all(
        read_model(site, lambda db, entry=entry: hours.entry(db, str(entry)))["status"]
        == "approved"
        for entry in visits
    )

    # The last visit was really 2 hours, not 2.5: amended with a reason and who asked.
    page.goto(f"/console/hours/{visits[3]}")
    expect(page.locator("#entry-status")).to_have_text("已批准")
    screens.snap(page, "entry-before")
    page.locator("#minutes").fill("120")
    page.locator("#amend-reason").fill("志愿者报告时长有误")
    page.locator("#requested-by").fill("志愿者本人")
    page.get_by_role("button", name="核对修改").click()
    expect(page.locator("#confirm")).to_contain_text("2.5 小时 → 2 小时")
    expect(page.locator("#confirm")).to_contain_text("0.5 小时")
    screens.snap(page, "confirm-amendment")
    page.get_by_role("button", name="是，修改").click()
    amended = page.locator("#timeline .step-HoursAmended")
    expect(amended).to_contain_text("志愿者报告时长有误")
    expect(amended).to_contain_text("志愿者本人")
    expect(amended).to_contain_text(COORDINATOR)
    expect(amended.locator("tr", has_text="时长")).to_contain_text("2.5 小时")
    expect(amended.locator("tr", has_text="时长")).to_contain_text("2 小时")
    expect(page.locator("#timeline .step")).to_have_count(3)  # submitted, approved, amended
    screens.snap(page, "timeline-after")
    account = read_model(site, lambda db: balances.account(db, zhou.account_id))
    assert account is not None and account["balance"] == 390

    # The timeline as the API exports it: one line per field each step changed, with why.
    header, *steps = downloaded(page, page.locator("#history-csv").click, tmp_path / "history.csv")
    assert header[5:] == ["field", "before", "after", "reason", "requested_by"]
    submitted = [row for row in steps if row[1] == "HoursSubmitted"]
    by_the_volunteer = [f"member:{zhou.member_id}", "kiosk:test"]
    assert submitted and all(row[2:4] == by_the_volunteer for row in submitted)
    assert {row[5]: row[6:8] for row in submitted}["minutes"] == ["", "150"]
    assert [row[1:2] + row[5:] for row in steps[len(submitted) :]] == [
        ["HoursApproved", "status", "submitted", "approved", "", ""],
        ["HoursAmended", "minutes", "150", "120", "志愿者报告时长有误", "志愿者本人"],
    ]

    # The volunteer's entries since yesterday: one line each, the amended one at 2 hours.
    page.goto(f"/console/volunteers/{zhou.volunteer_id}")
    page.locator("#hours-first").fill(yesterday.date().isoformat())
    page.locator("#hours-last").fill(station_now(site).date().isoformat())
    header, *lines = downloaded(page, page.locator("#hours-csv").click, tmp_path / "hours.csv")
    assert header[:6] == ["entry_id", "status", "started_at", "activity", "category", "minutes"]
    assert [(line[0], line[1], line[3], line[5]) for line in lines] == [
        (str(visit), "approved", f"探访{index}", str(minutes))
        for index, (visit, minutes) in enumerate(zip(visits, [60, 90, 120, 120], strict=True))
    ]


def said(code: str) -> str:
    """What the pages tell a Chinese reader when a rule refuses with ``code``."""
    with speaking("zh_CN"):
        sentence = refusals.explain(RuleViolated(code, ""))
    assert re.search(r"[\u4e00-\u9fff]", sentence), f"{code} has no Chinese sentence"
    return sentence


def test_refused_actions_say_why_in_chinese_and_record_nothing(screens, site):
    zhou = enrol(site)
    started = station_now(site).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(
        days=1
    )
    visit = log_hours(site, zhou, started, 60, "探访")
    settled(site)
    page = coordinator(screens, site)
    page.goto("/console/hours")
    before = site.bone.timebank.last_position()

    page.locator("#queue tbody input[type=checkbox]").first.check()
    page.get_by_role("button", name="拒绝所选").click()
    expect(page.locator("#notice .notice-error")).to_have_text(said("reason-required"))
    screens.snap(page, "reject-without-reason")
    assert site.bone.timebank.last_position() == before

    page.goto(f"/console/hours/{visit}")
    before = site.bone.timebank.last_position()  # the page named its volunteer: one log record
    page.get_by_text("修改记录").click()
    page.locator("#amend-reason").fill("核对")
    page.locator("#requested-by").fill("组织者")
    page.get_by_role("button", name="核对修改").click()
    expect(page.locator("#notice .notice-error")).to_have_text(said("nothing-amended"))
    screens.snap(page, "amend-without-change")
    assert site.bone.timebank.last_position() == before
    expect(page.locator("#timeline .step")).to_have_count(1)
