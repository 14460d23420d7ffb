"""Help exchanges, listings, categories, rules and limits through HTTP on the real app, store,
broker and read models: what each does when it works (the refusals are in
test_exchange_refusals.py)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

import msgspec
import pytest

from tests.integration.support import (
    caught_up,
    grant_minutes,
    live_dumps,
    make_backbone,
    rebuilt_dumps,
    refused,
    register,
    register_kiosk,
    serving,
    wait_until,
)
from tests.integration.test_exchange_story import Resident, key

EXCHANGES = "/api/v1/exchanges"
RULES = "/api/v1/exchanges/rules"
CATEGORIES = "/api/v1/categories"
POOL_DONATIONS = "/api/v1/pool/donations"
POOL_GRANTS = "/api/v1/pool/grants"
DEFAULT_RULES = {"max_minutes": 480, "confirm_within_hours": 168, "dispute_within_hours": 336}
NEW_RULES = {"max_minutes": 300, "confirm_within_hours": 72, "dispute_within_hours": 48}


def account(party: Any) -> str:
    """A resident's account id; anything else (an account id already) as it is."""
    return party.account if isinstance(party, Resident) else str(party)


def pair(provider: Any, receiver: Any, minutes: int) -> dict:
    return {"provider": account(provider), "receiver": account(receiver), "minutes": minutes}


def event_at(bone, position: int) -> Any:
    """The domain event stored at ``position``."""
    (notification,) = bone.timebank.recorder.select_notifications(start=position, limit=1)
    return bone.timebank.mapper.to_domain_event(notification)


class Town:
    """A running station: a coordinator, a kiosk, and residents signed in there (each is
    registered when a test first names them). ``who`` is a resident or staff headers."""

    def __init__(self, served) -> None:
        self.bone, self.client, self.admin, self.coordinator = served
        self.kiosk = register_kiosk(self.bone)

    def resident(self, name: str) -> Resident:
        registered = register(self.client, self.coordinator, display_name=name)
        return Resident(self.client, self.kiosk, registered)

    wang = cached_property(lambda self: self.resident("Wang"))
    li = cached_property(lambda self: self.resident("Li"))
    zhao = cached_property(lambda self: self.resident("Zhao"))
    chen = cached_property(lambda self: self.resident("Chen"))

    def send(self, who: Any, method: str, path: str, body: Any = None, **params: Any):
        headers = who.headers if isinstance(who, Resident) else who
        return self.client.request(method, path, json=body, params=params, headers=headers)

    def ok(self, who: Any, method: str, path: str, body: Any = None, **params: Any) -> Any:
        answer = self.send(who, method, path, body, **params)
        assert 200 <= answer.status_code < 300, f"{method} {path}: {answer.text}"
        return answer.json()

    def get(self, who: Any, path: str, **params: Any) -> Any:
        return self.ok(who, "GET", path, **params)

    def post(self, who: Any, path: str, **body: Any) -> dict:
        return self.ok(who, "POST", path, body)

    def put(self, who: Any, path: str, **body: Any) -> dict:
        return self.ok(who, "PUT", path, body)

    def refuses(
        self, who: Any, method: str, path: str, body: Any, status: int, code: str, **params: Any
    ) -> dict:
        """Assert the request is refused with ``status`` and ``code`` and records nothing."""
        before = self.bone.timebank.last_position()
        answer = self.send(who, method, path, body, **params)
        assert answer.status_code == status, f"expected {code}: {answer.text}"
        problem = refused(answer, status, code)
        assert self.bone.timebank.last_position() == before, f"{code}: something was recorded"
        return problem

    def help(self, by: Any, *pairs: tuple[Any, Any, int], **extra: Any) -> dict:
        """Record help given: (provider, receiver, minutes) pairs; the receipt."""
        return self.post(
            by, EXCHANGES, idempotency_key=key(), pairs=[pair(*each) for each in pairs], **extra
        )

    def act(self, who: Any, receipt: dict, step: str, **body: Any) -> dict:
        """Take ``step`` (confirmation, disputes, resolution, withdrawal) on an exchange."""
        return self.post(who, f"{EXCHANGES}/{receipt['id']}/{step}", idempotency_key=key(), **body)

    def balances(self, after: int, *parties: Any) -> tuple[int, ...]:
        path = "/api/v1/accounts/{}"
        return tuple(
            self.get(self.coordinator, path.format(account(p)), after=after)["balance"]
            for p in parties
        )

    def detail(self, receipt: dict, after: int | None = None) -> dict:
        params = {"after": after} if after else {}
        return self.get(self.coordinator, f"{EXCHANGES}/{receipt['id']}", **params)

    def listing(self, who: Any, **fields: Any) -> dict:
        fields = {"kind": "offer", "category": "errands", **fields}
        return self.post(who, "/api/v1/listings", idempotency_key=key(), **fields)


@contextmanager
def town_running(broker, stores, tmp_path, *, sweep_seconds: float = 3600.0):
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
    # Settings is a frozen Struct; the sweeper reads bone.settings before each round.
    bone.settings = msgspec.structs.replace(bone.settings, expiry_sweep_seconds=sweep_seconds)
    with serving(bone) as served:
        yield Town(served)


@pytest.fixture
def town(broker, stores, tmp_path):
    """The expiry sweeper's first round is an hour away: no expiry lands mid-test."""
    with town_running(broker, stores, tmp_path) as running:
        yield running


@pytest.fixture
def swept_town(broker, stores, tmp_path):
    """The sweeper looks for expired help every 50 ms."""
    with town_running(broker, stores, tmp_path, sweep_seconds=0.05) as running:
        yield running


def test_a_group_moves_every_balance_at_once_when_the_last_receiver_confirms(town):
    li, wang, zhao, chen = everyone = (town.li, town.wang, town.zhao, town.chen)
    group = town.help(li, (li, wang, 30), (li, zhao, 40), (li, chen, 50), description="义剪")
    for receiver in (wang, zhao):
        confirmed = town.act(receiver, group, "confirmation")
        assert town.balances(confirmed["position"], *everyone) == (0, 0, 0, 0)

    last = town.act(chen, group, "confirmation")

    assert town.balances(last["position"], *everyone) == (120, -30, -40, -50)
    detail = town.detail(group, last["position"])
    assert (detail["status"], detail["minutes"]) == ("settled", 120)
    parties = {
        p["account_id"]: (p["role"], p["minutes"], p["confirmed"]) for p in detail["parties"]
    }
    assert parties == {
        li.account: ("provider", 120, False),
        wang.account: ("receiver", 30, True),
        zhao.account: ("receiver", 40, True),
        chen.account: ("receiver", 50, True),
    }

    def newest_entry(party: Resident) -> dict:
        path = f"/api/v1/accounts/{party.account}/statement"
        return town.get(town.coordinator, path, after=last["position"], limit=1)["entries"][0]

    newest = [newest_entry(party) for party in everyone]
    assert [(entry["kind"], entry["minutes"]) for entry in newest] == [
        ("exchange", minutes) for minutes in (120, -30, -40, -50)
    ]
    assert {entry["transfer_id"] for entry in newest} == {detail["settlement"]}


def test_a_group_settles_all_or_nothing_when_one_receiver_is_at_their_floor(town):
    li, wang, zhao, chen = everyone = (town.li, town.wang, town.zhao, town.chen)
    limits = f"/api/v1/accounts/{chen.account}/limits"
    changed = town.put(town.coordinator, limits, floor=0, cap=6000, reason="家属要求不欠时")
    event = event_at(town.bone, changed["position"])
    assert type(event).__name__ == "LimitsChanged" and event.reason == "家属要求不欠时"
    assert (event.limits.floor, event.limits.cap) == (0, 6000)
    assert event.by.actor.startswith("staff:")
    shown = town.get(
        town.coordinator, f"/api/v1/accounts/{chen.account}", after=changed["position"]
    )
    assert (shown["floor"], shown["cap"], shown["balance"]) == (0, 6000, 0)

    group = town.help(li, (li, wang, 30), (li, zhao, 30), (li, chen, 30))
    # Chen's own confirmation is not the last one, so nothing is posted (or checked) yet.
    town.act(chen, group, "confirmation")
    town.act(wang, group, "confirmation")
    path = f"{EXCHANGES}/{group['id']}/confirmation"
    town.refuses(zhao, "POST", path, {"idempotency_key": key()}, 422, "below-floor")

    position = town.bone.timebank.last_position()
    assert town.balances(position, *everyone) == (0, 0, 0, 0)
    detail = town.detail(group, position)
    assert detail["status"] == "awaiting_confirmation" and detail["settlement"] is None
    confirmed = {p["account_id"]: p["confirmed"] for p in detail["parties"]}
    assert confirmed == {
        li.account: False,
        wang.account: True,
        zhao.account: False,
        chen.account: True,
    }

    # Once Chen has minutes of her own, the same last confirmation settles the whole group.
    grant_minutes(town.client, town.coordinator, chen.account, 30)
    settled = town.act(zhao, group, "confirmation")
    assert town.balances(settled["position"], *everyone) == (90, -30, -30, 0)


def test_a_coordinator_records_help_several_residents_gave_one(town):
    li, wang, zhao, chen = town.li, town.wang, town.zhao, town.chen
    recorded = town.help(town.coordinator, (wang, li, 20), (zhao, li, 30), (chen, li, 40))
    confirmed = town.act(li, recorded, "confirmation")

    assert town.balances(confirmed["position"], li, wang, zhao, chen) == (-90, 20, 30, 40)
    detail = town.detail(recorded, confirmed["position"])
    assert {p["account_id"]: (p["role"], p["minutes"]) for p in detail["parties"]} == {
        li.account: ("receiver", 90),
        wang.account: ("provider", 20),
        zhao.account: ("provider", 30),
        chen.account: ("provider", 40),
    }
    recording, confirming, settling = detail["steps"]
    assert recording["actor"].startswith("staff:") and recording["channel"] == "console"
    assert confirming["actor"].startswith("member:") and not confirming["detail"]["on_behalf"]
    assert settling["type"] == "ExchangeSettled"


def test_unconfirmed_help_expires_when_its_time_is_up(swept_town):
    town = swept_town
    li, wang = town.li, town.wang
    waiting = town.help(li, (li, wang, 30))
    settled = town.help(li, (li, wang, 20))
    town.act(wang, settled, "confirmation")
    expires_at = datetime.fromisoformat(town.detail(waiting, waiting["position"])["expires_at"])

    town.bone.clock = lambda: expires_at + timedelta(seconds=1)

    wait_until(lambda: town.detail(waiting)["status"] == "expired", what="the help to expire")
    last = town.detail(waiting)["steps"][-1]
    assert (last["type"], last["actor"], last["channel"]) == ("ExchangeExpired", "system", "system")
    assert town.detail(settled)["status"] == "settled"
    path = f"{EXCHANGES}/{waiting['id']}/confirmation"
    town.refuses(wang, "POST", path, {"idempotency_key": key()}, 422, "exchange-expired")
    assert town.balances(town.bone.timebank.last_position(), li, wang) == (20, -20)


def test_exchange_rules_change_with_a_reason_and_bind_only_help_recorded_after(town):
    li, wang = town.li, town.wang
    assert town.get(wang, RULES) == DEFAULT_RULES
    earlier = town.help(li, (li, wang, 400))

    changed = town.put(town.coordinator, RULES, **NEW_RULES, reason="理事会决议")

    event = event_at(town.bone, changed["position"])
    assert type(event).__name__ == "ExchangeRulesChanged" and event.reason == "理事会决议"
    assert town.get(wang, RULES) == NEW_RULES
    over = {"idempotency_key": key(), "pairs": [pair(li, wang, 301)]}
    town.refuses(li, "POST", EXCHANGES, over, 422, "over-exchange-maximum")
    later = town.help(li, (li, wang, 300))

    def time_to_confirm(receipt: dict) -> timedelta:
        detail = town.detail(receipt, later["position"])
        recorded_at = datetime.fromisoformat(detail["recorded_at"])
        return datetime.fromisoformat(detail["expires_at"]) - recorded_at

    assert abs(time_to_confirm(earlier) - timedelta(hours=168)) < timedelta(minutes=1)
    assert abs(time_to_confirm(later) - timedelta(hours=72)) < timedelta(minutes=1)
    # Help recorded before the change keeps its own maximum: 350 may stand after a dispute.
    town.act(wang, earlier, "disputes", reason="只有350分钟")
    resolved = town.act(
        town.coordinator, earlier, "resolution", outcome="adjust", minutes=[350], reason="同意"
    )
    assert town.balances(resolved["position"], li, wang) == (350, -350)


def test_coordinators_manage_categories_and_a_retired_one_takes_no_new_listings(town):
    wang, staff = town.wang, town.coordinator
    starting = town.get(wang, CATEGORIES)
    assert [row["code"] for row in starting][:2] == ["companionship", "errands"]
    assert all(row["is_active"] for row in starting)

    added = town.post(staff, CATEGORIES, code="gardening", name_zh="园艺", name_en="Gardening")
    shown = town.get(wang, CATEGORIES, after=added["position"])[-1]
    assert shown == {
        "code": "gardening",
        "name_zh": "园艺",
        "name_en": "Gardening",
        "is_active": True,
    }
    posted = town.listing(wang, category="gardening", title="帮忙浇花")

    retired = town.post(staff, f"{CATEGORIES}/gardening/retirement", reason="没人用")
    after = retired["position"]
    assert "gardening" not in {row["code"] for row in town.get(wang, CATEGORIES, after=after)}
    everything = town.get(wang, CATEGORIES, include_retired="true")
    assert {row["code"]: row["is_active"] for row in everything}["gardening"] is False
    body = {"idempotency_key": key(), "kind": "offer", "category": "gardening", "title": "修剪"}
    town.refuses(wang, "POST", "/api/v1/listings", body, 422, "category-retired")
    kept = town.get(wang, f"/api/v1/listings/{posted['id']}")
    assert (kept["category"], kept["is_open"]) == ("gardening", True)


def test_the_board_is_searched_by_kind_building_and_words(town):
    wang, li = town.wang, town.li
    errands = town.listing(
        wang, kind="request", title="买菜", description="周二上午", building="3号楼"
    )
    repairs = town.listing(li, category="repairs", title="修理电视机", building="5号楼")
    tutoring = town.listing(li, category="tutoring", title="辅导小学数学", building="3号楼")
    chat = town.listing(wang, category="companionship", title="陪老人聊天", building="3号楼")
    closed = town.post(wang, f"/api/v1/listings/{chat['id']}/closure", reason="已找到")

    def found(who: Any, **params: Any) -> list[str]:
        rows = town.get(who, "/api/v1/listings", after=closed["position"], **params)["listings"]
        return [row["listing_id"] for row in rows]

    assert found(li, kind="offer") == [tutoring["id"], repairs["id"]]
    assert found(li, building="3号楼") == [tutoring["id"], errands["id"]]
    assert found(li, kind="offer", building="3号楼") == [tutoring["id"]]
    assert found(li, category="repairs") == [repairs["id"]]
    assert found(li, q="数学") == [tutoring["id"]]
    assert found(li, q="周二") == [errands["id"]]  # words in the description count too
    assert found(li, q="聊天") == []  # closed listings are off the board
    assert found(wang, mine="true") == [chat["id"], errands["id"]]  # ... but not off "mine"
    assert found(li, mine="true") == [tutoring["id"], repairs["id"]]
    shown = town.get(li, f"/api/v1/listings/{chat['id']}")
    assert shown["is_open"] is False and shown["closed_at"]


def test_the_provider_withdraws_help_recorded_by_mistake_before_anyone_confirms(town):
    li, wang, zhao = town.li, town.wang, town.zhao
    mistaken = town.help(li, (li, wang, 30))
    withdrawn = town.act(li, mistaken, "withdrawal", reason="记错了人")

    detail = town.detail(mistaken, withdrawn["position"])
    assert detail["status"] == "withdrawn"
    assert detail["steps"][-1]["type"] == "ExchangeWithdrawn"
    assert detail["steps"][-1]["detail"]["reason"] == "记错了人"
    path = f"{EXCHANGES}/{mistaken['id']}/confirmation"
    town.refuses(wang, "POST", path, {"idempotency_key": key()}, 422, "exchange-withdrawn")
    assert town.balances(withdrawn["position"], li, wang) == (0, 0)

    # Once anyone has confirmed, the help can only be disputed.
    group = town.help(li, (li, wang, 30), (li, zhao, 30))
    town.act(wang, group, "confirmation")
    body = {"idempotency_key": key(), "reason": "想撤回"}
    path = f"{EXCHANGES}/{group['id']}/withdrawal"
    town.refuses(li, "POST", path, body, 422, "already-confirmed")
    # A coordinator can withdraw for the provider, who phoned the station.
    other = town.help(li, (li, zhao, 15))
    by_staff = town.act(town.coordinator, other, "withdrawal", reason="居民来电说记错了")
    assert town.detail(other, by_staff["position"])["status"] == "withdrawn"


def test_exchange_lists_filter_and_residents_see_only_their_own(town):
    li, wang, zhao, staff = town.li, town.wang, town.zhao, town.coordinator
    waiting = town.help(li, (li, wang, 10))["id"]
    settled = town.help(li, (li, zhao, 20))
    town.act(zhao, settled, "confirmation")
    settled = settled["id"]
    disputed = town.help(zhao, (zhao, wang, 30))
    last = town.act(wang, disputed, "disputes", reason="没有来")
    disputed = disputed["id"]

    def ids(who: Any, **params: Any) -> list[str]:
        rows = town.get(who, EXCHANGES, after=last["position"], **params)["exchanges"]
        return [row["exchange_id"] for row in rows]

    assert ids(staff) == [disputed, settled, waiting]
    assert ids(staff, status="settled") == [settled]
    assert ids(staff, status="disputed") == [disputed]
    assert ids(staff, account=wang.account) == [disputed, waiting]
    assert ids(staff, account=zhao.account, status="settled") == [settled]
    assert ids(wang) == ids(wang, account=wang.account) == [disputed, waiting]
    assert ids(wang, status="awaiting_confirmation") == [waiting]
    assert ids(li) == [settled, waiting]
    town.refuses(wang, "GET", EXCHANGES, None, 403, "forbidden", account=zhao.account)


def test_exchange_lists_page_newest_first(town):
    li, wang = town.li, town.wang
    for minutes in range(1, 6):
        last = town.help(li, (li, wang, minutes))
    for who in (town.coordinator, wang):
        pages, before = [], None
        while True:
            paging = {"before": before} if before else {}
            page = town.get(who, EXCHANGES, after=last["position"], limit=2, **paging)
            pages.append([row["minutes"] for row in page["exchanges"]])
            before = page["next_before"]
            if before is None:
                break
        assert pages == [[5, 4], [3, 2], [1]]


def test_read_models_rebuilt_from_the_stream_equal_the_live_ones(broker, stores, tmp_path):
    """After a busy day, with every ending an exchange can have, a rebuild matches. The
    rebuild re-points the projections' durable consumers, so the workers stop first."""
    with town_running(broker, stores, tmp_path, sweep_seconds=0.05) as town:
        _a_busy_day(town)
        wait_until(lambda: caught_up(town.bone), what="read models")

    assert rebuilt_dumps(stores.new("rebuilt"), broker.url) == live_dumps(town.bone)


def _a_busy_day(town: Town) -> None:
    """Listings, categories, exchanges settled, adjusted, cancelled, upheld, grouped,
    withdrawn and expired, the pool, rules and limits."""
    li, wang, zhao, staff = town.li, town.wang, town.zhao, town.coordinator
    town.post(staff, CATEGORIES, code="gardening", name_zh="园艺", name_en="Gardening")
    wanted = town.listing(wang, kind="request", category="gardening", title="浇花")
    town.listing(li, title="代买药", building="3号楼")
    town.post(wang, f"/api/v1/listings/{wanted['id']}/closure", reason="已找到")
    town.post(staff, f"{CATEGORIES}/gardening/retirement", reason="合并")

    town.act(wang, town.help(li, (li, wang, 60), listing_id=wanted["id"]), "confirmation")
    adjusted = town.help(li, (li, wang, 90))
    town.act(wang, adjusted, "confirmation")
    town.act(wang, adjusted, "disputes", reason="只有45分钟")
    town.act(staff, adjusted, "resolution", outcome="adjust", minutes=[45], reason="核实")
    cancelled = town.help(zhao, (zhao, wang, 30))
    town.act(wang, cancelled, "disputes", reason="没有来")
    town.act(staff, cancelled, "resolution", outcome="cancel", reason="服务未发生")
    upheld = town.help(wang, (wang, li, 20))
    town.act(li, upheld, "disputes", reason="时间不对")
    town.act(staff, upheld, "resolution", outcome="uphold", reason="核实无误")
    group = town.help(li, (li, wang, 10), (li, zhao, 15))
    town.act(wang, group, "confirmation")
    town.act(zhao, group, "confirmation")
    town.act(zhao, town.help(zhao, (zhao, li, 5)), "withdrawal", reason="记错了")
    expiring = town.help(li, (li, zhao, 25))
    half_confirmed = town.help(li, (li, wang, 5), (li, zhao, 5))
    town.act(wang, half_confirmed, "confirmation")
    town.post(li, POOL_DONATIONS, idempotency_key=key(), from_account=li.account, minutes=30)
    grant = {"to_account": zhao.account, "minutes": 20, "reason": "独居老人"}
    town.post(staff, POOL_GRANTS, idempotency_key=key(), **grant)
    town.put(staff, RULES, **NEW_RULES, reason="理事会决议")
    town.put(staff, f"/api/v1/accounts/{zhao.account}/limits", floor=-300, cap=6000, reason="调整")

    # Eight days later, the help nobody (or not everybody) confirmed has expired.
    later = datetime.now(UTC) + timedelta(days=8)
    town.bone.clock = lambda: later
    recorded = town.bone.timebank.last_position()  # so the read model has them all
    for receipt in (expiring, half_confirmed):
        wait_until(lambda r=receipt: town.detail(r, recorded)["status"] == "expired", what="expiry")


def test_staff_asking_for_their_own_listings_see_none(town):
    posted = town.listing(town.wang, title="帮忙买菜")
    closed = town.post(town.wang, f"/api/v1/listings/{posted['id']}/closure", reason="好了")
    mine = town.get(town.coordinator, "/api/v1/listings", mine="true", after=closed["position"])
    assert mine["listings"] == []


def test_board_search_ignores_letter_case_on_every_store(town):
    posted = town.listing(town.li, category="repairs", title="TV repair")
    rows = town.get(town.wang, "/api/v1/listings", q="tv", after=posted["position"])["listings"]
    assert [row["listing_id"] for row in rows] == [posted["id"]]
