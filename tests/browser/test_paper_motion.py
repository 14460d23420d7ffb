"""A coordinator enters a motion a resident handed in on paper (issue 15, item 6): from the
resident's page, recorded as the resident's, its provenance the coordinator and ``paper``."""

from __future__ import annotations

import msgspec
from playwright.sync_api import expect

from tests.browser.conftest import serious_violations, untranslated
from tests.browser.test_console import coordinator, settled
from tests.integration.support import register_resident, stored_envelopes

TITLE = "小区增设休息长椅"


def test_a_coordinator_enters_a_paper_motion_on_the_residents_behalf(screens, site):
    resident = register_resident(site.bone, "王秀英")
    settled(site)
    page = coordinator(screens, site)
    page.goto(f"/console/members/{resident.id}")
    page.get_by_role("link", name="录入居民的纸质议案").click()
    assert serious_violations(page) == []
    page.locator("#title").fill(TITLE)
    page.locator("#text").fill("在3号楼前增设两张长椅，方便老人休息")
    page.get_by_role("button", name="录入议案").click()
    expect(page.get_by_role("status")).to_contain_text(f"已作为该居民的议案“{TITLE}”录入")
    assert serious_violations(page) == []
    assert untranslated(page) == []
    screens.snap(page, "paper-motion-entered")
    page.reload()  # the answer is a page of its own: reloading it enters nothing twice
    submitted = [e for e in stored_envelopes(site.bone) if e.type == "MotionSubmitted"]
    assert len(submitted) == 1
    assert msgspec.json.decode(submitted[0].data)["mover"] == str(resident.id)
    assert submitted[0].actor.startswith("staff:") and submitted[0].channel == "paper"
