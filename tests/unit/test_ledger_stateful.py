"""A stateful property test of the ledger (domain/ledger.py).

Hypothesis drives random opens, transfers (two-party and multi-leg), corrections (full and
partial), closures and limit changes against real aggregates, next to a small model of what the
rules should allow. Every command is predicted to succeed or to fail with a given code; a rejected
command must leave everything as it was. Invariants are checked after every step.
"""

import copy
from datetime import UTC, datetime

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from domain.ledger import (
    MEMBER_LIMITS,
    SYSTEM_LIMITS,
    AccountKind,
    Leg,
    Limits,
    TimeAccount,
    TransferKind,
    post_transfer,
    settle_for_closure,
    system_account_id,
    two_party_legs,
)
from domain.provenance import Provenance
from domain.rules import RuleViolated

BY = Provenance(actor="test", channel="test", correlation_id="c")
WHEN = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
COMMUNITY = system_account_id(AccountKind.COMMUNITY)
POOL = system_account_id(AccountKind.POOL)
MAX_OPEN_MEMBERS = 6
MAX_MEMBERS = 24

floors = st.one_of(st.none(), st.just(MEMBER_LIMITS.floor), st.integers(-1000, 0))
caps = st.one_of(st.none(), st.just(MEMBER_LIMITS.cap), st.integers(0, 900))
# Minutes a leg must not carry.
bad_minutes = st.sampled_from([0, True, False, 1.0, -2.5])
often = st.sampled_from([True] * 9 + [False])  # True nine times in ten


def within(balance, limits):
    return (limits.floor is None or balance >= limits.floor) and (
        limits.cap is None or balance <= limits.cap
    )


def predict_legs(legs):
    """The code check_legs should refuse ``legs`` with, or None."""
    if len(legs) < 2:
        return "too-few-legs"
    if any(type(leg.minutes) is not int or leg.minutes == 0 for leg in legs):
        return "invalid-minutes"
    if len({leg.account_id for leg in legs}) != len(legs):
        return "same-account"
    if sum(leg.minutes for leg in legs) != 0:
        return "unbalanced-transfer"
    return None


def event_name(event):
    return type(event).__name__


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.accounts = {}  # id -> TimeAccount (the real aggregates)
        self.kind = {}
        # The model: what the rules say the state should be.
        self.balance = {}
        self.limits = {}
        self.closed = {}
        self.outside = {}  # a limit change left the balance outside its bounds
        self.entries = {}  # id -> minutes of every EntryPosted the account emitted
        self.entries_at_close = {}
        self.transfers = {}  # id -> Transfer
        self.legs = {}  # transfer id -> legs as the model expects them
        self.reversed = {}  # transfer id -> {account id: minutes reversed}
        self.keys = 0
        for kind in (AccountKind.COMMUNITY, AccountKind.POOL):
            self.open(kind.value, kind, SYSTEM_LIMITS[kind])
        self.open("member-0", AccountKind.MEMBER, MEMBER_LIMITS)
        self.open("member-1", AccountKind.MEMBER, MEMBER_LIMITS)

    # --- helpers ---------------------------------------------------------------------------------

    def open(self, owner, kind, limits):
        account = TimeAccount(owner, kind, limits, BY)
        assert account.id not in self.accounts
        self.accounts[account.id] = account
        self.kind[account.id] = kind
        self.balance[account.id] = 0
        self.limits[account.id] = limits
        self.closed[account.id] = False
        self.outside[account.id] = False
        self.entries[account.id] = []
        [opened] = account.collect_events()
        assert event_name(opened) == "AccountOpened"
        assert (opened.owner, opened.kind, opened.limits, opened.by) == (owner, kind, limits, BY)
        return account

    @property
    def ids(self):
        return list(self.accounts)

    @property
    def member_ids(self):
        return [i for i in self.accounts if self.kind[i] is AccountKind.MEMBER]

    @property
    def open_ids(self):
        return [i for i in self.accounts if not self.closed[i]]

    def pick(self, data, label):
        """An account: nearly always an open one, now and then any (closed ones included)."""
        choices = self.open_ids if data.draw(often, label=f"{label} open only") else self.ids
        return data.draw(st.sampled_from(choices), label=label)

    def key(self):
        self.keys += 1
        return f"key-{self.keys}"

    def observe(self):
        return (
            {i: (a.balance, a.limits, a.is_closed) for i, a in self.accounts.items()},
            {i: dict(t.reversed) for i, t in self.transfers.items()},
        )

    def pending(self):
        aggregates = [*self.accounts.values(), *self.transfers.values()]
        return [event for aggregate in aggregates for event in aggregate.collect_events()]

    def attempt(self, expected, command):
        """Run ``command``; it must fail with ``expected`` (and change nothing), or succeed."""
        before = self.observe()
        try:
            result = command()
        except RuleViolated as error:
            assert error.code == expected, f"expected {expected!r}, got {error.code!r}: {error}"
            assert self.observe() == before
            assert self.pending() == []
            return None
        assert expected is None, f"expected {expected!r}, but the command succeeded"
        return result

    def predict_posting(self, legs):
        """The code post_transfer should refuse ``legs`` with, or None."""
        return predict_legs(legs) or self.predict_entries(legs)

    def predict_entries(self, legs):
        for leg in legs:
            account_id, minutes = leg.account_id, leg.minutes
            after = self.balance[account_id] + minutes
            floor, cap = self.limits[account_id].floor, self.limits[account_id].cap
            if self.closed[account_id]:
                return "account-closed"
            if minutes < 0 and floor is not None and after < floor:
                return "below-floor"
            if minutes > 0 and cap is not None and after > cap:
                return "above-cap"
        return None

    def apply(self, transfer, kind, legs, corrects=None):
        """Check a transfer that was just posted and fold it into the model."""
        assert transfer.id not in self.transfers
        assert transfer.kind is kind
        assert transfer.legs == tuple(legs)
        assert transfer.corrects == corrects
        assert transfer.occurred_at == WHEN
        assert transfer.reversed == {}
        self.transfers[transfer.id] = transfer
        self.legs[transfer.id] = tuple(legs)
        self.reversed[transfer.id] = {}
        for leg in legs:
            self.balance[leg.account_id] += leg.minutes
            if within(self.balance[leg.account_id], self.limits[leg.account_id]):
                self.outside[leg.account_id] = False

    def collect(self):
        """Drain every pending event, check it, and keep each account's entries."""
        for account_id, account in self.accounts.items():
            limits = self.limits[account_id]
            for event in account.collect_events():
                name = event_name(event)
                assert event.by == BY
                if name != "EntryPosted":
                    assert name in {"LimitsChanged", "AccountClosed"}, name
                    continue
                assert not self.closed[account_id] or account_id not in self.entries_at_close
                running = sum(self.entries[account_id]) + event.minutes
                assert event.balance == running
                # A posting may move a balance towards its bounds, never further out.
                if event.minutes < 0 and limits.floor is not None:
                    assert event.balance >= limits.floor
                if event.minutes > 0 and limits.cap is not None:
                    assert event.balance <= limits.cap
                assert Leg(account_id, event.minutes) in self.legs[event.transfer_id]
                self.entries[account_id].append(event.minutes)
        for transfer in self.transfers.values():
            for event in transfer.collect_events():
                assert event_name(event) in {"TransferPosted", "TransferCorrected"}

    def post(self, kind, legs, corrects=None):
        legs = tuple(legs)
        transfer = self.attempt(
            self.predict_posting(legs),
            lambda: post_transfer(
                idempotency_key=self.key(),
                kind=kind,
                legs=legs,
                memo="memo",
                occurred_at=WHEN,
                corrects=corrects,
                accounts=self.accounts,
                by=BY,
            ),
        )
        if transfer is not None:
            self.apply(transfer, kind, legs, corrects)
            self.collect()

    # --- rules -----------------------------------------------------------------------------------

    @precondition(
        lambda self: (
            len(self.member_ids) < MAX_MEMBERS and len(self.open_ids) < MAX_OPEN_MEMBERS + 2
        )
    )
    @rule(floor=floors, cap=caps)
    def open_member(self, floor, cap):
        self.open(f"member-{len(self.member_ids)}", AccountKind.MEMBER, Limits(floor, cap))

    @rule(data=st.data(), minutes=st.integers(-100, 700))
    def transfer(self, data, minutes):
        source = self.pick(data, "source")
        target = self.pick(data, "target")
        self.post(TransferKind.TRANSFER, two_party_legs(source, target, minutes))

    @rule(
        data=st.data(),
        size=st.integers(2, 5),
        flaw=st.sampled_from([None, None, None, None, None, "one-leg", "minutes", "twice", "skew"]),
    )
    def multi_leg_transfer(self, data, size, flaw):
        choices = self.open_ids if data.draw(often, label="open only") else self.ids
        size = min(size, len(choices))
        accounts = data.draw(
            st.lists(st.sampled_from(choices), min_size=size, max_size=size, unique=True),
            label="accounts",
        )
        minutes = data.draw(
            st.lists(st.integers(-300, 300), min_size=size - 1, max_size=size - 1),
            label="minutes",
        )
        legs = [*zip(accounts, [*minutes, -sum(minutes)], strict=True)]
        # Now and then spoil the transfer in one of the ways the ledger must refuse.
        if flaw == "one-leg":
            legs = legs[:1]
        elif flaw == "minutes":
            legs[-1] = (legs[-1][0], data.draw(bad_minutes, label="bad minutes"))
        elif flaw == "twice":
            legs[-1] = (legs[0][0], legs[-1][1])
        elif flaw == "skew":
            legs[-1] = (legs[-1][0], legs[-1][1] + data.draw(st.sampled_from([1, -7])))
        self.post(TransferKind.TRANSFER, [Leg(a, m) for a, m in legs])

    @precondition(lambda self: self.transfers)
    @rule(data=st.data(), partial=st.one_of(st.none(), st.integers(1, 400), st.integers(-20, 0)))
    def correct(self, data, partial):
        original = self.transfers[data.draw(st.sampled_from(list(self.transfers)), label="of")]
        legs = self.legs[original.id]
        reversed_ = self.reversed[original.id]
        if partial is None:
            expected_legs = tuple(
                Leg(leg.account_id, -(leg.minutes + reversed_.get(leg.account_id, 0)))
                for leg in legs
            )
            expected_legs = tuple(leg for leg in expected_legs if leg.minutes != 0)
        elif len(legs) == 2:
            source, target = sorted(legs, key=lambda leg: leg.minutes)
            expected_legs = two_party_legs(target.account_id, source.account_id, partial)
        else:
            expected_legs = None
        expected = self.predict_correction(original, expected_legs)
        key = self.key()

        def command():
            correction_legs = original.reversal_legs(partial)
            assert correction_legs == expected_legs
            touched = {leg.account_id for leg in correction_legs}
            before = {i: copy.deepcopy(self.accounts[i]) for i in touched}
            correction = post_transfer(
                idempotency_key=key,
                kind=TransferKind.CORRECTION,
                legs=correction_legs,
                memo="correction",
                occurred_at=WHEN,
                corrects=original.id,
                accounts=self.accounts,
                by=BY,
            )
            try:
                original.record_correction(correction)
            except RuleViolated:
                # The legs are already posted when the original says no; the application saves
                # nothing of a rejected command, so discard them as it would.
                self.accounts.update(before)
                raise
            return correction

        correction = self.attempt(expected, command)
        if correction is None:
            return
        self.apply(correction, TransferKind.CORRECTION, expected_legs, corrects=original.id)
        for leg in expected_legs:
            reversed_[leg.account_id] = reversed_.get(leg.account_id, 0) + leg.minutes
        self.collect()

    def predict_correction(self, original, legs):
        if legs is None:
            return "partial-group-correction"
        code = self.predict_posting(legs)
        if code is not None:
            return code
        if original.kind is TransferKind.CORRECTION:
            return "correcting-a-correction"
        moved = {leg.account_id: leg.minutes for leg in self.legs[original.id]}
        reversed_now = dict(self.reversed[original.id])
        for leg in legs:
            if leg.account_id not in moved or (moved[leg.account_id] > 0) == (leg.minutes > 0):
                return "not-a-reversal"
            reversed_now[leg.account_id] = reversed_now.get(leg.account_id, 0) + leg.minutes
            if abs(reversed_now[leg.account_id]) > abs(moved[leg.account_id]):
                return "over-correction"
        return None

    @rule(data=st.data())
    def close_account(self, data):
        if not data.draw(often, label="a member"):
            system_account = self.accounts[data.draw(st.sampled_from([COMMUNITY, POOL]))]
            self.attempt("system-account", lambda: system_account.close(reason="no", by=BY))
            return
        # Mostly open members: closing a closed one is only worth trying now and then.
        open_members = [i for i in self.member_ids if not self.closed[i]]
        choices = open_members if open_members and data.draw(often) else self.member_ids
        account_id = data.draw(st.sampled_from(choices), label="member")
        balance = self.balance[account_id]
        counterpart = POOL if balance > 0 else COMMUNITY
        legs = two_party_legs(account_id, counterpart, balance)
        settle_first = data.draw(st.sampled_from([True, True, False]), label="settle first")
        if self.closed[account_id]:
            expected = "account-closed"
        elif balance != 0:
            expected = self.predict_posting(legs) if settle_first else "balance-not-settled"
        else:
            expected = None

        def command():
            account = self.accounts[account_id]
            settled = None
            if settle_first:
                settled = settle_for_closure(
                    account,
                    pool=self.accounts[POOL],
                    community=self.accounts[COMMUNITY],
                    occurred_at=WHEN,
                    reason="leaving",
                    by=BY,
                )
            account.close(reason="leaving", by=BY)
            return (settled,)

        outcome = self.attempt(expected, command)
        if outcome is None:
            return
        [settled] = outcome
        if balance == 0:
            assert settled is None
        else:
            self.apply(settled, TransferKind.CLOSURE, legs)
            assert settled.memo == "leaving"
        assert self.accounts[account_id].balance == 0
        assert self.accounts[account_id].is_closed
        self.closed[account_id] = True
        self.collect()
        self.entries_at_close[account_id] = len(self.entries[account_id])

    @rule(
        data=st.data(),
        floor=st.one_of(st.none(), st.integers(-1000, 50)),
        cap=st.one_of(st.none(), st.integers(-50, 1500)),
        reason=st.sampled_from(
            ["council decision", "council decision", "council decision", "", " "]
        ),
    )
    def change_limits(self, data, floor, cap, reason):
        account_id = self.pick(data, "account")
        if (floor is not None and floor > 0) or (cap is not None and cap < 0):
            expected = "invalid-limits"
        elif self.accounts[account_id].kind is not AccountKind.MEMBER:
            expected = "system-account"
        elif self.closed[account_id]:
            expected = "account-closed"
        elif not reason.strip():
            expected = "reason-required"
        else:
            expected = None

        def command():
            limits = Limits(floor=floor, cap=cap)
            self.accounts[account_id].change_limits(limits, reason=reason, by=BY)
            return limits

        limits = self.attempt(expected, command)
        if limits is None:
            return
        self.limits[account_id] = limits
        self.outside[account_id] = not within(self.balance[account_id], limits)
        self.collect()

    # --- invariants ------------------------------------------------------------------------------

    @invariant()
    def the_bank_sums_to_zero(self):
        assert sum(account.balance for account in self.accounts.values()) == 0

    @invariant()
    def the_accounts_match_the_model(self):
        for account_id, account in self.accounts.items():
            assert account.balance == self.balance[account_id]
            assert account.limits == self.limits[account_id]
            assert account.is_closed == self.closed[account_id]

    @invariant()
    def each_balance_is_the_sum_of_its_entries(self):
        for account_id, account in self.accounts.items():
            assert account.balance == sum(self.entries[account_id])

    @invariant()
    def each_balance_is_the_sum_of_its_legs(self):
        from_legs = dict.fromkeys(self.accounts, 0)
        for transfer in self.transfers.values():
            for leg in transfer.legs:
                from_legs[leg.account_id] += leg.minutes
        assert from_legs == {i: a.balance for i, a in self.accounts.items()}

    @invariant()
    def balances_stay_within_limits(self):
        for account_id, account in self.accounts.items():
            if account.is_closed:
                continue
            if not within(account.balance, account.limits):
                assert self.outside[account_id], (account.balance, account.limits)

    @invariant()
    def transfers_balance_and_corrections_stay_within_what_moved(self):
        for transfer_id, transfer in self.transfers.items():
            assert len(transfer.legs) >= 2
            assert sum(leg.minutes for leg in transfer.legs) == 0
            assert len({leg.account_id for leg in transfer.legs}) == len(transfer.legs)
            assert transfer.reversed == self.reversed[transfer_id]
            moved = {leg.account_id: leg.minutes for leg in transfer.legs}
            for account_id, minutes in transfer.reversed.items():
                assert minutes * moved[account_id] <= 0
                assert abs(minutes) <= abs(moved[account_id])
            if transfer.kind is TransferKind.CORRECTION:
                assert transfer.corrects in self.transfers
                assert transfer.reversed == {}

    @invariant()
    def closed_accounts_are_empty_and_quiet(self):
        for account_id, count in self.entries_at_close.items():
            assert self.accounts[account_id].is_closed
            assert self.accounts[account_id].balance == 0
            assert len(self.entries[account_id]) == count

    @invariant()
    def nothing_is_left_pending(self):
        assert self.pending() == []


def test_the_ledger_keeps_its_invariants_under_random_commands():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(max_examples=100, stateful_step_count=40, deadline=None, database=None),
    )
