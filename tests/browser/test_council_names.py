"""Names on the council's pages (issue 15, item 7): a motion's page names its mover and the
residents in its timeline, one access-log record per view; the live tally, which refreshes
every 2 s and may be on the meeting room's screen, shows counts only and records nothing; who
voted how in an open ballot is a page of its own, by name, one record each time it is drawn."""

from __future__ import annotations

from playwright.sync_api import expect

from domain.council import Choice
from projections import access_log
from services.pages import purposes
from tests.browser.test_console import read_model, settled
from tests.browser.test_console_names import _lists
from tests.browser.test_council import (
    LIVE_TALLY_WAIT,
    cast,
    checked,
    officer,
    residents,
    voting,
)


def test_the_motion_and_its_ballots_are_named_and_the_live_tally_logs_nothing(screens):
    site = screens.site
    people = residents(site, 4)
    motion = voting(site, people, "加装楼道扶手")
    cast(site, motion, people[0], Choice.YES)
    cast(site, motion, people[2], Choice.NO)
    page = officer(screens)

    page.goto(f"/council/motions/{motion}")
    expect(page.locator(".facts").first).to_contain_text(f"居民0（{people[0].number}）")
    timeline = page.locator(".timeline")
    for n, person in enumerate(people):  # the mover submitted it, the next three supported it
        expect(timeline).to_contain_text(f"居民{n}（{person.number}）")
    checked(page, screens, "motion-named")
    [viewed] = _lists(site)
    assert (viewed["purpose"], viewed["shown"]) == (purposes.MOTION, 4)

    page.goto(f"/council/motions/{motion}/vote")
    tally = page.locator("#tally")
    expect(tally.locator("dd[data-choice]")).to_have_text(["1", "1", "0"])
    cast(site, motion, people[3], Choice.ABSTAIN)
    expect(tally.locator("dd[data-choice]")).to_have_text(["1", "1", "1"], timeout=LIVE_TALLY_WAIT)
    expect(tally.locator(".ballots")).to_have_count(0)
    assert "居民" not in tally.inner_text()
    assert len(_lists(site)) == 1  # the refreshes named nobody
    checked(page, screens, "tally-counts-only")

    page.locator("#ballots-link").click()
    rows = page.locator("#ballots .ballots tbody tr")
    voted = {0: "赞成", 2: "反对", 3: "弃权"}
    expect(rows).to_have_text(  # by member number
        sorted(
            (f"居民{n}（{people[n].number}）{choice}" for n, choice in voted.items()),
            key=lambda row: row.split("（")[1],
        )
    )
    expect(page.locator("#ballots-heading")).to_have_text("已投 3 票")
    checked(page, screens, "ballots-named")
    listed = _lists(site)
    assert (listed[0]["purpose"], listed[0]["shown"]) == (purposes.BALLOTS, 3)
    mine = read_model(site, lambda db: access_log.entries(db, people[2].id, limit=50))
    assert [row["purpose"] for row in mine] == [purposes.BALLOTS, purposes.MOTION]

    cast(site, motion, people[1], Choice.YES)
    settled(site)
    page.get_by_role("link", name="显示最新投票情况").click()
    expect(rows).to_have_count(4)
    assert [row["shown"] for row in _lists(site)][:2] == [4, 3]

    page.get_by_role("link", name="English").click()
    expect(page.locator("#ballots-heading")).to_have_text("4 ballots")
    expect(rows.filter(has_text=people[0].number)).to_have_text(
        f"居民0 ({people[0].number})In favour"
    )
    checked(page, screens, "ballots-named-en")
