"""Council actions that cannot be undone ask first (issue 15, item 10): opening a vote before
its meeting has begun, or before who came is recorded, is refused with the reason on the page
and records nothing; once the meeting is under way the officer confirms, or goes back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from playwright.sync_api import expect

from domain.rules import RuleViolated
from services.council import handlers as commands
from services.council.commands import CallMeeting, ScheduleMotion
from tests.browser.conftest import Site
from tests.browser.test_council import (
    Resident,
    admitted,
    checked,
    nothing_recorded,
    officer,
    residents,
    said,
)
from tests.integration.support import acting


def on_agenda(site: Site, people: list[Resident], title: str, starts_at: datetime) -> UUID:
    """An admitted motion on the agenda of a meeting of ``people`` beginning ``starts_at``."""
    motion = admitted(site, people, title)
    called = CallMeeting(
        idempotency_key=uuid4().hex,
        title=f"{title}议事会",
        starts_at=starts_at,
        place="社区活动室",
        entitled=[person.id for person in people],
    )
    meeting = commands.call(called, acting(site.bone.timebank)).id
    scheduled = ScheduleMotion(motion_id=motion, meeting_id=meeting)
    commands.schedule(scheduled, acting(site.bone.timebank))
    return meeting


def test_a_vote_opens_once_the_meeting_is_under_way_with_attendance_and_after_a_yes(screens):
    site = screens.site
    people = residents(site, 4)
    tomorrow = on_agenda(site, people, "修缮自行车棚", datetime.now(UTC) + timedelta(days=1))
    begun = on_agenda(site, people, "增设休息长椅", datetime.now(UTC) - timedelta(minutes=10))
    page = officer(screens)

    page.goto(f"/council/meetings/{tomorrow}")

    def too_early() -> None:
        page.get_by_role("button", name="开始表决“修缮自行车棚”").click()
        expect(page.locator("#notice")).to_have_text(said(RuleViolated("meeting-not-started", "")))

    nothing_recorded(site, too_early)
    checked(page, screens, "vote-before-the-meeting-refused")

    page.goto(f"/council/meetings/{begun}")

    def before_attendance() -> None:
        page.get_by_role("button", name="开始表决“增设休息长椅”").click()
        refusal = said(RuleViolated("attendance-not-recorded", ""))
        expect(page.locator("#notice")).to_have_text(refusal)

    nothing_recorded(site, before_attendance)
    checked(page, screens, "vote-before-attendance-refused")

    for person in people[:3]:
        page.get_by_label(f"（{person.number}）").check()
    page.get_by_role("button", name="保存出席情况").click()
    expect(page.locator("#attendance")).to_contain_text("应到 4 人，实到 3 人")

    def asked_and_went_back() -> None:
        page.get_by_role("button", name="开始表决“增设休息长椅”").click()
        expect(page.locator("#confirm")).to_contain_text("4 名有表决权的成员中，登记到会 3 名")
        checked(page, screens, "confirm-opening")
        page.get_by_role("link", name="不，返回").click()
        expect(page.locator("main .status").first).to_have_text("已列入议程")

    nothing_recorded(site, asked_and_went_back)
    page.get_by_role("button", name="开始表决").click()
    page.get_by_role("button", name="是，开始表决").click()
    expect(page.locator("#tally").get_by_role("heading")).to_have_text("实时计票")
    expect(page.locator("main .status").first).to_have_text("表决中")
    checked(page, screens, "vote-opened-after-yes")
