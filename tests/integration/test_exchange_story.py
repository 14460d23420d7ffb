"""A full resident story through HTTP on the real app, store, broker and read models: two
residents at a kiosk trade help, dispute it, and a coordinator resolves it; balances are
checked after every step."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.support import (
    bearer,
    kiosk_sign_in,
    make_backbone,
    register,
    register_kiosk,
    serving,
)


@pytest.fixture
def running(broker, stores, tmp_path):
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
    with serving(bone) as served:
        yield served


def key() -> str:
    return uuid.uuid4().hex


class Resident:
    """One resident signed in at the shared kiosk."""

    def __init__(self, client, kiosk, registered: dict) -> None:
        signed_in = kiosk_sign_in(client, kiosk, registered["member_number"])
        assert signed_in.status_code == 201, signed_in.text
        self.client = client
        self.account = registered["account_id"]
        self.headers = bearer(signed_in.json()["token"], kiosk)

    def post(self, path: str, body: dict) -> dict:
        answer = self.client.post(path, json=body, headers=self.headers)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def get(self, path: str, after: int, **params) -> dict:
        answer = self.client.get(path, params={"after": after, **params}, headers=self.headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def balance(self, after: int) -> int:
        return self.get(f"/api/v1/accounts/{self.account}", after)["balance"]


def test_two_residents_trade_help_and_a_coordinator_resolves_a_dispute(running):
    bone, client, _, coordinator = running
    kiosk = register_kiosk(bone)
    wang = Resident(client, kiosk, register(client, coordinator, display_name="Wang"))
    li = Resident(client, kiosk, register(client, coordinator, display_name="Li"))

    def balances(after: int) -> tuple[int, int]:
        return wang.balance(after), li.balance(after)

    def staff(path: str, body: dict) -> dict:
        answer = client.post(path, json=body, headers=coordinator)
        assert answer.status_code == 201, answer.text
        return answer.json()

    # Mrs Wang asks for help with her shopping; Li finds it on the board.
    posted = wang.post(
        "/api/v1/listings",
        {
            "idempotency_key": key(),
            "kind": "request",
            "category": "errands",
            "title": "帮忙买菜",
            "description": "每周二上午，菜市场",
            "building": "3号楼",
        },
    )
    found = li.get("/api/v1/listings", posted["position"], category="errands", building="3号楼")[
        "listings"
    ]
    assert [listing["listing_id"] for listing in found] == [posted["id"]]
    assert found[0]["owner"] == wang.account and found[0]["is_open"]

    # Li helps for an hour and records it: nothing moves until Mrs Wang confirms.
    help_given = li.post(
        "/api/v1/exchanges",
        {
            "idempotency_key": key(),
            "listing_id": posted["id"],
            "pairs": [{"provider": li.account, "receiver": wang.account, "minutes": 60}],
            "description": "买菜",
        },
    )
    assert balances(help_given["position"]) == (0, 0)
    mine = wang.get("/api/v1/exchanges", help_given["position"], status="awaiting_confirmation")
    assert [row["exchange_id"] for row in mine["exchanges"]] == [help_given["id"]]

    confirmed = wang.post(
        f"/api/v1/exchanges/{help_given['id']}/confirmation", {"idempotency_key": key()}
    )
    assert balances(confirmed["position"]) == (-60, 60)
    closed = wang.post(f"/api/v1/listings/{posted['id']}/closure", {"reason": "找到帮手了"})
    board = li.get("/api/v1/listings", closed["position"], category="errands")["listings"]
    assert board == []

    # Li records 90 minutes; Mrs Wang says it was 45 and disputes instead of confirming.
    second = li.post(
        "/api/v1/exchanges",
        {
            "idempotency_key": key(),
            "pairs": [{"provider": li.account, "receiver": wang.account, "minutes": 90}],
            "description": "陪同就医",
        },
    )
    disputed = wang.post(
        f"/api/v1/exchanges/{second['id']}/disputes",
        {"idempotency_key": key(), "reason": "只有45分钟"},
    )
    assert balances(disputed["position"]) == (-60, 60)
    open_disputes = client.get(
        "/api/v1/exchanges",
        params={"status": "disputed", "after": disputed["position"]},
        headers=coordinator,
    ).json()["exchanges"]
    assert [row["exchange_id"] for row in open_disputes] == [second["id"]]
    resolved = staff(
        f"/api/v1/exchanges/{second['id']}/resolution",
        {
            "idempotency_key": key(),
            "outcome": "adjust",
            "minutes": [45],
            "reason": "双方确认45分钟",
        },
    )
    assert balances(resolved["position"]) == (-105, 105)

    # A third trade is confirmed, then disputed within the window: held out of balances
    # at once, and cancelled by the coordinator.
    third = li.post(
        "/api/v1/exchanges",
        {
            "idempotency_key": key(),
            "pairs": [{"provider": li.account, "receiver": wang.account, "minutes": 30}],
        },
    )
    settled = wang.post(f"/api/v1/exchanges/{third['id']}/confirmation", {"idempotency_key": key()})
    assert balances(settled["position"]) == (-135, 135)
    held = wang.post(
        f"/api/v1/exchanges/{third['id']}/disputes",
        {"idempotency_key": key(), "reason": "按错了，这次没有来"},
    )
    assert balances(held["position"]) == (-105, 105)
    cancelled = staff(
        f"/api/v1/exchanges/{third['id']}/resolution",
        {"idempotency_key": key(), "outcome": "cancel", "reason": "服务未发生"},
    )
    assert balances(cancelled["position"]) == (-105, 105)

    # Mrs Wang is at the counter without the kiosk: the coordinator confirms for her.
    fourth = li.post(
        "/api/v1/exchanges",
        {
            "idempotency_key": key(),
            "pairs": [{"provider": li.account, "receiver": wang.account, "minutes": 20}],
        },
    )
    for_her = staff(
        f"/api/v1/exchanges/{fourth['id']}/confirmation",
        {"idempotency_key": key(), "receiver": wang.account},
    )
    assert balances(for_her["position"]) == (-125, 125)
    detail = wang.get(f"/api/v1/exchanges/{fourth['id']}", for_her["position"])
    steps = {step["type"]: step for step in detail["steps"]}
    assert steps["HelpRecorded"]["channel"] == f"kiosk:{kiosk.id}"
    assert steps["ExchangeConfirmed"]["detail"]["on_behalf"] is True
    assert steps["ExchangeConfirmed"]["actor"].startswith("staff:")
    assert steps["ExchangeConfirmed"]["channel"] == "console"

    # Li gives an hour to the pool; the coordinator grants 50 minutes of it to Mrs Wang.
    donated = li.post(
        "/api/v1/pool/donations",
        {"idempotency_key": key(), "from_account": li.account, "minutes": 60},
    )
    assert balances(donated["position"]) == (-125, 65)
    granted = staff(
        "/api/v1/pool/grants",
        {
            "idempotency_key": key(),
            "to_account": wang.account,
            "minutes": 50,
            "reason": "独居老人，时间余额不足",
        },
    )
    assert balances(granted["position"]) == (-75, 65)
    pool = wang.get("/api/v1/pool", granted["position"])
    assert pool == {"balance": 10, "donated": 60, "granted": 50, "grants": 1}
    grants = client.get(
        "/api/v1/pool/movements",
        params={"kind": "grant", "after": granted["position"]},
        headers=coordinator,
    ).json()["movements"]
    assert [(row["counterpart"], row["minutes"]) for row in grants] == [(wang.account, -50)]

    # Her statement tells the whole story, with a running balance.
    statement = wang.get(f"/api/v1/accounts/{wang.account}/statement", granted["position"])
    assert [
        (entry["kind"], entry["minutes"], entry["balance"]) for entry in statement["entries"]
    ] == [
        ("grant", 50, -75),
        ("exchange", -20, -125),
        ("correction", 30, -105),
        ("exchange", -30, -135),
        ("exchange", -45, -105),
        ("exchange", -60, -60),
    ]
