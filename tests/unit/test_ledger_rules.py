"""Example tests of the ledger's rules (domain/ledger.py), one rule at a time."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from domain.ledger import (
    MEMBER_LIMITS,
    SYSTEM_LIMITS,
    AccountKind,
    Leg,
    Limits,
    TimeAccount,
    Transfer,
    TransferKind,
    account_id_for,
    check_legs,
    internal_key,
    post_correction,
    post_transfer,
    settle_for_closure,
    system_account_id,
    transfer_id_for,
    two_party_legs,
)
from domain.provenance import Provenance
from domain.rules import RuleViolated

BY = Provenance(actor="test", channel="test", correlation_id="c")
WHEN = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


# --- helpers -------------------------------------------------------------------------------------


class Bank:
    """A handful of in-memory accounts plus helpers to post between them."""

    def __init__(self) -> None:
        self.community = TimeAccount(
            "community", AccountKind.COMMUNITY, SYSTEM_LIMITS[AccountKind.COMMUNITY], BY
        )
        self.pool = TimeAccount("pool", AccountKind.POOL, SYSTEM_LIMITS[AccountKind.POOL], BY)
        self.accounts = {self.community.id: self.community, self.pool.id: self.pool}
        self._keys = 0

    def member(self, owner="member", limits=MEMBER_LIMITS, balance=0):
        account = TimeAccount(owner, AccountKind.MEMBER, limits, BY)
        self.accounts[account.id] = account
        if balance:
            self.post(two_party_legs(self.community.id, account.id, balance))
        return account

    def key(self):
        self._keys += 1
        return f"key-{self._keys}"

    def post(self, legs, kind=TransferKind.TRANSFER, corrects=None, key=None, memo="memo"):
        return post_transfer(
            idempotency_key=key or self.key(),
            kind=kind,
            legs=legs,
            memo=memo,
            occurred_at=WHEN,
            corrects=corrects,
            accounts=self.accounts,
            by=BY,
        )

    def correct(self, original, minutes=None, legs=None):
        """Correct ``original`` as the app does (``post_correction``), or, given hand-built
        ``legs``, post them and record them on the original.

        With hand-built legs ``record_correction`` runs after the legs are posted, so when it says
        no the accounts already hold the correction's entries; tests of those rejections check the
        original only.
        """
        if legs is None:
            return post_correction(
                original,
                idempotency_key=self.key(),
                minutes=minutes,
                reason="correction",
                occurred_at=WHEN,
                accounts=self.accounts,
                by=BY,
            )
        correction = self.post(legs, kind=TransferKind.CORRECTION, corrects=original.id)
        original.record_correction(correction)
        return correction

    def balances(self):
        return {account_id: account.balance for account_id, account in self.accounts.items()}

    def flush(self):
        """Drop pending events, so a later check sees only what a command emitted."""
        for account in self.accounts.values():
            account.collect_events()

    def pending(self):
        return [event for account in self.accounts.values() for event in account.collect_events()]


def entry_minutes(account):
    return [
        event.minutes for event in account.collect_events() if type(event).__name__ == "EntryPosted"
    ]


@pytest.fixture
def bank():
    return Bank()


def assert_rejected(bank, code, command):
    """Run ``command``: it must raise ``code`` and leave balances and event streams as they were."""
    bank.flush()
    before = bank.balances()
    with pytest.raises(RuleViolated) as info:
        command()
    assert info.value.code == code
    assert bank.balances() == before
    assert bank.pending() == []
    return info.value


# --- legs ----------------------------------------------------------------------------------------


def test_balanced_legs_pass_the_check():
    a, b, c = uuid4(), uuid4(), uuid4()
    check_legs(two_party_legs(a, b, 30))
    check_legs((Leg(a, -50), Leg(b, 20), Leg(c, 30)))


def test_two_party_legs_take_from_source_and_give_to_target():
    a, b = uuid4(), uuid4()
    assert two_party_legs(a, b, 45) == (Leg(a, -45), Leg(b, 45))


@pytest.mark.parametrize(
    "minutes",
    [(-30, 20), (30, 30), (-30, -30), (10, -9), (-10, 5, 4), (-10, 5, 6)],
    ids=["short", "both-in", "both-out", "off-by-one", "group-short", "group-over"],
)
def test_legs_must_sum_to_zero(minutes):
    legs = tuple(Leg(uuid4(), m) for m in minutes)
    with pytest.raises(RuleViolated) as info:
        check_legs(legs)
    assert info.value.code == "unbalanced-transfer"


@pytest.mark.parametrize(
    "minutes",
    [(0, 0), (-30, 0, 30), (-1.0, 1.0), (-1.5, 1.5), (True, -1), (-True, True), ("-5", "5")],
    ids=["zeros", "zero-leg", "float-whole", "float", "bool", "bools", "strings"],
)
def test_minutes_must_be_non_zero_whole_ints(minutes):
    legs = tuple(Leg(uuid4(), m) for m in minutes)
    with pytest.raises(RuleViolated) as info:
        check_legs(legs)
    assert info.value.code == "invalid-minutes"


@pytest.mark.parametrize("count", [0, 1])
def test_a_transfer_needs_at_least_two_legs(count):
    legs = tuple(Leg(uuid4(), 10) for _ in range(count))
    with pytest.raises(RuleViolated) as info:
        check_legs(legs)
    assert info.value.code == "too-few-legs"


def test_an_account_may_not_appear_twice():
    a, b = uuid4(), uuid4()
    for legs in [
        (Leg(a, -10), Leg(a, 10)),
        (Leg(a, -10), Leg(b, 5), Leg(a, 5)),
        (Leg(a, -10), Leg(b, 10), Leg(b, -10), Leg(a, 10)),
    ]:
        with pytest.raises(RuleViolated) as info:
            check_legs(legs)
        assert info.value.code == "same-account"


@pytest.mark.parametrize(
    ("legs_for", "code"),
    [
        (lambda a, b: (Leg(a, -30), Leg(b, 20)), "unbalanced-transfer"),
        (lambda a, b: (Leg(a, 0), Leg(b, 0)), "invalid-minutes"),
        (lambda a, b: (Leg(a, -1.0), Leg(b, 1.0)), "invalid-minutes"),
        (lambda a, b: (Leg(a, False), Leg(b, False)), "invalid-minutes"),
        (lambda a, b: (Leg(a, 0),), "too-few-legs"),
        (lambda a, b: (Leg(a, -5), Leg(a, 5)), "same-account"),
    ],
)
def test_post_transfer_rejects_bad_legs_without_posting(bank, legs_for, code):
    a = bank.member("a", balance=100)
    b = bank.member("b")
    assert_rejected(bank, code, lambda: bank.post(legs_for(a.id, b.id)))
    assert (a.balance, b.balance) == (100, 0)


def test_post_transfer_posts_every_leg_and_records_the_transfer(bank):
    a = bank.member("a", balance=200)
    b = bank.member("b")
    c = bank.member("c")
    bank.flush()
    transfer = bank.post((Leg(a.id, -90), Leg(b.id, 60), Leg(c.id, 30)), memo="gardening")
    assert (a.balance, b.balance, c.balance) == (110, 60, 30)
    assert transfer.kind is TransferKind.TRANSFER
    assert transfer.legs == (Leg(a.id, -90), Leg(b.id, 60), Leg(c.id, 30))
    assert transfer.memo == "gardening"
    assert transfer.occurred_at == WHEN
    assert transfer.corrects is None
    assert transfer.posted_by == BY
    assert transfer.reversed == {}
    for account, minutes in [(a, -90), (b, 60), (c, 30)]:
        events = account.collect_events()
        assert [type(e).__name__ for e in events] == ["EntryPosted"]
        assert events[0].transfer_id == transfer.id
        assert events[0].minutes == minutes
        assert events[0].balance == account.balance
        assert events[0].by == BY
    assert [type(e).__name__ for e in transfer.collect_events()] == ["TransferPosted"]


# --- floor and cap -------------------------------------------------------------------------------


def test_a_debit_may_reach_the_floor_but_not_pass_it(bank):
    a = bank.member("a", limits=Limits(floor=-600, cap=None), balance=10)
    b = bank.member("b")
    bank.post(two_party_legs(a.id, b.id, 610))
    assert a.balance == -600
    error = assert_rejected(bank, "below-floor", lambda: bank.post(two_party_legs(a.id, b.id, 1)))
    assert str(-601) in error.message
    assert (a.balance, b.balance) == (-600, 610)


def test_a_debit_past_the_floor_in_one_go_is_rejected(bank):
    a = bank.member("a")
    b = bank.member("b")
    assert_rejected(bank, "below-floor", lambda: bank.post(two_party_legs(a.id, b.id, 601)))
    assert (a.balance, b.balance) == (0, 0)


def test_a_credit_may_reach_the_cap_but_not_pass_it(bank):
    a = bank.member("a", limits=Limits(floor=None, cap=500))
    bank.post(two_party_legs(bank.community.id, a.id, 500))
    assert a.balance == 500
    assert_rejected(
        bank, "above-cap", lambda: bank.post(two_party_legs(bank.community.id, a.id, 1))
    )
    assert a.balance == 500


def test_the_default_member_cap_is_enforced(bank):
    a = bank.member("a", balance=MEMBER_LIMITS.cap)
    assert_rejected(
        bank, "above-cap", lambda: bank.post(two_party_legs(bank.community.id, a.id, 1))
    )


def test_a_credit_towards_the_floor_is_allowed_while_still_below_it(bank):
    a = bank.member("a", balance=-500)
    a.change_limits(Limits(floor=-100, cap=1000), reason="council decision", by=BY)
    assert a.balance < a.limits.floor
    # Still below the floor afterwards, but closer to it: allowed.
    bank.post(two_party_legs(bank.community.id, a.id, 50))
    assert a.balance == -450
    # Any debit while below the floor moves away from it: rejected.
    assert_rejected(
        bank, "below-floor", lambda: bank.post(two_party_legs(a.id, bank.community.id, 1))
    )
    assert a.balance == -450


def test_a_debit_towards_the_cap_is_allowed_while_still_above_it(bank):
    a = bank.member("a", balance=800)
    a.change_limits(Limits(floor=-600, cap=300), reason="council decision", by=BY)
    bank.post(two_party_legs(a.id, bank.community.id, 100))
    assert a.balance == 700
    assert_rejected(
        bank, "above-cap", lambda: bank.post(two_party_legs(bank.community.id, a.id, 1))
    )
    assert a.balance == 700


def test_the_pool_cannot_go_negative(bank):
    a = bank.member("a")
    assert_rejected(bank, "below-floor", lambda: bank.post(two_party_legs(bank.pool.id, a.id, 1)))
    donor = bank.member("donor", balance=100)
    bank.post(two_party_legs(donor.id, bank.pool.id, 40))
    bank.post(two_party_legs(bank.pool.id, a.id, 40))
    assert (bank.pool.balance, a.balance) == (0, 40)
    assert_rejected(bank, "below-floor", lambda: bank.post(two_party_legs(bank.pool.id, a.id, 1)))


def test_the_community_account_is_unbounded(bank):
    a = bank.member("a", limits=Limits(floor=None, cap=None))
    bank.post(two_party_legs(bank.community.id, a.id, 10_000_000))
    assert bank.community.balance == -10_000_000


def test_a_group_transfer_is_all_or_nothing(bank):
    a = bank.member("a", balance=100)
    b = bank.member("b")
    capped = bank.member("c", limits=Limits(floor=-600, cap=20))
    legs = (Leg(a.id, -90), Leg(b.id, 60), Leg(capped.id, 30))
    assert_rejected(bank, "above-cap", lambda: bank.post(legs))
    assert (a.balance, b.balance, capped.balance) == (100, 0, 0)


def test_limits_reject_a_floor_above_zero_or_a_cap_below_zero():
    with pytest.raises(RuleViolated) as info:
        Limits(floor=1, cap=100)
    assert info.value.code == "invalid-limits"
    with pytest.raises(RuleViolated) as info:
        Limits(floor=-100, cap=-1)
    assert info.value.code == "invalid-limits"
    assert Limits(floor=0, cap=0) == Limits(0, 0)
    assert Limits(floor=None, cap=None).floor is None


def test_changing_limits_needs_a_reason(bank):
    a = bank.member("a")
    bank.flush()
    for reason in ["", "   "]:
        with pytest.raises(RuleViolated) as info:
            a.change_limits(Limits(floor=-10, cap=10), reason=reason, by=BY)
        assert info.value.code == "reason-required"
    assert a.limits == MEMBER_LIMITS
    assert a.collect_events() == []
    a.change_limits(Limits(floor=-10, cap=10), reason="council", by=BY)
    assert a.limits == Limits(floor=-10, cap=10)
    [changed] = a.collect_events()
    assert type(changed).__name__ == "LimitsChanged"
    assert changed.reason == "council"


# --- closing -------------------------------------------------------------------------------------


def test_a_closed_account_takes_no_postings(bank):
    a = bank.member("a")
    b = bank.member("b", balance=100)
    a.close(reason="moved away", by=BY)
    assert a.is_closed
    assert_rejected(bank, "account-closed", lambda: bank.post(two_party_legs(b.id, a.id, 10)))
    assert_rejected(bank, "account-closed", lambda: bank.post(two_party_legs(a.id, b.id, 10)))
    assert_rejected(bank, "account-closed", lambda: a.post(uuid4(), 10, BY))
    assert (a.balance, b.balance) == (0, 100)


def test_an_account_closes_once(bank):
    a = bank.member("a")
    a.close(reason="moved away", by=BY)
    events = a.collect_events()
    assert type(events[-1]).__name__ == "AccountClosed"
    assert events[-1].reason == "moved away"
    assert_rejected(bank, "account-closed", lambda: a.close(reason="again", by=BY))
    assert a.is_closed


@pytest.mark.parametrize("kind", [AccountKind.COMMUNITY, AccountKind.POOL])
def test_system_accounts_cannot_be_closed(bank, kind):
    account = bank.community if kind is AccountKind.COMMUNITY else bank.pool
    assert account.balance == 0
    assert_rejected(bank, "system-account", lambda: account.close(reason="no", by=BY))
    assert not account.is_closed


@pytest.mark.parametrize("balance", [1, -1, 250])
def test_closing_requires_a_zero_balance(bank, balance):
    a = bank.member("a", balance=balance)
    assert_rejected(bank, "balance-not-settled", lambda: a.close(reason="leaving", by=BY))
    assert not a.is_closed
    assert a.balance == balance


def test_settling_a_credit_moves_it_to_the_pool(bank):
    a = bank.member("a", balance=300)
    bank.flush()
    transfer = settle_for_closure(
        a, pool=bank.pool, community=bank.community, occurred_at=WHEN, reason="leaving", by=BY
    )
    assert transfer is not None
    assert transfer.kind is TransferKind.CLOSURE
    assert transfer.legs == (Leg(a.id, -300), Leg(bank.pool.id, 300))
    assert transfer.memo == "leaving"
    assert transfer.id == transfer_id_for(internal_key("closure", a.id))
    assert (a.balance, bank.pool.balance, bank.community.balance) == (0, 300, -300)
    assert entry_minutes(a) == [-300]
    assert entry_minutes(bank.pool) == [300]
    assert entry_minutes(bank.community) == []
    a.close(reason="leaving", by=BY)
    assert a.is_closed


def test_settling_a_debt_writes_it_off_against_the_community(bank):
    a = bank.member("a")
    b = bank.member("b")
    bank.post(two_party_legs(a.id, b.id, 250))
    bank.flush()
    transfer = settle_for_closure(
        a, pool=bank.pool, community=bank.community, occurred_at=WHEN, reason="leaving", by=BY
    )
    assert transfer is not None
    assert transfer.kind is TransferKind.CLOSURE
    assert transfer.legs == (Leg(a.id, 250), Leg(bank.community.id, -250))
    assert (a.balance, b.balance, bank.pool.balance, bank.community.balance) == (0, 250, 0, -250)
    assert entry_minutes(bank.pool) == []
    assert entry_minutes(bank.community) == [-250]
    a.close(reason="leaving", by=BY)
    assert a.is_closed


def test_settling_works_for_a_debt_below_a_tightened_floor(bank):
    a = bank.member("a")
    b = bank.member("b")
    bank.post(two_party_legs(a.id, b.id, 500))
    a.change_limits(Limits(floor=-100, cap=100), reason="council", by=BY)
    settle_for_closure(
        a, pool=bank.pool, community=bank.community, occurred_at=WHEN, reason="leaving", by=BY
    )
    assert a.balance == 0
    a.close(reason="leaving", by=BY)


def test_settling_a_zero_balance_posts_nothing(bank):
    a = bank.member("a")
    bank.flush()
    result = settle_for_closure(
        a, pool=bank.pool, community=bank.community, occurred_at=WHEN, reason="leaving", by=BY
    )
    assert result is None
    assert bank.pending() == []
    assert bank.balances() == {account_id: 0 for account_id in bank.accounts}


# --- corrections ---------------------------------------------------------------------------------


def test_a_full_correction_undoes_a_transfer(bank):
    a = bank.member("a", balance=100)
    b = bank.member("b")
    original = bank.post(two_party_legs(a.id, b.id, 60))
    assert original.reversal_legs(None) == (Leg(a.id, 60), Leg(b.id, -60))
    original.collect_events()
    correction = bank.correct(original)
    assert correction.kind is TransferKind.CORRECTION
    assert correction.corrects == original.id
    assert (a.balance, b.balance) == (100, 0)
    assert original.reversed == {a.id: 60, b.id: -60}
    [recorded] = original.collect_events()
    assert type(recorded).__name__ == "TransferCorrected"
    assert recorded.correction_id == correction.id
    assert recorded.legs == correction.legs
    # Nothing is left to correct.
    assert original.reversal_legs(None) == ()
    assert_rejected(bank, "already-corrected", lambda: bank.correct(original))


def test_a_partial_correction_undoes_part_and_leaves_the_rest(bank):
    a = bank.member("a", balance=100)
    b = bank.member("b")
    original = bank.post(two_party_legs(a.id, b.id, 60))
    assert original.reversal_legs(25) == (Leg(b.id, -25), Leg(a.id, 25))
    bank.correct(original, minutes=25)
    assert (a.balance, b.balance) == (65, 35)
    assert original.reversed == {a.id: 25, b.id: -25}
    # A full correction now undoes only what is still uncorrected.
    assert original.reversal_legs(None) == (Leg(a.id, 35), Leg(b.id, -35))
    bank.correct(original)
    assert (a.balance, b.balance) == (100, 0)
    assert original.reversed == {a.id: 60, b.id: -60}


def test_a_partial_correction_of_the_whole_amount_is_allowed(bank):
    a = bank.member("a", balance=100)
    b = bank.member("b")
    original = bank.post(two_party_legs(a.id, b.id, 60))
    bank.correct(original, minutes=60)
    assert (a.balance, b.balance) == (100, 0)


def test_a_correction_cannot_undo_more_than_was_moved(bank):
    a = bank.member("a", balance=100)
    b = bank.member("b", balance=100)
    original = bank.post(two_party_legs(a.id, b.id, 30))
    original.collect_events()
    with pytest.raises(RuleViolated) as info:
        bank.correct(original, minutes=31)
    assert info.value.code == "over-correction"
    assert original.reversed == {}
    assert original.collect_events() == []


def test_partial_corrections_add_up_to_at_most_what_was_moved(bank):
    a = bank.member("a", balance=100)
    b = bank.member("b", balance=100)
    original = bank.post(two_party_legs(a.id, b.id, 30))
    bank.correct(original, minutes=10)
    bank.correct(original, minutes=15)
    original.collect_events()
    with pytest.raises(RuleViolated) as info:
        bank.correct(original, minutes=6)
    assert info.value.code == "over-correction"
    assert original.reversed == {a.id: 25, b.id: -25}
    assert original.collect_events() == []
    bank.correct(original, minutes=5)
    assert original.reversed == {a.id: 30, b.id: -30}


def test_a_correction_must_move_minutes_back_not_forward(bank):
    a = bank.member("a", balance=100)
    b = bank.member("b")
    original = bank.post(two_party_legs(a.id, b.id, 30))
    original.collect_events()
    with pytest.raises(RuleViolated) as info:
        bank.correct(original, legs=two_party_legs(a.id, b.id, 10))
    assert info.value.code == "not-a-reversal"
    with pytest.raises(RuleViolated) as info:
        bank.correct(original, minutes=-10)  # a negative amount also moves minutes forward
    assert info.value.code == "not-a-reversal"
    assert original.reversed == {}
    assert original.collect_events() == []


def test_a_correction_may_only_touch_the_accounts_of_the_original(bank):
    a = bank.member("a", balance=100)
    b = bank.member("b")
    c = bank.member("c")
    original = bank.post(two_party_legs(a.id, b.id, 30))
    original.collect_events()
    with pytest.raises(RuleViolated) as info:
        bank.correct(original, legs=two_party_legs(b.id, c.id, 10))
    assert info.value.code == "not-a-reversal"
    assert original.reversed == {}
    assert original.collect_events() == []


def test_a_correction_cannot_be_corrected(bank):
    a = bank.member("a", balance=100)
    b = bank.member("b")
    original = bank.post(two_party_legs(a.id, b.id, 30))
    correction = bank.correct(original, minutes=10)
    correction.collect_events()
    for minutes in [None, 5]:
        with pytest.raises(RuleViolated) as info:
            bank.correct(correction, minutes=minutes)
        assert info.value.code == "correcting-a-correction"
    assert correction.reversed == {}
    assert correction.collect_events() == []


def test_a_group_transfer_can_only_be_corrected_as_a_whole(bank):
    a = bank.member("a", balance=100)
    b = bank.member("b")
    c = bank.member("c")
    original = bank.post((Leg(a.id, -90), Leg(b.id, 60), Leg(c.id, 30)))
    assert_rejected(bank, "partial-group-correction", lambda: bank.correct(original, minutes=10))
    assert original.reversed == {}
    bank.correct(original)
    assert (a.balance, b.balance, c.balance) == (100, 0, 0)
    assert original.reversed == {a.id: 90, b.id: -60, c.id: -30}


def test_a_correction_respects_the_floor(bank):
    a = bank.member("a", balance=100)
    b = bank.member("b")
    original = bank.post(two_party_legs(a.id, b.id, 100))
    bank.post(two_party_legs(b.id, bank.community.id, 650))  # b spends what it received, and more
    assert b.balance == -550
    assert_rejected(bank, "below-floor", lambda: bank.correct(original, minutes=51))
    assert original.reversed == {}


def test_a_correction_of_a_closed_account_is_rejected(bank):
    a = bank.member("a", balance=100)
    b = bank.member("b")
    original = bank.post(two_party_legs(a.id, b.id, 100))
    settle_for_closure(
        b, pool=bank.pool, community=bank.community, occurred_at=WHEN, reason="bye", by=BY
    )
    b.close(reason="bye", by=BY)
    assert_rejected(bank, "account-closed", lambda: bank.correct(original))
    assert original.reversed == {}


# --- identities ----------------------------------------------------------------------------------


def test_system_account_ids_are_fixed():
    assert system_account_id(AccountKind.COMMUNITY) == UUID("249a7eea-8975-58b8-afca-bd038c7dd83f")
    assert system_account_id(AccountKind.POOL) == UUID("6f40d179-b0dd-57d5-bfcf-cc83eac90a5b")
    community = TimeAccount(
        "community", AccountKind.COMMUNITY, SYSTEM_LIMITS[AccountKind.COMMUNITY], BY
    )
    pool = TimeAccount("pool", AccountKind.POOL, SYSTEM_LIMITS[AccountKind.POOL], BY)
    assert community.id == system_account_id(AccountKind.COMMUNITY)
    assert pool.id == system_account_id(AccountKind.POOL)


def test_member_account_ids_derive_from_the_owner():
    first = TimeAccount("alice", AccountKind.MEMBER, MEMBER_LIMITS, BY)
    again = TimeAccount("alice", AccountKind.MEMBER, MEMBER_LIMITS, BY)
    other = TimeAccount("bob", AccountKind.MEMBER, MEMBER_LIMITS, BY)
    assert first.id == again.id == account_id_for("alice", AccountKind.MEMBER)
    assert other.id != first.id
    # A member who happens to be called "community" does not get the community account's id.
    namesake = TimeAccount("community", AccountKind.MEMBER, MEMBER_LIMITS, BY)
    assert namesake.id not in {system_account_id(kind) for kind in SYSTEM_LIMITS}


def test_transfer_ids_derive_from_the_idempotency_key(bank):
    assert transfer_id_for("request-1") == transfer_id_for("request-1")
    assert transfer_id_for("request-1") != transfer_id_for("request-2")
    assert transfer_id_for("abc") == UUID("15fe7a1c-208c-595d-97e5-961facd58984")
    assert Transfer.create_id("request-1") == transfer_id_for("request-1")
    a = bank.member("a", balance=100)
    b = bank.member("b")
    transfer = bank.post(two_party_legs(a.id, b.id, 10), key="request-1")
    assert transfer.id == transfer_id_for("request-1")
    assert transfer.idempotency_key == "request-1"
    [event] = b.collect_events()[-1:]
    assert event.transfer_id == transfer_id_for("request-1")


def test_same_request_compares_kind_legs_and_memo(bank):
    a = bank.member("a", balance=100)
    b = bank.member("b")
    legs = two_party_legs(a.id, b.id, 10)
    transfer = bank.post(legs, memo="lunch")
    assert transfer.same_request(TransferKind.TRANSFER, legs, "lunch")
    assert not transfer.same_request(TransferKind.TRANSFER, legs, "dinner")
    assert not transfer.same_request(TransferKind.CORRECTION, legs, "lunch")
    assert not transfer.same_request(TransferKind.TRANSFER, two_party_legs(a.id, b.id, 11), "lunch")


# --- rules checked before anything is touched ---------------------------------------------


def test_a_refused_correction_changes_no_balance(bank):
    a, b = bank.member("a", balance=100), bank.member("b")
    original = bank.post(two_party_legs(a.id, b.id, 30))
    assert_rejected(bank, "over-correction", lambda: bank.correct(original, minutes=31))
    assert_rejected(
        bank,
        "reason-required",
        lambda: post_correction(
            original,
            idempotency_key="k-blank",
            minutes=5,
            reason="  ",
            occurred_at=WHEN,
            accounts=bank.accounts,
            by=BY,
        ),
    )
    bank.correct(original)
    assert_rejected(bank, "already-corrected", lambda: bank.correct(original))


def test_only_a_correction_of_this_transfer_can_be_recorded_as_one(bank):
    a, b = bank.member("a", balance=100), bank.member("b")
    original = bank.post(two_party_legs(a.id, b.id, 5))
    plain = bank.post(two_party_legs(b.id, a.id, 5))
    with pytest.raises(RuleViolated) as refused:
        original.record_correction(plain)
    assert refused.value.code == "not-a-correction"
    assert original.reversed == {}


def test_closing_a_system_account_is_refused_before_any_minutes_move(bank):
    bank.member("a", balance=100)
    assert_rejected(
        bank,
        "system-account",
        lambda: settle_for_closure(
            bank.community,
            pool=bank.pool,
            community=bank.community,
            occurred_at=WHEN,
            reason="no",
            by=BY,
        ),
    )


def test_closing_needs_a_reason(bank):
    a = bank.member("a", balance=50)
    assert_rejected(
        bank,
        "reason-required",
        lambda: settle_for_closure(
            a, pool=bank.pool, community=bank.community, occurred_at=WHEN, reason=" ", by=BY
        ),
    )


def test_a_closed_account_keeps_its_limits(bank):
    a = bank.member("a")
    a.close("left", BY)
    with pytest.raises(RuleViolated) as refused:
        a.change_limits(Limits(floor=-100, cap=100), "council decision", BY)
    assert refused.value.code == "account-closed"
    assert a.limits == MEMBER_LIMITS


@pytest.mark.parametrize(("floor", "cap"), [(-1.5, None), (None, 10.0), (True, None)])
def test_limits_are_whole_minutes(floor, cap):
    with pytest.raises(RuleViolated) as refused:
        Limits(floor=floor, cap=cap)
    assert refused.value.code == "invalid-limits"
