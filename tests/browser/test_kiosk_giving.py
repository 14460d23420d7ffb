"""The kiosk's give-help page posts the command the API takes, and asks it first: whatever
the exchange rules would refuse is said before the confirmation, which names nobody."""

from __future__ import annotations

from playwright.sync_api import expect

from services.ledger import handlers as ledger
from services.ledger.commands import CloseAccount
from tests.browser.conftest import serious_violations, untranslated
from tests.browser.kiosk_people import change_settings, register, sign_in_on_pad
from tests.integration.support import acting


def test_help_for_a_closed_account_is_refused_before_anyone_is_named(site, screens):
    kiosk = site.kiosk()
    wang, li = register(site, "王阿姨"), register(site, "李师傅")
    # Li is still a member, but his time account is closed: only the exchange rules know
    # that no help can be recorded for him (the page checks nothing of its own).
    closing = CloseAccount(account=str(li.account_id), reason="帐户合并")
    ledger.close_account(closing, acting(site.bone.timebank))
    change_settings(site, kiosk_idle_seconds=600)
    page = screens.person(kiosk=kiosk)
    sign_in_on_pad(page, wang)
    page.get_by_role("link", name="记录我给的帮助").click()
    page.locator("#receiver").fill(li.number)
    page.locator("#minutes").fill("60")
    page.get_by_text("陪伴聊天").click()
    before = site.bone.timebank.last_position()

    page.get_by_role("button", name="下一步").click()

    expect(page.locator("#notice .notice-error")).to_contain_text("只有居民本人的时间账户")
    expect(page.locator("#receiver")).to_have_value(li.number)  # the form is still there
    # Nothing recorded, and no name opened (opening one is recorded in the access log).
    assert site.bone.timebank.last_position() == before
    assert untranslated(page) == []
    assert serious_violations(page) == []
    screens.snap(page, "give-to-closed-account-refused")
