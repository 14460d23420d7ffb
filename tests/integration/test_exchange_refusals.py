"""Bad input to exchanges, listings, the pool, rules and limits, through HTTP: each is refused
with a problem+json and a stable ``code``, and records nothing (the store's last position does
not move). ``Town.refuses`` checks both."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.support import POOL, grant_minutes
from tests.integration.test_exchange_story import key
from tests.integration.test_exchanges import (
    DEFAULT_RULES,
    EXCHANGES,
    POOL_DONATIONS,
    POOL_GRANTS,
    RULES,
    pair,
    town_running,
)

LISTINGS = "/api/v1/listings"


@pytest.fixture
def town(broker, stores, tmp_path):
    with town_running(broker, stores, tmp_path) as running:
        yield running


def step(exchange: dict | str, name: str) -> str:
    exchange_id = exchange["id"] if isinstance(exchange, dict) else exchange
    return f"{EXCHANGES}/{exchange_id}/{name}"


def test_only_a_receiver_confirms_and_only_once(town):
    li, wang, zhao, staff = town.li, town.wang, town.zhao, town.coordinator
    single = town.help(li, (li, wang, 30))
    confirm = step(single, "confirmation")
    town.refuses(zhao, "POST", confirm, {"idempotency_key": key()}, 422, "not-a-receiver")
    naming = {"idempotency_key": key(), "receiver": wang.account}
    town.refuses(zhao, "POST", confirm, naming, 422, "not-a-receiver")
    town.refuses(staff, "POST", confirm, {"idempotency_key": key()}, 422, "receiver-required")
    unknown = step(str(uuid.uuid4()), "confirmation")
    town.refuses(wang, "POST", unknown, {"idempotency_key": key()}, 404, "exchange-not-found")

    group = town.help(li, (li, wang, 30), (li, zhao, 30))
    first = {"idempotency_key": key()}
    town.ok(wang, "POST", step(group, "confirmation"), first)
    again = {"idempotency_key": key()}
    town.refuses(wang, "POST", step(group, "confirmation"), again, 422, "already-confirmed")
    # The same key is a retry: answered as before, and nothing new is recorded.
    before = town.bone.timebank.last_position()
    replay = town.send(wang, "POST", step(group, "confirmation"), first)
    assert replay.status_code == 200, replay.text
    assert replay.json()["replayed"] is True and replay.json()["id"] == group["id"]
    assert town.bone.timebank.last_position() == before
    # ... but a key already used to confirm cannot be used to dispute.
    disputing = {**first, "reason": "不对"}
    town.refuses(wang, "POST", step(group, "disputes"), disputing, 422, "idempotency-key-reused")


def test_help_not_confirmed_in_time_can_be_neither_confirmed_nor_disputed(town):
    li, wang = town.li, town.wang
    recorded_at = datetime.now(UTC)
    town.bone.clock = lambda: recorded_at
    late, on_time = town.help(li, (li, wang, 30)), town.help(li, (li, wang, 20))
    deadline = recorded_at + timedelta(hours=DEFAULT_RULES["confirm_within_hours"])

    town.bone.clock = lambda: deadline  # still in time
    town.act(wang, on_time, "confirmation")
    town.bone.clock = lambda: deadline + timedelta(minutes=1)
    confirming, disputing = {"idempotency_key": key()}, {"idempotency_key": key(), "reason": "x"}
    town.refuses(wang, "POST", step(late, "confirmation"), confirming, 422, "exchange-expired")
    town.refuses(wang, "POST", step(late, "disputes"), disputing, 422, "exchange-expired")


def test_settled_help_cannot_be_disputed_after_the_window(town):
    li, wang, zhao, staff = town.li, town.wang, town.zhao, town.coordinator
    settled_at = datetime.now(UTC)
    town.bone.clock = lambda: settled_at
    settled = town.help(li, (li, wang, 30))
    town.act(wang, settled, "confirmation")
    window = timedelta(hours=DEFAULT_RULES["dispute_within_hours"])

    town.bone.clock = lambda: settled_at + window + timedelta(hours=1)

    for party in (wang, li, staff):
        body = {"idempotency_key": key(), "reason": "太晚了"}
        town.refuses(party, "POST", step(settled, "disputes"), body, 422, "dispute-window-closed")
    body = {"idempotency_key": key(), "reason": "不是我的"}
    town.refuses(zhao, "POST", step(settled, "disputes"), body, 422, "not-a-party")


def test_help_that_breaks_a_rule_or_is_malformed_is_not_recorded(town):
    li, wang, zhao, staff = town.li, town.wang, town.zhao, town.coordinator
    outsider = town.post(staff, "/api/v1/accounts", owner="a-neighbour")["id"]
    phone = "有事打13800138000"
    cases = [
        # (who records it, pairs, more of the body, status, code)
        (li, [(li, wang, 481)], {}, 422, "over-exchange-maximum"),
        (li, [(wang, zhao, 30)], {}, 422, "not-the-provider"),
        (li, [(li, li, 30)], {}, 422, "self-exchange"),
        (li, [(li, wang, 30), (li, wang, 20)], {}, 422, "duplicate-pair"),
        (staff, [(li, wang, 30), (zhao, outsider, 30)], {}, 422, "mixed-group"),
        (li, [(li, wang, 30)], {"description": phone}, 422, "contact-details-in-text"),
        (staff, [(li, POOL, 30)], {}, 422, "not-a-member-account"),
        (li, [(li, uuid.uuid4(), 30)], {}, 404, "account-not-found"),
        (li, [(li, wang, 30)], {"occurred_at": "2999-01-01T10:00:00Z"}, 422, "date-in-future"),
        (li, [(li, wang, 0)], {}, 400, "invalid-request"),
        (li, [(li, wang, 24 * 60 + 1)], {}, 400, "invalid-request"),
        (li, [], {}, 400, "invalid-request"),
        (li, [(li, wang, 30)], {"tip": 5}, 400, "invalid-request"),
        (li, [(li, wang, 30)], {"occurred_at": "2026-01-01T10:00:00"}, 422, "time-zone-required"),
        (li, [(li, wang, 30)], {"idempotency_key": "short"}, 400, "invalid-request"),
    ]
    for who, pairs, more, status, code in cases:
        body = {"idempotency_key": key(), "pairs": [pair(*each) for each in pairs], **more}
        town.refuses(who, "POST", EXCHANGES, body, status, code)


def test_a_recording_key_is_answered_as_before_or_refused_for_different_help(town):
    li, wang = town.li, town.wang
    body = {"idempotency_key": key(), "pairs": [pair(li, wang, 30)], "description": "买菜"}
    first = town.ok(li, "POST", EXCHANGES, body)
    before = town.bone.timebank.last_position()
    again = town.send(li, "POST", EXCHANGES, body)
    assert (again.status_code, again.json()["replayed"]) == (200, True)
    assert again.json()["id"] == first["id"] and town.bone.timebank.last_position() == before
    for change in ({"pairs": [pair(li, wang, 45)]}, {"description": "修灯"}):
        reused = {**body, **change}
        town.refuses(li, "POST", EXCHANGES, reused, 422, "idempotency-key-reused")


def test_disputes_resolutions_and_withdrawals_only_by_whom_and_when_allowed(town):
    li, wang, zhao, staff = town.li, town.wang, town.zhao, town.coordinator
    exchange = town.help(li, (li, wang, 30))
    resolve = step(exchange, "resolution")

    def resolution(**body):
        return {"idempotency_key": key(), "reason": "核实", **body}

    town.refuses(
        staff, "POST", resolve, resolution(outcome="uphold"), 422, "exchange-awaiting-confirmation"
    )
    withdrawing = {"idempotency_key": key(), "reason": "不是我"}
    town.refuses(wang, "POST", step(exchange, "withdrawal"), withdrawing, 422, "not-a-provider")
    disputing = {"idempotency_key": key(), "reason": "不是我的"}
    town.refuses(zhao, "POST", step(exchange, "disputes"), disputing, 422, "not-a-party")
    no_reason = {"idempotency_key": key()}
    town.refuses(wang, "POST", step(exchange, "disputes"), no_reason, 400, "invalid-request")
    town.act(wang, exchange, "disputes", reason="只有20分钟")

    for body, status, code in [
        (resolution(outcome="adjust", minutes=[10, 20]), 422, "adjusted-minutes-mismatch"),
        (resolution(outcome="adjust"), 422, "adjusted-minutes-mismatch"),
        (resolution(outcome="adjust", minutes=[30]), 422, "nothing-adjusted"),
        (resolution(outcome="adjust", minutes=[481]), 422, "over-exchange-maximum"),
        (resolution(outcome="uphold", minutes=[20]), 422, "minutes-only-when-adjusting"),
        (resolution(outcome="cancel", reason=" "), 422, "reason-required"),
        (resolution(outcome="maybe"), 400, "invalid-request"),
        ({"idempotency_key": key(), "outcome": "cancel"}, 400, "invalid-request"),
    ]:
        town.refuses(staff, "POST", resolve, body, status, code)
    town.refuses(wang, "POST", resolve, resolution(outcome="cancel"), 403, "forbidden")

    town.act(staff, exchange, "resolution", outcome="adjust", minutes=[20], reason="双方同意")
    town.refuses(staff, "POST", resolve, resolution(outcome="uphold"), 422, "exchange-settled")
    disputing = {"idempotency_key": key(), "reason": "还是不对"}
    town.refuses(wang, "POST", step(exchange, "disputes"), disputing, 422, "already-resolved")


def test_the_pool_gives_only_what_it_holds_and_members_only_what_they_earned(town):
    wang, li, staff = town.wang, town.li, town.coordinator

    def donation(donor, minutes: int) -> dict:
        return {"idempotency_key": key(), "from_account": donor.account, "minutes": minutes}

    def grant(to: str, minutes: int, reason: str = "独居老人") -> dict:
        return {"idempotency_key": key(), "to_account": to, "minutes": minutes, "reason": reason}

    town.refuses(staff, "POST", POOL_GRANTS, grant(wang.account, 10), 422, "pool-insufficient")
    town.refuses(wang, "POST", POOL_DONATIONS, donation(wang, 10), 422, "donation-over-balance")
    grant_minutes(town.client, staff, wang.account, 60)
    town.ok(wang, "POST", POOL_DONATIONS, donation(wang, 40))
    town.refuses(wang, "POST", POOL_DONATIONS, donation(wang, 21), 422, "donation-over-balance")
    town.refuses(staff, "POST", POOL_GRANTS, grant(li.account, 41), 422, "pool-insufficient")
    town.refuses(li, "POST", POOL_DONATIONS, donation(wang, 5), 403, "forbidden")
    town.refuses(staff, "POST", POOL_DONATIONS, donation(wang, 5), 403, "forbidden")
    town.refuses(staff, "POST", POOL_GRANTS, grant(str(POOL), 5), 422, "not-a-member-account")
    town.refuses(staff, "POST", POOL_GRANTS, grant(li.account, 5, " "), 422, "reason-required")
    no_reason = {"idempotency_key": key(), "to_account": li.account, "minutes": 5}
    town.refuses(staff, "POST", POOL_GRANTS, no_reason, 400, "invalid-request")


def test_listings_and_categories_refuse_bad_text_and_strangers(town):
    wang, li, staff = town.wang, town.li, town.coordinator

    def listing(**fields) -> dict:
        return {
            "idempotency_key": key(),
            "kind": "offer",
            "category": "errands",
            "title": "买菜",
            **fields,
        }

    for fields, status, code in [
        ({"title": "修电脑 13800138000"}, 422, "contact-details-in-text"),
        ({"place": "call 138 0013 8000"}, 422, "contact-details-in-text"),
        ({"category": "astrology"}, 422, "unknown-category"),
        ({"title": "   "}, 422, "title-required"),
        ({"kind": "swap"}, 400, "invalid-request"),
        ({"price": 5}, 400, "invalid-request"),
    ]:
        town.refuses(wang, "POST", LISTINGS, listing(**fields), status, code)
    town.refuses(staff, "POST", LISTINGS, listing(), 403, "forbidden")

    posted = town.ok(wang, "POST", LISTINGS, listing())
    closure, reason = f"{LISTINGS}/{posted['id']}/closure", {"reason": "不要了"}
    town.refuses(li, "POST", closure, reason, 422, "not-your-listing")
    town.ok(wang, "POST", closure, reason)
    town.refuses(wang, "POST", closure, reason, 422, "listing-closed")
    unknown = f"{LISTINGS}/{uuid.uuid4()}/closure"
    town.refuses(wang, "POST", unknown, reason, 404, "listing-not-found")

    category = {"code": "errands", "name_zh": "跑腿", "name_en": "Errands"}
    town.refuses(staff, "POST", "/api/v1/categories", category, 422, "category-exists")
    bad_code = {**category, "code": "Garden_1"}
    town.refuses(staff, "POST", "/api/v1/categories", bad_code, 422, "invalid-category-code")
    town.refuses(wang, "POST", "/api/v1/categories", category, 403, "forbidden")
    retire = "/api/v1/categories/astrology/retirement"
    town.refuses(staff, "POST", retire, reason, 404, "category-not-found")


def test_residents_learn_nothing_of_exchanges_they_are_not_part_of(town):
    li, wang, zhao = town.li, town.wang, town.zhao
    exchange = town.help(li, (li, wang, 30))
    detail = f"{EXCHANGES}/{exchange['id']}"
    town.get(wang, detail, after=exchange["position"])  # visible to its parties
    town.refuses(zhao, "GET", detail, None, 404, "exchange-not-found")
    town.refuses(zhao, "GET", EXCHANGES, None, 403, "forbidden", account=wang.account)
    unknown = f"{EXCHANGES}/{uuid.uuid4()}"
    town.refuses(town.coordinator, "GET", unknown, None, 404, "exchange-not-found")


def test_rules_and_limits_need_a_reason_and_sensible_numbers(town):
    wang, staff = town.wang, town.coordinator
    rules = {**DEFAULT_RULES, "reason": "理事会决议"}
    for body, status, code in [
        ({**rules, "reason": ""}, 400, "invalid-request"),
        ({**rules, "reason": "  "}, 422, "reason-required"),
        ({**rules, "max_minutes": 0}, 400, "invalid-request"),
        ({**rules, "surprise": 1}, 400, "invalid-request"),
        ({k: v for k, v in rules.items() if k != "dispute_within_hours"}, 400, "invalid-request"),
    ]:
        town.refuses(staff, "PUT", RULES, body, status, code)
    town.refuses(wang, "PUT", RULES, rules, 403, "forbidden")

    limits = f"/api/v1/accounts/{wang.account}/limits"
    for body, status, code in [
        ({"floor": 10, "cap": 100, "reason": "试试"}, 422, "invalid-limits"),
        ({"floor": -10, "cap": -1, "reason": "试试"}, 422, "invalid-limits"),
        ({"floor": -10, "cap": 100, "reason": " "}, 422, "reason-required"),
        ({"floor": -10, "cap": 100}, 400, "invalid-request"),
    ]:
        town.refuses(staff, "PUT", limits, body, status, code)
    body = {"floor": -10, "cap": 100, "reason": "试试"}
    town.refuses(wang, "PUT", limits, body, 403, "forbidden")
    unknown = f"/api/v1/accounts/{uuid.uuid4()}/limits"
    town.refuses(staff, "PUT", unknown, body, 404, "account-not-found")


def test_recording_retried_after_an_adjusted_resolution_answers_as_the_first_time(town):
    li, wang = town.li, town.wang
    body = {"idempotency_key": key(), "pairs": [pair(li, wang, 40)]}
    first = town.ok(li, "POST", EXCHANGES, body)
    town.act(wang, first, "disputes", reason="只有20分钟")
    town.act(town.coordinator, first, "resolution", outcome="adjust", minutes=[20], reason="核实")
    again = town.send(li, "POST", EXCHANGES, body)
    assert again.status_code == 200, again.text
    assert again.json()["replayed"] is True and again.json()["id"] == first["id"]


def test_the_pools_floor_cannot_be_lowered_below_zero(town):
    before = town.bone.timebank.last_position()
    body = {"floor": -100, "cap": None, "reason": "周转"}
    answer = town.send(town.coordinator, "PUT", "/api/v1/accounts/pool/limits", body)
    assert answer.status_code == 422, answer.text
    assert town.bone.timebank.last_position() == before


def test_a_donation_key_reused_for_another_donation_is_refused(town):
    wang, li = town.wang, town.li
    grant_minutes(town.client, town.coordinator, wang.account, 100)
    grant_minutes(town.client, town.coordinator, li.account, 100)
    first = {"idempotency_key": key(), "from_account": wang.account, "minutes": 30}
    town.ok(wang, "POST", POOL_DONATIONS, first)
    other_minutes = {**first, "minutes": 60}
    town.refuses(wang, "POST", POOL_DONATIONS, other_minutes, 422, "idempotency-key-reused")
    other_donor = {**first, "from_account": li.account}
    town.refuses(li, "POST", POOL_DONATIONS, other_donor, 422, "idempotency-key-reused")


def test_a_refusal_does_not_tell_a_resident_anothers_balance(town):
    li, wang, zhao, staff = town.li, town.wang, town.zhao, town.coordinator
    grant_minutes(town.client, staff, wang.account, 25)
    limits = {"floor": 0, "cap": None, "reason": "不欠时"}
    town.ok(staff, "PUT", f"/api/v1/accounts/{wang.account}/limits", limits)
    group = town.help(li, (li, wang, 30), (li, zhao, 30))
    town.act(wang, group, "confirmation")
    problem = town.refuses(
        zhao, "POST", step(group, "confirmation"), {"idempotency_key": key()}, 422, "below-floor"
    )
    assert not re.search(r"(?<![\w-])25(?![\w-])", problem["detail"]), problem["detail"]
