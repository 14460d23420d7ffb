"""Gifts to family (亲属转赠) through HTTP: a tie proposed and consented to at the kiosk or from
a paper form, gifts of minutes earned by service along it — also to a relative at another
station — shown in both statements, and every refusal recording nothing."""

from __future__ import annotations

from functools import cached_property
from typing import Any
from uuid import UUID

import msgspec
import pytest

from domain.identity import Member, Role
from domain.ledger import AccountKind, system_account_id
from domain.station import DEFAULT_STATION, Level
from services.identity.commands import Reach
from tests.integration.support import (
    ADMIN_PASSWORD,
    create_staff,
    grant_minutes,
    make_backbone,
    register,
    serving,
    sign_in_staff,
    stored_envelopes,
)
from tests.integration.test_exchange_story import Resident, key
from tests.integration.test_exchanges import Town

TIES = "/api/v1/family/ties"
GIFTS = "/api/v1/family/gifts"
ALLOWANCE = "/api/v1/family/allowance"


class Kin(Resident):
    """A resident signed in at the kiosk, who knows their member id."""

    def __init__(self, town: Town, name: str) -> None:
        registered = register(town.client, town.coordinator, display_name=name)
        super().__init__(town.client, town.kiosk, registered)
        self.member_id = registered["id"]


class Family(Town):
    grandma = cached_property(lambda self: Kin(self, "Grandma"))
    grandson = cached_property(lambda self: Kin(self, "Grandson"))
    neighbour = cached_property(lambda self: Kin(self, "Neighbour"))

    def earn(self, helper: Kin, minutes: int) -> None:
        """``helper`` helps the neighbour, who confirms: minutes earned by service."""
        self.act(
            self.neighbour, self.help(helper, (helper, self.neighbour, minutes)), "confirmation"
        )

    def tie(self, proposer: Kin, relative: Kin, relation: str = "grandchild") -> dict:
        """A tie ``proposer`` proposes and ``relative`` confirms, both at the kiosk."""
        proposed = self.post(
            proposer,
            TIES,
            member=proposer.member_id,
            relative=relative.member_id,
            relation=relation,
        )
        self.post(
            relative, f"{TIES}/confirmation", member=relative.member_id, proposer=proposer.member_id
        )
        return proposed

    def gift(self, giver: Kin, recipient: Kin, minutes: int, **extra: Any) -> dict:
        return {
            "idempotency_key": key(),
            "from_account": giver.account,
            "to_account": recipient.account,
            "minutes": minutes,
            **extra,
        }

    def ties(self, who: Any, member: Kin, after: int) -> list[dict]:
        return self.get(who, TIES, member=member.member_id, after=after)["ties"]

    def newest_entry(self, kin: Kin, after: int) -> dict:
        statement = self.get(
            self.coordinator, f"/api/v1/accounts/{kin.account}/statement", after=after
        )
        return statement["entries"][0]


@pytest.fixture
def family(broker, stores, tmp_path):
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
    with serving(bone) as served:
        yield Family(served)


def test_a_grandmother_gives_her_grandson_minutes_she_earned_once_he_consents(family):
    grandma, grandson, staff = family.grandma, family.grandson, family.coordinator
    proposal = {
        "member": grandma.member_id,
        "relative": grandson.member_id,
        "relation": "grandchild",
    }
    proposed = family.post(grandma, TIES, **proposal)
    family.earn(grandma, 90)
    # Granted minutes are hers to spend, not to give.
    grant_minutes(family.client, staff, grandma.account, 300)

    family.refuses(
        grandma, "POST", GIFTS, family.gift(grandma, grandson, 10), 422, "family-tie-unconfirmed"
    )
    confirming = {"member": grandson.member_id, "proposer": grandma.member_id}
    family.refuses(grandma, "POST", f"{TIES}/confirmation", confirming, 403, "forbidden")
    family.post(grandson, f"{TIES}/confirmation", **confirming)

    family.refuses(
        grandma, "POST", GIFTS, family.gift(grandma, grandson, 91), 422, "family-gift-over-earned"
    )
    body = family.gift(grandma, grandson, 60, memo="给孙子买菜")
    given = family.post(grandma, GIFTS, **body)
    replay = family.send(grandma, "POST", GIFTS, body)
    assert (replay.status_code, replay.json()["id"]) == (200, given["id"])

    after = given["position"]
    may_give = family.get(grandma, f"{ALLOWANCE}/{grandma.account}")
    assert (may_give["available"], may_give["earned_by_service"], may_give["given"]) == (30, 90, 60)
    assert may_give["balance"] == 90 + 300 - 60
    family.refuses(grandson, "GET", f"{ALLOWANCE}/{grandma.account}", None, 403, "forbidden")
    pool = system_account_id(AccountKind.POOL)
    family.refuses(family.coordinator, "GET", f"{ALLOWANCE}/{pool}", None, 404, "account-not-found")
    assert family.balances(after, grandma, grandson) == (90 + 300 - 60, 60)
    received, sent = family.newest_entry(grandson, after), family.newest_entry(grandma, after)
    assert (received["kind"], received["minutes"], received["counterpart"]) == (
        "family-gift",
        60,
        grandma.account,
    )
    assert (sent["kind"], sent["minutes"], sent["memo"]) == ("family-gift", -60, "给孙子买菜")
    assert sent["transfer_id"] == received["transfer_id"] == given["id"]

    # The grandson cannot pass the gift on: it was not earned by his service.
    family.refuses(
        grandson, "POST", GIFTS, family.gift(grandson, grandma, 1), 422, "family-gift-over-earned"
    )
    (seen_by_grandson,) = family.ties(grandson, grandson, after)
    assert seen_by_grandson["tie_id"] == proposed["id"]
    assert (seen_by_grandson["relative"], seen_by_grandson["relation"]) == (
        grandma.member_id,
        "grandparent",
    )
    assert seen_by_grandson["status"] == "confirmed"
    family.refuses(grandson, "GET", TIES, None, 403, "forbidden", member=grandma.member_id)


def test_a_coordinator_records_paper_consents_and_gives_on_a_residents_behalf(family):
    grandma, grandson, staff = family.grandma, family.grandson, family.coordinator
    family.earn(grandma, 30)
    proposal = {
        "member": grandma.member_id,
        "relative": grandson.member_id,
        "relation": "grandchild",
    }
    family.refuses(staff, "POST", TIES, proposal, 422, "paper-consent-required")
    family.post(staff, TIES, **proposal, paper_form="F-2026-001")
    confirming = {
        "member": grandson.member_id,
        "proposer": grandma.member_id,
        "paper_form": "F-2026-002",
    }
    confirmed = family.post(staff, f"{TIES}/confirmation", **confirming)
    family.refuses(staff, "POST", f"{TIES}/confirmation", confirming, 422, "family-tie-confirmed")

    given = family.post(staff, GIFTS, **family.gift(grandma, grandson, 30))
    assert family.balances(given["position"], grandma, grandson) == (0, 30)
    consents = [
        msgspec.json.decode(envelope.data)["consent"]
        for envelope in family_envelopes(family, "FamilyTieProposed", "FamilyTieConfirmed")
    ]
    assert [c["paper_form"] for c in consents] == ["F-2026-001", "F-2026-002"]
    assert [c["member"] for c in consents] == [grandma.member_id, grandson.member_id]
    assert confirmed["position"] <= given["position"]


def test_either_member_ends_the_tie_and_no_gift_follows_it(family):
    grandma, grandson = family.grandma, family.grandson
    family.earn(grandma, 60)
    family.tie(grandma, grandson)
    ending = {"member": grandson.member_id, "relative": grandma.member_id, "reason": "搬走了"}
    family.refuses(grandma, "POST", f"{TIES}/ending", ending, 403, "forbidden")
    ended = family.post(grandson, f"{TIES}/ending", **ending)
    family.refuses(grandma, "POST", GIFTS, family.gift(grandma, grandson, 10), 422, "no-family-tie")
    (tie,) = family.ties(grandma, grandma, ended["position"])
    assert tie["status"] == "ended" and tie["ended_at"] is not None
    proposal = {
        "member": grandma.member_id,
        "relative": grandson.member_id,
        "relation": "grandchild",
    }
    again = family.post(grandma, TIES, **proposal)
    (tie,) = family.ties(grandma, grandma, again["position"])
    assert (tie["status"], tie["ended_at"]) == ("proposed", None)


def test_what_one_member_gives_in_a_year_stays_within_the_limit(family):
    family.bone.settings = msgspec.structs.replace(
        family.bone.settings, family_gift_yearly_minutes=50
    )
    grandma, grandson = family.grandma, family.grandson
    family.earn(grandma, 120)
    family.tie(grandma, grandson)
    family.post(grandma, GIFTS, **family.gift(grandma, grandson, 40))
    family.refuses(
        grandma, "POST", GIFTS, family.gift(grandma, grandson, 11), 422, "family-gift-yearly-limit"
    )
    family.post(grandma, GIFTS, **family.gift(grandma, grandson, 10))


def test_a_gift_reaches_a_relative_who_lives_at_another_station(family):
    grandma, grandson = family.grandma, family.grandson
    district = family.bone.settings.district
    reach = Reach(level=Level.DISTRICT, district=district)
    create_staff(family.bone.timebank, "district.admin", Role.ADMIN, reach=reach)
    admin = sign_in_staff(family.client, "district.admin", ADMIN_PASSWORD)
    opened = family.post(
        admin,
        "/api/v1/stations",
        code="xh-02",
        name="翠苑社区",
        placing={"district": district, "street": "翠苑街道"},
    )
    moved = family.ok(
        admin,
        "POST",
        f"/api/v1/members/{grandson.member_id}/home",
        {"station": opened["id"], "reason": "搬家"},
    )
    family.earn(grandma, 45)
    family.tie(grandma, grandson)
    given = family.post(grandma, GIFTS, **family.gift(grandma, grandson, 45))
    # Each reads their own balance (each station's coordinator reaches only their own people).
    assert [
        family.get(kin, f"/api/v1/accounts/{kin.account}", after=given["position"])["balance"]
        for kin in (grandma, grandson)
    ] == [0, 45]
    homes = [
        str(family.bone.timebank.find(UUID(kin.member_id), Member).station)
        for kin in (grandma, grandson)
    ]
    assert homes == [str(DEFAULT_STATION), opened["id"]]
    assert moved["position"] < given["position"]

    # Both stations' reports and the district's matrix show the gift (通存通兑 of 亲属转赠).
    year = family.bone.today().year
    months = {"first": f"{year}-01", "last": f"{year}-12", "after": given["position"]}
    gifts = {}
    for station in (str(DEFAULT_STATION), opened["id"]):
        report = family.get(admin, f"/api/v1/flows/stations/{station}", **months)
        gifts[station] = next(kind for kind in report["kinds"] if kind["kind"] == "family-gift")
    assert (gifts[str(DEFAULT_STATION)]["minutes_out"], gifts[opened["id"]]["minutes_in"]) == (
        45,
        45,
    )
    matrix = family.get(admin, "/api/v1/flows/matrix", **months)
    cells = {
        (cell["from_station"], cell["to_station"]): cell["minutes"] for cell in matrix["cells"]
    }
    assert cells[(str(DEFAULT_STATION), opened["id"])] >= 45


def family_envelopes(family: Family, *types: str) -> list:
    return [envelope for envelope in stored_envelopes(family.bone) if envelope.type in types]
