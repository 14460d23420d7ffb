"""An inactive member does nothing more (domain/identity.py): the rule itself, how a command's
acting member is found, and what a deactivated member's closed account already refuses."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain.exchange import ExchangeRules, Pair, record_help
from domain.identity import Member, acting_member, check_may_act, members_acting_in
from domain.ledger import (
    MEMBER_LIMITS,
    SYSTEM_LIMITS,
    AccountKind,
    TimeAccount,
    TransferKind,
    post_transfer,
    two_party_legs,
)
from domain.pool import donate
from domain.provenance import Provenance
from domain.rules import RuleViolated

STAFF = Provenance(actor=f"staff:{uuid4()}", channel="console", correlation_id="c")
WHEN = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
RULES = ExchangeRules(max_minutes=240, confirm_within_hours=72, dispute_within_hours=168)


def _member(number: str = "123456") -> Member:
    member = Member(member_number=number, sealed_details="sealed", pin_hash="hash", by=STAFF)
    member.collect_events()
    return member


def _as(member: Member) -> Provenance:
    return Provenance(actor=f"member:{member.id}", channel="kiosk:k", correlation_id="c")


def _deactivated(member: Member) -> Member:
    member.deactivate("moved away", STAFF)
    member.collect_events()
    return member


def test_an_active_member_may_act():
    check_may_act(_member())


@pytest.mark.parametrize("who", [lambda: _deactivated(_member()), lambda: None])
def test_a_deactivated_or_unknown_member_may_not_act(who):
    with pytest.raises(RuleViolated) as refused:
        check_may_act(who())
    assert refused.value.code == "member-inactive"


def test_the_acting_member_is_the_member_subject_of_the_provenance():
    member = _member()
    assert acting_member(_as(member)) == member.id
    for actor in (STAFF.actor, "system", "anonymous", "member:", "member:not-an-id", "test"):
        assert acting_member(Provenance(actor=actor, channel="c", correlation_id="c")) is None


def test_the_members_acting_in_a_command_are_the_actors_of_its_pending_events():
    alice, bob = _member("111111"), _member("222222")
    by_alice, by_staff = (
        TimeAccount(owner, AccountKind.MEMBER, MEMBER_LIMITS, by)
        for owner, by in (("alice", _as(alice)), ("staff", STAFF))
    )
    bob.reject_pin(at=WHEN, by=_as(bob))
    assert members_acting_in([by_alice, by_staff, bob]) == {alice.id, bob.id}
    by_alice.collect_events()  # saved: nothing of it is pending any more
    assert members_acting_in([by_alice, by_staff]) == set()


# What deactivation already stops: it closes the member's account (services.identity), and a
# closed account takes no postings and is no party to help.


def _closed_account(member: Member) -> TimeAccount:
    account = TimeAccount(str(member.id), AccountKind.MEMBER, MEMBER_LIMITS, STAFF)
    account.close("member deactivated", STAFF)
    return account


def _refused(code: str, command) -> None:
    with pytest.raises(RuleViolated) as refused:
        command()
    assert refused.value.code == code


def test_a_deactivated_members_closed_account_refuses_transfers_donations_and_help():
    gone = _deactivated(_member("111111"))
    account = _closed_account(gone)
    other = TimeAccount("other", AccountKind.MEMBER, MEMBER_LIMITS, STAFF)
    pool = TimeAccount("pool", AccountKind.POOL, SYSTEM_LIMITS[AccountKind.POOL], STAFF)
    accounts = {account.id: account, other.id: other, pool.id: pool}
    _refused(
        "account-closed",
        lambda: post_transfer(
            idempotency_key="k",
            kind=TransferKind.TRANSFER,
            legs=two_party_legs(account.id, other.id, 10),
            memo="",
            occurred_at=WHEN,
            corrects=None,
            accounts=accounts,
            by=_as(gone),
        ),
    )
    # A closed account holds nothing, so there is nothing it could donate.
    _refused(
        "donation-over-balance",
        lambda: donate(
            idempotency_key="k",
            donor=account,
            pool=pool,
            minutes=1,
            memo="",
            occurred_at=WHEN,
            by=_as(gone),
        ),
    )
    _refused(
        "not-a-member-account",
        lambda: record_help(
            idempotency_key="k",
            pairs=(Pair(provider=account.id, receiver=other.id, minutes=30),),
            listing_id=None,
            description="",
            occurred_at=WHEN,
            now=WHEN,
            rules=RULES,
            accounts=accounts,
            by=_as(gone),
        ),
    )
