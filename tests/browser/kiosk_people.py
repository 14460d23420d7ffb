"""Residents for the kiosk's browser tests, and what they find at the kiosk: registered and
set up through the services (as a coordinator or another resident would have done), then
signed in the way a resident does it — on the kiosk's number pad."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from playwright.sync_api import Page, expect

from domain.listing import ListingKind
from services.council import handlers as council
from services.council.commands import (
    AdmitMotion,
    CallMeeting,
    OpenVote,
    RecordAttendance,
    ScheduleMotion,
    SubmitMotion,
    SupportMotion,
)
from services.exchange import handlers as exchange
from services.exchange.commands import PairIn, RecordHelp
from services.listings.commands import PostListing
from tests.browser.conftest import Site
from tests.integration.support import (
    COMMUNITY,
    PIN,
    acting,
    post_listing,
    register_resident,
    register_volunteer,
    transfer,
)


@dataclass(frozen=True)
class Resident:
    name: str
    number: str
    member_id: UUID
    account_id: UUID


def register(site: Site, name: str, minutes: int = 0) -> Resident:
    """A resident with ``minutes`` credited from the community account."""
    done = register_resident(site.bone, name)
    assert done.account_id is not None
    if minutes:
        transfer(site.bone, f"start-{done.member_number}", COMMUNITY, done.account_id, minutes)
    return Resident(name, done.member_number, done.id, done.account_id)


def tap_digits(page: Page, digits: str) -> None:
    for digit in digits:
        page.locator(f'.numpad [data-key="{digit}"]').click()


def sign_in_on_pad(page: Page, resident: Resident, pin: str = PIN) -> None:
    """Tap the member number and the PIN on the number pad, then sign in."""
    page.goto("/kiosk/sign-in")
    page.locator("#member_number").click()
    tap_digits(page, resident.number + pin)
    page.locator("form.with-pad button[type=submit]").click()


def log_two_hours(page: Page, day: str | None = None) -> None:
    """On the hours form: two hours of keeping company from 09:30 on ``day``, or yesterday
    (today's 09:30 is still ahead in the station's small hours), sent for approval."""
    page.locator("#activity").fill("陪伴独居老人")
    if day is None:
        page.locator("#yesterday").click()
    else:
        page.locator("#day").fill(day)
    page.locator("#start").fill("09:30")
    page.get_by_role("button", name="2 小时").click()
    page.get_by_text("陪伴聊天").click()
    page.locator("#organiser").fill("幸福社区社工站")
    page.locator("#responsible").fill("刘社工")
    page.get_by_role("button", name="提交审核").click()


def change_settings(site: Site, **changes: Any) -> None:
    """Run the site with other settings from the next request on (e.g. the idle time, which
    each page carries to its countdown)."""
    site.bone.settings = msgspec.structs.replace(site.bone.settings, **changes)


def expect_balance(page: Page, shown: str) -> None:
    expect(page.locator("#balance")).to_have_text(shown)


def make_volunteer(site: Site, resident: Resident) -> None:
    register_volunteer(site.bone, resident.member_id, resident.name)


def help_given(site: Site, provider: Resident, receiver: Resident, minutes: int) -> int:
    """Help ``provider`` recorded for ``receiver``; the position it was recorded at."""
    command = RecordHelp(
        idempotency_key=f"help-{provider.number}-{receiver.number}-{minutes}",
        pairs=[PairIn(provider=provider.account_id, receiver=receiver.account_id, minutes=minutes)],
        description="买菜",
    )
    return exchange.record(command, acting(site.bone.timebank)).position


def offer(site: Site, owner: Resident, title: str) -> None:
    offered = PostListing(
        idempotency_key=f"offer-{owner.number}-{title}",
        kind=ListingKind.OFFER,
        category="repairs",
        title=title,
        description="周末有空",
        building="3号楼",
        availability="周六上午",
    )
    post_listing(site.bone.timebank, owner.account_id, offered)


def motion(site: Site, mover: Resident, title: str) -> UUID:
    submitted = SubmitMotion(
        idempotency_key=f"motion-{title}",
        title=title,
        text="在小区东门加装一排长椅，方便老人休息。",
    )
    receipt = council.submit(submitted, acting(site.bone.timebank, member=mover.member_id))
    return receipt.id


def vote_opened(site: Site, mover: Resident, voters: list[Resident], title: str) -> UUID:
    """A motion seconded by ``voters``, admitted, on a meeting's agenda where they are
    entitled and present, with its vote open."""
    app, now = site.bone.timebank, datetime.now(UTC)
    motion_id = motion(site, mover, title)
    on_it = {"motion_id": motion_id}
    for voter in voters[: council.rules_in_force(app).seconding_threshold]:
        council.support(SupportMotion(**on_it), acting(app, now, member=voter.member_id))
    council.admit(AdmitMotion(**on_it), acting(app, now))
    people = [voter.member_id for voter in voters]
    called = CallMeeting(
        idempotency_key=f"meeting-{title}",
        title="十二月居民议事会",
        starts_at=now,
        place="社区活动室",
        entitled=people,
    )
    meeting = council.call(called, acting(app, now)).id
    council.schedule(ScheduleMotion(**on_it, meeting_id=meeting), acting(app, now))
    attendance = RecordAttendance(meeting_id=meeting, present=people)
    council.record_attendance(attendance, acting(app, now))
    council.open_vote(OpenVote(**on_it), acting(app, now))
    return motion_id


@dataclass(frozen=True)
class Neighbourhood:
    """Zhao, a volunteer with 3 hours and an offer on the board, whom Qian helped for an
    hour (to confirm); a motion gathering support and one being voted on, where Zhao is
    entitled to vote and present."""

    zhao: Resident
    qian: Resident
    gathering_support: UUID
    being_voted: UUID


def neighbourhood(site: Site) -> Neighbourhood:
    zhao = register(site, "赵阿姨", minutes=180)
    qian = register(site, "钱师傅", minutes=60)
    others = [register(site, name) for name in ("孙大爷", "周阿姨")]
    make_volunteer(site, zhao)
    help_given(site, qian, zhao, 60)
    offer(site, zhao, "修理小家电")
    return Neighbourhood(
        zhao=zhao,
        qian=qian,
        gathering_support=motion(site, qian, "楼道加装扶手"),
        being_voted=vote_opened(site, qian, [zhao, *others], "东门加装长椅"),
    )


def open_first_waiting(page: Page) -> None:
    """From home: the help waiting for confirmation, and the first record of it."""
    page.get_by_role("link", name=re.compile("等您确认|wait")).click()
    page.locator("#to-confirm a").first.click()
