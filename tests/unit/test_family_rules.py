"""Family ties and gifts to family (domain/family.py): the tie's consents, and what a gift may
move — examples one rule at a time, then properties over any history of service, grants,
corrections and gifts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.family import (
    Allowance,
    Consent,
    FamilyTie,
    Movement,
    Relation,
    family_tie_id,
    give_to_family,
)
from domain.ledger import (
    MEMBER_LIMITS,
    SYSTEM_LIMITS,
    AccountKind,
    Limits,
    TimeAccount,
    Transfer,
    TransferKind,
    post_correction,
    post_transfer,
    two_party_legs,
)
from domain.provenance import Provenance
from domain.rules import RuleViolated

BY = Provenance(actor="test", channel="test", correlation_id="c")
WHEN = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
LIMIT = 600


def consent(member: UUID, paper_form: str | None = None) -> Consent:
    return Consent(member=member, at=WHEN, paper_form=paper_form)


def confirmed_tie(giver: UUID, recipient: UUID) -> FamilyTie:
    tie = FamilyTie(giver, recipient, Relation.PARENT, consent(giver), BY)
    tie.confirm(consent(recipient, "F-001"), BY)
    return tie


class Family:
    """A giver and a recipient, each a member with an account, the community and the pool, and
    every transfer posted, so the giver's movements are what the handler would read."""

    def __init__(self) -> None:
        self.community = TimeAccount(
            "community", AccountKind.COMMUNITY, SYSTEM_LIMITS[AccountKind.COMMUNITY], BY
        )
        self.pool = TimeAccount("pool", AccountKind.POOL, SYSTEM_LIMITS[AccountKind.POOL], BY)
        self.giver_member, self.recipient_member = uuid4(), uuid4()
        limits = Limits(floor=MEMBER_LIMITS.floor, cap=None)
        self.giver = TimeAccount(str(self.giver_member), AccountKind.MEMBER, limits, BY)
        self.recipient = TimeAccount(str(self.recipient_member), AccountKind.MEMBER, limits, BY)
        self.other = TimeAccount(str(uuid4()), AccountKind.MEMBER, limits, BY)
        self.accounts = {
            a.id: a for a in (self.community, self.pool, self.giver, self.recipient, self.other)
        }
        self.transfers: list[Transfer] = []
        self.tie = confirmed_tie(self.giver_member, self.recipient_member)

    def post(
        self, kind: TransferKind, source: TimeAccount, target: TimeAccount, minutes: int, at=WHEN
    ) -> Transfer:
        posted = post_transfer(
            idempotency_key=f"key-{len(self.transfers)}",
            kind=kind,
            legs=two_party_legs(source.id, target.id, minutes),
            memo="",
            occurred_at=at,
            corrects=None,
            accounts=self.accounts,
            by=BY,
        )
        self.transfers.append(posted)
        return posted

    def correct(self, original: Transfer, minutes: int) -> None:
        self.transfers.append(
            post_correction(
                original,
                idempotency_key=f"key-{len(self.transfers)}",
                minutes=minutes,
                reason="mistake",
                occurred_at=WHEN,
                accounts=self.accounts,
                by=BY,
            )
        )

    def allowance(self, at: datetime = WHEN) -> Allowance:
        touching = [
            t for t in self.transfers if any(leg.account_id == self.giver.id for leg in t.legs)
        ]
        return Allowance.of(
            (Movement.of(t, self.giver.id, SHANGHAI) for t in touching),
            balance=self.giver.balance,
            year=at.astimezone(SHANGHAI).year,
            yearly_limit=LIMIT,
        )

    def give(self, minutes: int, at: datetime = WHEN) -> Transfer:
        gift = give_to_family(
            idempotency_key=f"key-{len(self.transfers)}",
            tie=self.tie,
            giver=self.giver,
            recipient=self.recipient,
            minutes=minutes,
            allowance=self.allowance(at),
            memo="给孙子",
            occurred_at=at,
            by=BY,
        )
        self.transfers.append(gift)
        return gift


def refused(code: str, action, *args) -> None:
    with pytest.raises(RuleViolated) as caught:
        action(*args)
    assert caught.value.code == code


# --- the tie ---------------------------------------------------------------------------------


def test_a_tie_carries_gifts_only_once_the_relative_consents():
    grandma, grandson = uuid4(), uuid4()
    tie = FamilyTie(grandma, grandson, Relation.GRANDCHILD, consent(grandma), BY)
    assert tie.id == family_tie_id(grandson, grandma), "one tie per pair, whoever proposed"
    refused("family-tie-unconfirmed", tie.check_joins, grandma, grandson)
    refused("not-the-relative", tie.confirm, consent(grandma), BY)
    tie.confirm(consent(grandson, "F-2026-07"), BY)
    tie.check_joins(grandson, grandma)
    assert [c.paper_form for c in tie.consents] == [None, "F-2026-07"]
    refused("family-tie-confirmed", tie.confirm, consent(grandson), BY)
    refused("no-family-tie", tie.check_joins, grandma, uuid4())


def test_relations_read_from_the_relatives_side():
    assert Relation.GRANDCHILD.seen_from_relative is Relation.GRANDPARENT
    assert Relation.PARENT.seen_from_relative is Relation.CHILD
    assert Relation.SPOUSE.seen_from_relative is Relation.SPOUSE


def test_no_one_is_their_own_family_and_a_proposal_carries_the_proposers_consent():
    me, you = uuid4(), uuid4()
    refused("family-tie-with-self", FamilyTie, me, me, Relation.SIBLING, consent(me), BY)
    refused("not-the-proposer", FamilyTie, me, you, Relation.SIBLING, consent(you), BY)


def test_either_member_ends_a_tie_with_a_reason_and_it_may_be_proposed_again():
    one, two = uuid4(), uuid4()
    tie = confirmed_tie(one, two)
    refused("family-tie-exists", tie.propose_again, two, one, Relation.CHILD, consent(two), BY)
    refused("not-in-family-tie", tie.end, uuid4(), "分家", BY)
    refused("reason-required", tie.end, two, "  ", BY)
    tie.end(two, "分家", BY)
    refused("no-family-tie", tie.check_joins, one, two)
    refused("family-tie-ended", tie.confirm, consent(two), BY)
    refused("family-tie-ended", tie.end, one, "again", BY)
    tie.propose_again(two, one, Relation.CHILD, consent(two), BY)
    assert (tie.proposer, tie.relation, tie.is_confirmed) == (two, Relation.CHILD, False)
    tie.confirm(consent(one), BY)
    tie.check_joins(one, two)
    names = [type(e).__name__ for e in tie.collect_events()]
    assert names == [
        "FamilyTieProposed",
        "FamilyTieConfirmed",
        "FamilyTieEnded",
        "FamilyTieProposedAgain",
        "FamilyTieConfirmed",
    ]


# --- the gift --------------------------------------------------------------------------------


def test_a_gift_is_a_transfer_of_its_own_kind_from_minutes_earned_by_service():
    family = Family()
    family.post(TransferKind.EXCHANGE, family.other, family.giver, 120)
    family.post(TransferKind.HOURS, family.community, family.giver, 60)
    gift = family.give(150)
    assert gift.kind is TransferKind.FAMILY_GIFT
    assert {leg.account_id: leg.minutes for leg in gift.legs} == {
        family.giver.id: -150,
        family.recipient.id: 150,
    }
    assert (family.giver.balance, family.recipient.balance) == (30, 150)
    refused("family-gift-over-earned", family.give, 31)


def test_grants_gifts_received_and_plain_transfers_are_not_for_giving():
    family = Family()
    family.post(TransferKind.DONATION, family.community, family.pool, 100)
    family.post(TransferKind.GRANT, family.pool, family.giver, 100)
    family.post(TransferKind.TRANSFER, family.other, family.giver, 100)
    family.post(TransferKind.FAMILY_GIFT, family.other, family.giver, 100)
    assert family.giver.balance == 300
    refused("family-gift-over-earned", family.give, 1)


def test_minutes_earned_and_then_spent_are_not_there_to_give():
    family = Family()
    family.post(TransferKind.EXCHANGE, family.other, family.giver, 100)
    family.post(TransferKind.EXCHANGE, family.giver, family.other, 80)
    assert family.allowance().available == 20
    refused("family-gift-over-earned", family.give, 21)


def test_a_corrected_service_credit_no_longer_counts_and_a_corrected_gift_no_longer_counts():
    family = Family()
    credit = family.post(TransferKind.HOURS, family.community, family.giver, 100)
    family.correct(credit, 40)
    assert family.allowance().earned_by_service == 60
    gift = family.give(60)
    family.correct(gift, 60)
    assert (family.allowance().given, family.allowance().available) == (0, 60)


def test_the_yearly_limit_counts_the_stations_calendar_year():
    family = Family()
    family.post(TransferKind.HOURS, family.community, family.giver, 2 * LIMIT)
    new_years_eve = datetime(2026, 12, 31, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    family.give(LIMIT, at=new_years_eve)
    refused("family-gift-yearly-limit", family.give, 1, new_years_eve)
    family.give(LIMIT, at=new_years_eve + timedelta(hours=1))  # already 2027 in Shanghai


def test_a_gift_needs_a_confirmed_tie_between_the_two_members_accounts():
    family = Family()
    family.post(TransferKind.HOURS, family.community, family.giver, 100)
    arguments = {
        "idempotency_key": "k",
        "giver": family.giver,
        "recipient": family.recipient,
        "minutes": 10,
        "allowance": family.allowance(),
        "memo": "",
        "occurred_at": WHEN,
        "by": BY,
    }
    refused("no-family-tie", lambda: give_to_family(tie=None, **arguments))
    pending = FamilyTie(
        family.giver_member,
        family.recipient_member,
        Relation.SPOUSE,
        consent(family.giver_member),
        BY,
    )
    refused("family-tie-unconfirmed", lambda: give_to_family(tie=pending, **arguments))
    to_pool = {**arguments, "recipient": family.pool}
    refused("not-a-member-account", lambda: give_to_family(tie=family.tie, **to_pool))


# --- properties ------------------------------------------------------------------------------

YEARS = [datetime(year, 6, 1, tzinfo=UTC) for year in (2025, 2026, 2027)]
steps = st.lists(
    st.tuples(
        st.sampled_from(["service", "help", "grant", "spend", "gift", "correct"]),
        st.integers(min_value=1, max_value=400),
        st.sampled_from(YEARS),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(steps)
def test_gifts_never_exceed_what_service_earned_nor_the_yearly_limit_and_sum_to_zero(steps):
    family = Family()
    family.post(TransferKind.DONATION, family.community, family.pool, 10**6)
    gifts: list[Transfer] = []
    for action, minutes, at in steps:
        before = {account_id: a.balance for account_id, a in family.accounts.items()}
        try:
            if action == "service":
                family.post(TransferKind.HOURS, family.community, family.giver, minutes, at)
            elif action == "help":
                family.post(TransferKind.EXCHANGE, family.other, family.giver, minutes, at)
            elif action == "grant":
                family.post(TransferKind.GRANT, family.pool, family.giver, minutes, at)
            elif action == "spend":
                family.post(TransferKind.EXCHANGE, family.giver, family.other, minutes, at)
            elif action == "gift":
                allowed = family.allowance(at)
                gifts.append(family.give(minutes, at))
                assert minutes <= allowed.available
                after = family.allowance(at)
                assert after.given <= after.earned_by_service
                assert family.giver.balance >= 0
            elif family.transfers:
                family.correct(family.transfers[minutes % len(family.transfers)], None)
        except RuleViolated:
            after = {account_id: a.balance for account_id, a in family.accounts.items()}
            assert after == before, "a refused step changes no balance"
        assert sum(a.balance for a in family.accounts.values()) == 0
        for year in YEARS:
            given_that_year = family.allowance(year).given_this_year
            assert given_that_year <= LIMIT
        for gift in gifts:
            assert sum(leg.minutes for leg in gift.legs) == 0
            assert gift.kind is TransferKind.FAMILY_GIFT


@settings(max_examples=100, deadline=None)
@given(steps)
def test_a_gift_is_accepted_exactly_when_it_fits_what_may_be_given(steps):
    """What ``available`` promises is what ``give`` does: the kiosk can show it as the most."""
    family = Family()
    for action, minutes, at in steps:
        if action in ("service", "help"):
            family.post(TransferKind.HOURS, family.community, family.giver, minutes, at)
            continue
        allowed = family.allowance(at).available
        try:
            family.give(minutes, at)
        except RuleViolated as refusal:
            assert minutes > allowed, refusal.code
        else:
            assert minutes <= allowed
