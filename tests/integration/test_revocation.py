"""Revocation takes effect: a deactivated staff member or member, or a retired kiosk, is
refused on its very next request with the token it already holds, on every route (API and
pages), and on another API replica of the same stores within a bounded time."""

from __future__ import annotations

import asyncio
import uuid
from uuid import UUID

import pytest
from litestar.testing import TestClient

from domain.identity import Role
from domain.listing import Listing
from domain.provenance import Provenance
from domain.rules import RuleViolated
from services.bus import Receipt
from services.composition.app import create_app
from services.council import handlers as council
from services.council.commands import SubmitMotion, SupportMotion
from services.identity.records import Registered
from services.pages.session import DEVICE_COOKIE, SESSION_COOKIE, session_cookie
from services.store.groupcommit import GroupCommit
from services.web.auth import Principal
from tests.integration.support import (
    COORDINATOR_PASSWORD,
    acting,
    bearer,
    deactivate_member,
    kiosk_sign_in,
    make_backbone,
    member_body,
    member_principal,
    post_offer,
    refused,
    register,
    register_kiosk,
    register_resident,
    serving,
    sign_in_staff,
    wait_until,
)

REVOKED = "token-revoked"


@pytest.fixture
def running(broker, stores, tmp_path):
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
    with serving(bone) as served:
        yield served


def _new_coordinator(client: TestClient, admin: dict[str, str], username: str) -> str:
    created = client.post(
        "/api/v1/staff",
        json={"username": username, "role": "coordinator", "password": COORDINATOR_PASSWORD},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


def _deactivate_staff(client: TestClient, admin: dict[str, str], staff_id: str) -> None:
    answer = client.post(
        f"/api/v1/staff/{staff_id}/deactivation", json={"reason": "left"}, headers=admin
    )
    assert answer.status_code == 200, answer.text


def _resident_at(client, coordinator, kiosk) -> tuple[dict, dict[str, str], str]:
    """A resident registered through the API and signed in at ``kiosk``, who sees their
    account there: them, their request headers there and their account's path."""
    member = register(client, coordinator)
    signed_in = kiosk_sign_in(client, kiosk, member["member_number"])
    assert signed_in.status_code == 201, signed_in.text
    session = bearer(signed_in.json()["token"], kiosk)
    account = f"/api/v1/accounts/{member['account_id']}"
    seen = client.get(account, params={"after": member["position"]}, headers=session)
    assert seen.status_code == 200, seen.text
    return member, session, account


def test_a_deactivated_staff_members_token_is_refused_on_the_next_request(running):
    bone, client, admin, coordinator = running
    member = register(client, coordinator)
    staff_id = _new_coordinator(client, admin, "coord.gone")
    gone = sign_in_staff(client, "coord.gone", COORDINATOR_PASSWORD)
    opened = f"/api/v1/members/{member['id']}"
    purpose = {"purpose": "follow-up visit"}
    assert client.get(opened, params=purpose, headers=gone).status_code == 200
    _deactivate_staff(client, admin, staff_id)
    before = bone.timebank.last_position()
    refused(client.get(opened, params=purpose, headers=gone), 401, REVOKED)
    refused(client.post("/api/v1/members", json=member_body(), headers=gone), 401, REVOKED)
    refused(client.post("/api/v1/auth/refresh", headers=gone), 401, REVOKED)
    assert bone.timebank.last_position() == before  # nothing recorded, not even an opening
    assert client.get(opened, params=purpose, headers=coordinator).status_code == 200


def test_a_deactivated_members_kiosk_token_is_refused_on_the_next_request(running):
    bone, client, _, coordinator = running
    kiosk = register_kiosk(bone)
    member, session, account = _resident_at(client, coordinator, kiosk)
    answer = client.post(
        f"/api/v1/members/{member['id']}/deactivation", json={"reason": "left"}, headers=coordinator
    )
    assert answer.status_code == 200, answer.text
    refused(client.get(account, headers=session), 401, REVOKED)
    motion = {"idempotency_key": uuid.uuid4().hex, "title": "路灯", "text": "修路灯"}
    refused(client.post("/api/v1/motions", json=motion, headers=session), 401, REVOKED)


def test_a_retired_kiosks_device_token_is_refused_even_with_a_valid_resident_token(running):
    bone, client, admin, coordinator = running
    kiosk, other = register_kiosk(bone), register_kiosk(bone, "Library")
    _, session, account = _resident_at(client, coordinator, kiosk)
    _, elsewhere, _ = _resident_at(client, coordinator, other)
    answer = client.post(
        f"/api/v1/kiosks/{kiosk.id}/retirement", json={"reason": "broken"}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    refused(client.get(account, headers=session), 401, REVOKED)
    refused(client.post("/api/v1/auth/refresh", headers=session), 401, REVOKED)
    assert client.post("/api/v1/auth/refresh", headers=elsewhere).status_code == 201


def _replica(bone, broker, stores, tmp_path):
    """Another API replica's backbone on the same event store, key store, secret and broker.
    Its read store is its own (SQLite cannot create tables beside a busy projector), so it is
    asked only what the command side answers: a member's personal data."""
    return make_backbone(
        tmp_path / "replica",
        bone.settings.event_store_url,
        stores.new("replica_reads"),
        broker.url,
        secret=bone.settings.token_secret(),
        key_store=bone.settings.key_store_url,
    )


def _opening(client: TestClient, member: dict, headers: dict[str, str]) -> str:
    """The code of the refusal to open ``member``'s personal data, or "" when it opens."""
    answer = client.get(
        f"/api/v1/members/{member['id']}", params={"purpose": "home visit"}, headers=headers
    )
    return "" if answer.status_code == 200 else answer.json()["code"]


def test_another_replica_of_the_same_stores_refuses_within_its_follow_interval(
    running, broker, stores, tmp_path
):
    """The replica that did not handle the deactivation hears of it from the event store
    (README: within about a second), with no broker or read model involved."""
    bone, client, admin, coordinator = running
    member = register(client, coordinator)
    staff_id = _new_coordinator(client, admin, "coord.elsewhere")
    gone = sign_in_staff(client, "coord.elsewhere", COORDINATOR_PASSWORD)
    with TestClient(create_app(_replica(bone, broker, stores, tmp_path))) as replica:
        assert _opening(replica, member, gone) == ""
        _deactivate_staff(client, admin, staff_id)
        assert _opening(client, member, gone) == REVOKED
        wait_until(
            lambda: _opening(replica, member, gone) == REVOKED,
            timeout=30,
            what="the replica to refuse the deactivated staff member's token",
        )


def test_a_replica_started_after_a_deactivation_refuses_from_its_first_request(
    running, broker, stores, tmp_path
):
    bone, client, admin, coordinator = running
    member = register(client, coordinator)
    staff_id = _new_coordinator(client, admin, "coord.before")
    gone = sign_in_staff(client, "coord.before", COORDINATOR_PASSWORD)
    _deactivate_staff(client, admin, staff_id)
    with TestClient(create_app(_replica(bone, broker, stores, tmp_path))) as replica:
        assert _opening(replica, member, gone) == REVOKED


@pytest.fixture
def with_pages(broker, sqlite_stores, tmp_path):
    bone = make_backbone(
        tmp_path, sqlite_stores.new("events"), sqlite_stores.new("reads"), broker.url, pages=True
    )
    with serving(bone) as served:
        yield served


def _drops_the_session(answer) -> bool:
    """Whether the answer tells the browser to forget its (dead) session cookie, and only it."""
    dropped = [c for c in answer.headers.get_list("set-cookie") if "Max-Age=0" in c]
    return [c.split("=")[0] for c in dropped] == [SESSION_COOKIE]


def test_the_page_session_of_a_deactivated_staff_member_is_refused(with_pages):
    _, client, admin, _ = with_pages
    staff_id = _new_coordinator(client, admin, "coord.console")
    principal = Principal(
        subject=f"staff:{staff_id}", roles=frozenset({Role.COORDINATOR}), channel="console"
    )
    client.cookies[SESSION_COOKIE] = session_cookie(client.app.state.page_auth, principal).value
    page = "/console/members/new"
    opened = client.get(page, follow_redirects=False)
    assert opened.status_code == 200, opened.text
    _deactivate_staff(client, admin, staff_id)
    answer = client.get(page, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/console/sign-in?next={page}"
    assert _drops_the_session(answer)


def test_the_kiosk_page_session_of_a_deactivated_member_is_refused(with_pages):
    bone, client, _, coordinator = with_pages
    kiosk = register_kiosk(bone)
    member = register(client, coordinator)
    resident = member_principal(UUID(member["id"]), UUID(member["account_id"]), kiosk)
    client.cookies[SESSION_COOKIE] = session_cookie(client.app.state.page_auth, resident).value
    client.cookies[DEVICE_COOKIE] = kiosk.token
    home = f"/kiosk?after={member['position']}"
    assert client.get(home, follow_redirects=False).status_code == 200
    answer = client.post(
        f"/api/v1/members/{member['id']}/deactivation", json={"reason": "left"}, headers=coordinator
    )
    assert answer.status_code == 200, answer.text
    answer = client.get(home, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/kiosk/sign-in"
    assert _drops_the_session(answer)


# Whatever reaches the command side (a token another replica has not yet heard is revoked, a
# page, a future route), a deactivated member's command is refused there too.


def _submit(bone, key: str, member: Registered, by: Provenance) -> Receipt:
    command = SubmitMotion(idempotency_key=key, title="修路灯", text="三号楼前的路灯坏了")
    return council.submit(command, acting(bone.timebank, bone.clock(), by, member=member.id))


def test_the_command_side_refuses_whatever_a_deactivated_member_would_do(broker, stores, tmp_path):
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
    gone, stays = register_resident(bone, "Li Ming"), register_resident(bone, "Wang Fang")
    as_gone, as_stays = (
        Provenance(actor=f"member:{who.id}", channel="kiosk:k", correlation_id=uuid.uuid4().hex)
        for who in (gone, stays)
    )
    motion = _submit(bone, "motion", stays, as_stays).id
    deactivate_member(bone.timebank, gone.id, "moved away", bone.clock())
    before = bone.timebank.last_position()
    commands = {
        "listing": lambda: post_offer(bone.timebank, gone.account_id, as_gone),
        "motion": lambda: _submit(bone, "another motion", gone, as_gone),
        "support": lambda: council.support(
            SupportMotion(motion_id=motion),
            acting(bone.timebank, bone.clock(), as_gone, member=gone.id),
        ),
    }
    for what, command in commands.items():
        with pytest.raises(RuleViolated) as refused_:
            command()
        assert refused_.value.code == "member-inactive", what
    assert bone.timebank.last_position() == before

    async def together() -> list[object]:
        """Saved in one group (as the API saves commands that arrive together): the inactive
        member's is refused alone."""
        commits = GroupCommit(bone.timebank)
        return await asyncio.gather(
            commits.run(post_offer, bone.timebank, gone.account_id, as_gone),
            commits.run(post_offer, bone.timebank, stays.account_id, as_stays),
            return_exceptions=True,
        )

    refused_alone, kept = asyncio.run(together())
    assert isinstance(refused_alone, RuleViolated) and refused_alone.code == "member-inactive"
    assert isinstance(kept, Receipt) and bone.timebank.find(kept.id, Listing) is not None
