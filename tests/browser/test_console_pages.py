"""The console's other desks — a resident registered (their details opened on purpose, and
logged), a dispute resolved and a pool grant made, each after a confirmation in plain words —
and every console page checked with axe-core, in Chinese and in English."""

from __future__ import annotations

import uuid
from datetime import timedelta

from playwright.sync_api import Page, expect

from projections import balances, pool
from services.exchange import handlers as exchange
from services.exchange.commands import DisputeHelp, PairIn, RecordHelp
from services.identity import records as identity
from services.pool import handlers as pool_commands
from services.pool.commands import DonateToPool
from tests.browser.conftest import Site, serious_violations, untranslated
from tests.browser.test_console import (
    COORDINATOR,
    coordinator,
    enrol,
    log_hours,
    read_model,
    settled,
    station_now,
)
from tests.integration.support import (
    BY,
    acting,
    approve_entry,
    certify_last_week,
    register_resident,
)


def disputed_exchange(
    site: Site, minutes: int = 90
) -> tuple[identity.Registered, identity.Registered]:
    """Resident A helped B for ``minutes``; B disputes it. Returns (A, B)."""
    giver, receiver = register_resident(site.bone, "王阿姨"), register_resident(site.bone, "李大爷")
    assert giver.account_id is not None and receiver.account_id is not None
    now = site.bone.clock()
    recorded = exchange.record(
        RecordHelp(
            idempotency_key=uuid.uuid4().hex,
            pairs=[
                PairIn(provider=giver.account_id, receiver=receiver.account_id, minutes=minutes)
            ],
            description="陪同就医",
            occurred_at=now - timedelta(hours=3),
        ),
        acting(site.bone.timebank, now),
    )
    exchange.dispute(
        DisputeHelp(
            idempotency_key=uuid.uuid4().hex, exchange_id=recorded.id, reason="实际只有一小时"
        ),
        acting(site.bone.timebank, now),
    )
    return giver, receiver


def balance_of(site: Site, account_id) -> int:
    row = read_model(site, lambda db: balances.account(db, account_id))
    assert row is not None
    return row["balance"]


def test_a_resident_registered_a_dispute_adjusted_and_a_pool_grant_made(screens, site):
    giver, receiver = disputed_exchange(site)
    settled(site)
    page = coordinator(screens, site)

    # A resident registered through the form; their details open only with a purpose, logged.
    page.get_by_role("link", name="居民", exact=True).click()
    page.get_by_role("link", name="登记居民").click()
    for field, value in {
        "#display_name": "张三",
        "#building": "5号楼",
        "#household": "5-101",
        "#phone": "13700000000",
        "#notice_version": "2024-06",
    }.items():
        page.locator(field).fill(value)
    page.get_by_role("button", name="登记", exact=True).click()
    number = page.locator("#member-number").inner_text()
    assert "张三" not in page.locator("main").inner_text()
    screens.snap(page, "registered")
    page.locator("#purpose").fill("电话回访")
    page.get_by_role("button", name="查看个人信息").click()
    expect(page.locator("main")).to_contain_text("13700000000")
    page.get_by_role("link", name="查看查阅记录").click()
    opened = page.locator("#access-log tbody tr", has_text=number)
    expect(opened).to_have_count(1)
    expect(opened).to_contain_text("电话回访")
    expect(opened).to_contain_text(COORDINATOR)
    screens.snap(page, "access-log")

    # ... and then as a volunteer, found in the registry by skill; the phone stays out of it.
    page.goto(f"/console/members?number={number}")
    page.get_by_role("link", name="登记为志愿者").click()
    for field, value in {
        "#name": "张三",
        "#birth_date": "1958-05-01",
        "#id_number": "110101195805010011",
        "#area": "幸福社区",
        "#contact": "13700000000",
        "#skills": "理发，修电器",
        "#building": "5号楼",
        "#consent_version": "volunteer-2026-01",
    }.items():
        page.locator(field).fill(value)
    page.get_by_label("性别").select_option(label="男")
    page.get_by_label("理发").check()
    page.get_by_role("button", name="登记为志愿者").click()
    expect(page.locator("main")).to_contain_text("理发、修电器")
    page.goto("/console/volunteers?skill=修电器")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text(number)
    # Named for staff (one access-log record for the list); the rest of the details stay sealed.
    expect(page.locator("tbody tr")).to_contain_text(f"（{number}）")
    assert "13700000000" not in page.locator("main").inner_text()
    screens.snap(page, "volunteer-found")

    page.goto("/console")
    expect(page.locator("#disputed-count")).to_have_text("1")
    page.get_by_role("link", name="处理争议").click()
    page.get_by_role("link", name="打开").click()
    expect(page.locator("#exchange-status")).to_have_text("有争议")
    page.get_by_label("调整时长").check()
    page.locator("#minutes-1").fill("60")
    page.locator("#resolution-reason").fill("双方确认实际一小时")
    page.get_by_role("button", name="核对处理").click()
    expect(page.locator("#confirm")).to_contain_text(
        f"居民 {receiver.member_number} 向居民 {giver.member_number} 支付 1 小时"
    )
    screens.snap(page, "confirm-resolution")
    page.get_by_role("button", name="是，处理").click()
    expect(page.locator("#exchange-status")).to_have_text("已结算")
    expect(page.locator("#exchange")).to_contain_text("双方确认实际一小时")
    screens.snap(page, "resolved")
    assert balance_of(site, giver.account_id) == 60
    assert balance_of(site, receiver.account_id) == -60

    given = DonateToPool(
        idempotency_key=uuid.uuid4().hex, from_account=giver.account_id, minutes=30
    )
    pool_commands.donation(given, acting(site.bone.timebank, site.bone.clock()))
    settled(site)
    page.get_by_role("link", name="公益池").first.click()
    expect(page.locator("#pool-balance")).to_have_text("0.5 小时")
    page.locator("#member_number").fill(receiver.member_number)
    page.locator("#minutes").fill("30")
    page.locator("#grant-reason").fill("独居老人生活困难")
    page.get_by_role("button", name="核对拨付").click()
    expect(page.locator("#confirm")).to_contain_text(
        f"居民 {receiver.member_number} 将从公益池获得 0.5 小时"
    )
    screens.snap(page, "confirm-grant")
    page.get_by_role("button", name="是，拨付").click()
    expect(page.locator("#pool-balance")).to_have_text("0 小时")
    expect(page.locator("#pool tbody tr").first).to_contain_text("独居老人生活困难")
    # The resident granted to is named for the coordinator (the list is one access-log record).
    expect(page.locator("#pool tbody tr").first).to_contain_text(f"（{receiver.member_number}）")
    screens.snap(page, "granted")
    assert balance_of(site, receiver.account_id) == -30
    assert read_model(site, pool.summary)["granted"] == 30


def prepared(site: Site) -> dict[str, str]:
    """Something on every console page: entries (one approved), a dispute, a donation, an
    opening of personal data and a certificate; the paths of the pages to check."""
    zhou = enrol(site)
    started = station_now(site).replace(hour=9, minute=0, second=0, microsecond=0)
    waiting = log_hours(site, zhou, started - timedelta(days=1), 60, "探访")
    approved = log_hours(site, zhou, started - timedelta(days=2), 90, "读报")
    approve_entry(site.bone.timebank, approved)
    disputed_exchange(site)
    identity.open_personal_data(
        site.bone.timebank, site.bone.vault, member_id=zhou.member_id, purpose="回访", by=BY
    )
    code = certify_last_week(site.bone, zhou.volunteer_id, "幸福社区社工站")
    settled(site)
    return {
        "home": "/console",
        "queue": "/console/hours",
        "timeline": f"/console/hours/{waiting}",
        "report": "/console/report",
        "members": "/console/members",
        "member": f"/console/members/{zhou.member_id}",
        "register": "/console/members/new",
        "volunteers": "/console/volunteers",
        "volunteer": f"/console/volunteers/{zhou.volunteer_id}",
        "disputes": "/console/exchanges",
        "pool": "/console/pool",
        "access-log": "/console/access-log",
        "certificate": f"/console/certificates/{code}",
        "verification": f"/console/certificates/verify/{code}",
    }


def checked(page: Page, screens, name: str, lang: str) -> None:
    expect(page.locator("main h1")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh_CN" else "en")
    assert serious_violations(page) == [], name
    if lang == "zh_CN":
        assert untranslated(page) == [], name
    screens.snap(page, f"{lang}-{name}")


BOTH_LANGUAGES = ("home", "queue", "timeline", "report")


def test_console_pages_are_accessible_and_fully_translated_in_both_languages(screens, site):
    paths = prepared(site)
    page = coordinator(screens, site)
    for name, path in paths.items():
        page.goto(path)
        checked(page, screens, name, "zh_CN")
    page.get_by_role("link", name="English").click()
    for name in BOTH_LANGUAGES:
        page.goto(paths[name])
        checked(page, screens, name, "en")
