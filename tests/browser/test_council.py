"""The council pages in a real browser: a council officer runs a vote from the agenda to its
result while residents' ballots arrive, and the tally on screen matches them; a refused action
says why in the officer's language and records nothing; the voting rules change with a
reason, and a secret vote's tally then shows counts only; the implementation tracker shows
progress and what is overdue. Every page is checked with axe-core and in both languages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from playwright.sync_api import Page, expect

from domain.council import Choice
from domain.identity import CouncilTitle, Role
from domain.provenance import Provenance
from domain.rules import NotFound, RuleViolated
from services.council import handlers as commands
from services.council.commands import (
    AdmitMotion,
    CallMeeting,
    CastBallot,
    CloseVote,
    DeclineMotion,
    OpenVote,
    RecordAttendance,
    ScheduleMotion,
    SubmitMotion,
    SupportMotion,
)
from services.pages import refusals
from services.pages.i18n import speaking
from tests.browser.conftest import (
    Site,
    make_staff,
    serious_violations,
    sign_in_staff,
    untranslated,
)
from tests.integration.support import acting, caught_up, register_resident, wait_until

LIVE_TALLY_WAIT = 20_000  # ms: the tally refreshes every 2 s; a busy machine may be slower


class Resident:
    """A registered resident, as the council knows them: an id and a member number."""

    def __init__(self, site: Site, n: int) -> None:
        done = register_resident(site.bone, f"居民{n}")
        self.id: UUID = done.id
        self.number: str = done.member_number
        self.by = Provenance(actor=f"member:{done.id}", channel="kiosk:test", correlation_id="t")


def residents(site: Site, count: int) -> list[Resident]:
    return [Resident(site, n) for n in range(count)]


def seconded(site: Site, people: list[Resident], title: str) -> UUID:
    """A motion moved by the first of ``people`` and supported by the next three."""
    app, now, mover = site.bone.timebank, datetime.now(UTC), people[0]
    submitted = SubmitMotion(
        idempotency_key=uuid4().hex, title=title, text=f"{title}：请议事会讨论。"
    )
    motion = commands.submit(submitted, acting(app, now, mover.by, member=mover.id)).id
    for supporter in people[1:4]:
        on_it = SupportMotion(motion_id=motion)
        commands.support(on_it, acting(app, now, supporter.by, member=supporter.id))
    return motion


def admitted(site: Site, people: list[Resident], title: str) -> UUID:
    motion = seconded(site, people, title)
    commands.admit(AdmitMotion(motion_id=motion), acting(site.bone.timebank))
    return motion


def voting(site: Site, people: list[Resident], title: str) -> UUID:
    """A motion being voted on at a meeting of ``people``, all present; through the services."""
    motion = admitted(site, people, title)
    app = site.bone.timebank
    everyone = [person.id for person in people]
    called = CallMeeting(
        idempotency_key=uuid4().hex,
        title="十一月议事会",
        starts_at=datetime.now(UTC) - timedelta(minutes=5),  # under way
        place="社区活动室",
        entitled=everyone,
    )
    meeting = commands.call(called, acting(app)).id
    commands.schedule(ScheduleMotion(motion_id=motion, meeting_id=meeting), acting(app))
    commands.record_attendance(RecordAttendance(meeting_id=meeting, present=everyone), acting(app))
    commands.open_vote(OpenVote(motion_id=motion), acting(app))
    return motion


def adopted(site: Site, people: list[Resident], title: str) -> UUID:
    """A motion everyone voted for."""
    motion = voting(site, people, title)
    for person in people:
        cast(site, motion, person, Choice.YES)
    closing = CloseVote(motion_id=motion)
    commands.close_vote(closing, acting(site.bone.timebank, vault=site.bone.vault))
    return motion


def cast(site: Site, motion: UUID, voter: Resident, choice: Choice) -> None:
    """A resident's ballot, as the kiosk casts it."""
    ballot = CastBallot(motion_id=motion, choice=choice)
    as_voter = acting(site.bone.timebank, by=voter.by, vault=site.bone.vault, member=voter.id)
    commands.vote(ballot, as_voter)


CHAIR = "wang.chair"


def officer(screens, lang: str = "zh_CN") -> Page:
    """The council chair, signed in through the staff sign-in page (which lands on /council),
    once the read models show what the test set up."""
    make_staff(screens.site, CHAIR, Role.COUNCIL, CouncilTitle.CHAIR)
    wait_until(lambda: caught_up(screens.site.bone), what="the read models to catch up")
    page = screens.person(lang=lang)
    sign_in_staff(page, CHAIR)
    expect(page).to_have_url(f"{screens.site.url}/council")
    return page


def checked(page: Page, screens, name: str) -> None:
    """No serious accessibility violations, nothing left in English on a Chinese page; a
    screenshot as evidence."""
    assert serious_violations(page) == []
    if page.locator("html").get_attribute("lang") == "zh-CN":
        assert untranslated(page) == []
    screens.snap(page, name)


def said(error: Exception) -> str:
    """What the pages say, in Chinese, for a refusal."""
    with speaking("zh_CN"):
        return refusals.explain(error)


def nothing_recorded(site: Site, action: Callable[[], None]) -> None:
    """``action`` (a refused one) changes nothing in the store: at most the pages it showed
    with names are on the access log (PersonalDataListed), as every such view is."""
    before = site.bone.timebank.last_position()
    action()
    added = site.bone.timebank.notification_log.select(before + 1, 10)
    assert [n.topic for n in added if not n.topic.endswith(".PersonalDataListed")] == []


def test_a_council_vote_from_agenda_to_result_with_the_tally_matching_the_ballots(screens):
    site = screens.site
    people = residents(site, 5)
    handrails = seconded(site, people, "加装楼道扶手")
    admitted(site, people, "小区增设休息长椅")  # taken first, but not voted on
    page = officer(screens)
    expect(page.get_by_role("heading", level=1)).to_have_text("议题")
    checked(page, screens, "board")

    page.get_by_role("link", name="加装楼道扶手").click()
    expect(page.locator("main .status").first).to_have_text("已获附议")
    page.get_by_role("button", name="受理", exact=True).click()
    expect(page.locator("#confirm")).to_contain_text("受理后不能撤回")
    checked(page, screens, "confirm-admission")
    page.get_by_role("button", name="是，受理").click()
    expect(page.locator("main .status").first).to_have_text("已受理")
    expect(page.locator(".timeline li").last).to_contain_text("议事会受理")
    expect(page.locator(".timeline li").last).to_contain_text("wang.chair（主任）")
    checked(page, screens, "admitted-with-timeline")

    # A meeting of the five members, beginning now (a vote opens once it is under way).
    page.get_by_role("link", name="召集会议").click()
    checked(page, screens, "meetings")
    starts = datetime.now(site.bone.settings.zone).strftime("%Y-%m-%dT%H:%M")
    page.locator("#title").fill("十二月居民议事会")
    page.locator("#starts_at").fill(starts)
    page.locator("#place").fill("社区活动室")
    page.locator("#members").fill(" ".join(person.number for person in people))
    page.get_by_role("button", name="召集会议").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("十二月居民议事会")

    # The agenda: both admitted motions, the benches moved up to be taken first.
    agenda = page.locator("#agenda")
    for title in ("加装楼道扶手", "小区增设休息长椅"):
        page.locator("#agenda-motion").select_option(label=title)
        page.get_by_role("button", name="加入议程").click()
        expect(agenda.locator(".agenda-item a", has_text=title)).to_be_visible()
    page.get_by_role("button", name="把“小区增设休息长椅”上移").click()
    expect(agenda.locator(".agenda-item a")).to_have_text(["小区增设休息长椅", "加装楼道扶手"])
    expect(page.locator("#agenda-motion")).to_have_count(0)  # nothing admitted is left

    # Four of the five came.
    for person in people[:4]:
        page.get_by_label(f"（{person.number}）").check()
    page.get_by_role("button", name="保存出席情况").click()
    expect(page.locator("#attendance")).to_contain_text("应到 5 人，实到 4 人")
    expect(page.locator("#attendance .notice-ok")).to_be_visible()
    checked(page, screens, "meeting-agenda-attendance")

    page.get_by_role("button", name="开始表决“加装楼道扶手”").click()
    expect(page.locator("#confirm")).to_contain_text("5 名有表决权的成员中，登记到会 4 名")
    checked(page, screens, "confirm-opening")
    page.get_by_role("button", name="是，开始表决").click()
    tally = page.locator("#tally")
    expect(tally.get_by_role("heading")).to_have_text("实时计票")
    expect(tally.locator("dd[data-choice]")).to_have_text(["0", "0", "0"])
    checked(page, screens, "vote-opened")

    ballots = {0: Choice.YES, 1: Choice.YES, 2: Choice.NO, 3: Choice.ABSTAIN}
    for n, choice in ballots.items():
        cast(site, handrails, people[n], choice)
    expect(tally.locator("dd[data-choice]")).to_have_text(["2", "1", "1"], timeout=LIVE_TALLY_WAIT)
    expect(tally).to_contain_text("已投票 4 人 · 出席 4 人 · 应到 5 人")
    checked(page, screens, "live-tally")
    page.locator("#ballots-link").click()  # an open ballot: who voted how, by name
    for n, choice in ballots.items():
        row = page.locator("#ballots tr", has_text=f"居民{n}（{people[n].number}）")
        expect(row).to_contain_text({"yes": "赞成", "no": "反对", "abstain": "弃权"}[choice])
    page.get_by_role("link", name="“加装楼道扶手”的表决").click()

    page.get_by_role("button", name="结束表决并计票").click()
    expect(page.locator("#confirm")).to_contain_text("赞成 2，反对 1，弃权 1；到会 4 人。")
    expect(page.locator("#confirm")).to_contain_text("按目前的票数，结果将是：已通过。")
    checked(page, screens, "confirm-closing")
    page.get_by_role("button", name="是，结束并计票").click()
    expect(tally.get_by_role("heading")).to_have_text("计票结果")
    expect(tally.locator(".result")).to_contain_text("已通过")  # 2 of 3 cast, abstentions aside
    expect(tally.locator("dd[data-choice]")).to_have_text(["2", "1", "1"])
    checked(page, screens, "result")

    page.get_by_role("link", name="十二月居民议事会").click()
    page.get_by_role("link", name="会议纪要").click()
    minutes = page.locator(".minutes-item")
    expect(minutes).to_have_count(2)
    expect(minutes.nth(0)).to_contain_text("小区增设休息长椅")
    expect(minutes.nth(0)).to_contain_text("未付表决")
    expect(minutes.nth(1)).to_contain_text("加装楼道扶手")
    expect(minutes.nth(1).locator("dd[data-choice]")).to_have_text(["2", "1", "1"])
    expect(minutes.nth(1).locator(".result")).to_contain_text("已通过")
    expect(page.locator(".minutes")).to_contain_text(f"居民 {people[4].number} 号")  # absent
    expect(page.locator("#printed-by")).to_contain_text("社区时间银行 · 打印于")  # no station set
    checked(page, screens, "minutes")
    page.emulate_media(media="print")  # on paper: the record alone, no navigation or buttons
    expect(page.locator(".masthead")).to_be_hidden()
    expect(page.get_by_role("button", name="打印")).to_be_hidden()
    screens.snap(page, "minutes-printed")
    page.emulate_media(media="screen")

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(minutes.nth(1).locator(".result")).to_contain_text("Adopted")
    checked(page, screens, "minutes-en")
    page.get_by_role("link", name="The meeting").click()
    expect(page.locator("#attendance")).to_contain_text("4 of 5 members present")
    checked(page, screens, "meeting-en")
    page.get_by_role("link", name="The vote on “加装楼道扶手”").click()
    expect(page.locator("#tally .result")).to_contain_text("Adopted")
    checked(page, screens, "result-en")
    page.get_by_role("link", name="Motions", exact=True).click()
    checked(page, screens, "board-en")


def test_refused_actions_say_why_and_record_nothing_and_the_rules_change_with_a_reason(screens):
    site = screens.site
    people = residents(site, 4)
    shed = seconded(site, people, "修缮自行车棚")
    page = officer(screens)

    # A meeting naming a member number nobody has is not called.
    page.get_by_role("link", name="会议", exact=True).click()
    page.locator("#title").fill("临时议事会")
    page.locator("#starts_at").fill(
        (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT10:00")
    )
    page.locator("#place").fill("社区活动室")
    page.locator("#members").fill(f"{people[0].number}, 12345")

    def call_the_meeting() -> None:
        page.get_by_role("button", name="召集会议").click()
        expect(page.locator("#notice")).to_have_text(said(NotFound("member-not-found", "")))

    nothing_recorded(site, call_the_meeting)
    expect(page.locator("#members")).to_have_value(f"{people[0].number}, 12345")  # kept
    checked(page, screens, "unknown-member-refused")

    # Another officer declined the motion while this page was open: admitting it is refused.
    page.goto(f"/council/motions/{shed}")
    declined = DeclineMotion(motion_id=shed, reason="属于物业维修范围")
    commands.decline(declined, acting(site.bone.timebank))

    def admit() -> None:
        page.get_by_role("button", name="受理", exact=True).click()
        expect(page.locator("#notice")).to_have_text(said(RuleViolated("motion-declined", "")))

    nothing_recorded(site, admit)
    checked(page, screens, "stale-admission-refused")
    page.goto(f"/council/motions/{shed}?after={site.bone.timebank.last_position()}")
    expect(page.locator("main .status").first).to_have_text("不予受理")
    expect(page.locator(".timeline li").last).to_contain_text("理由：属于物业维修范围")

    # The rules: sent back unchanged they are refused; a change with its reason is recorded.
    page.get_by_role("link", name="表决规则").click()
    checked(page, screens, "rules")
    page.locator("#rules-reason").fill("核对规则")

    def unchanged() -> None:
        page.get_by_role("button", name="修改规则").click()
        expect(page.locator("#notice")).to_have_text(said(RuleViolated("rules-unchanged", "")))

    nothing_recorded(site, unchanged)
    page.locator("#threshold").select_option("two_thirds")
    page.get_by_label("无记名：只显示票数，不显示谁投了什么票。").check()
    page.locator("#rules-reason").fill("居民代表会议决定：重大事项三分之二通过，无记名投票")
    page.get_by_role("button", name="修改规则").click()
    facts = page.locator("section[aria-labelledby=in-force] .facts")
    expect(facts).to_contain_text("三分之二以上（按所投票数计）")
    expect(facts).to_contain_text("无记名：只显示票数")
    rules = commands.rules_in_force(site.bone.timebank)
    assert (rules.threshold, rules.secret) == ("two_thirds", True)
    checked(page, screens, "rules-changed")

    # Under the new rules a vote is secret: the tally shows counts, never who voted how.
    secret = voting(site, people, "公共区域安装监控")
    cast(site, secret, people[0], Choice.YES)
    cast(site, secret, people[1], Choice.NO)
    page.goto(f"/council/motions/{secret}/vote?after={site.bone.timebank.last_position()}")
    tally = page.locator("#tally")
    expect(tally.locator("dd[data-choice]")).to_have_text(["1", "1", "0"])
    expect(tally).to_contain_text("无记名投票：不显示谁投了什么票。")
    expect(tally.locator(".ballots")).to_have_count(0)
    expect(page.locator("#ballots-link")).to_have_count(0)
    checked(page, screens, "secret-tally")
    before = site.bone.timebank.last_position()
    page.goto(f"/council/motions/{secret}/ballots")
    expect(page.locator("main")).to_contain_text("无记名投票：不显示谁投了什么票。")
    assert site.bone.timebank.last_position() == before  # it names nobody: nothing is logged


def test_the_tracker_shows_progress_bars_and_what_is_overdue(screens):
    site = screens.site
    people = residents(site, 4)
    handrails = adopted(site, people, "加装楼道扶手")
    adopted(site, people, "每月一次义诊")
    make_staff(site, "li.worker", Role.COORDINATOR)
    page = officer(screens)
    page.get_by_role("link", name="落实跟踪").click()
    waiting = page.locator("section[aria-labelledby=waiting] li", has_text="加装楼道扶手")
    waiting.get_by_label("负责人").select_option(label="li.worker")
    due = (datetime.now(UTC) + timedelta(days=30)).date()
    waiting.get_by_label("限期（可不填）").fill(due.isoformat())
    waiting.get_by_role("button", name="指定负责人").click()
    carried = page.locator("table.tracker tr", has_text="加装楼道扶手")
    expect(carried).to_contain_text("li.worker")
    expect(page.locator("section[aria-labelledby=waiting]")).to_contain_text("每月一次义诊")

    # Progress and a milestone that was due a week ago, on the motion's page.
    carried.get_by_role("link", name="加装楼道扶手").click()
    page.locator("#percent").fill("40")
    page.locator("#note").fill("扶手已采购")
    page.get_by_role("button", name="保存进展").click()
    implementation = page.locator("section[aria-labelledby=implementation]")
    expect(implementation.locator("progress")).to_have_attribute("value", "40")
    page.locator("#milestone-name").fill("完成3号楼安装")
    page.locator("#milestone-due").fill((datetime.now(UTC) - timedelta(days=7)).date().isoformat())
    page.get_by_role("button", name="添加这个节点").click()
    expect(page.locator("table.milestones tr.overdue")).to_contain_text("已逾期")
    checked(page, screens, "implementation")

    page.get_by_role("link", name="落实跟踪").click()
    row = page.locator(f"table.tracker tr[data-motion='{handrails}']")
    expect(row).to_have_class("overdue")
    expect(row.locator("progress")).to_have_attribute("value", "40")
    expect(row.get_by_role("progressbar", name="“加装楼道扶手”的进度")).to_be_visible()
    expect(row).to_contain_text("40%")
    expect(row.locator("li.overdue")).to_contain_text("完成3号楼安装")
    checked(page, screens, "tracker")

    page.get_by_role("link", name="English").click()
    expect(row.locator(".status-overdue").first).to_have_text("Overdue")
    checked(page, screens, "tracker-en")
