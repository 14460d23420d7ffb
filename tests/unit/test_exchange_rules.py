"""Example tests of the exchange, pool and listing rules (domain/exchange.py, domain/pool.py,
domain/listing.py), one rule at a time.

Every refusal is checked the same way: the command raises the expected code and leaves every
balance, every aggregate's version and state as it was, with no pending events.
"""

from datetime import UTC, datetime, timedelta

import pytest

from domain.exchange import (
    Exchange,
    ExchangeRules,
    ExchangeStatus,
    Outcome,
    Pair,
    check_pairs,
    confirm_exchange,
    dispute_exchange,
    exchange_id_for,
    legs_of,
    record_help,
    resolve_dispute,
)
from domain.ledger import (
    MEMBER_LIMITS,
    SYSTEM_LIMITS,
    AccountKind,
    Leg,
    Limits,
    TimeAccount,
    TransferKind,
    account_id_for,
    internal_key,
    post_transfer,
    system_account_id,
    transfer_id_for,
    two_party_legs,
)
from domain.listing import (
    CATEGORY_CODE,
    STARTING_CATEGORIES,
    Categories,
    ListingKind,
    check_no_contact_details,
    listing_id_for,
    post_listing,
)
from domain.pool import donate, grant
from domain.provenance import Provenance
from domain.rules import RuleViolated

BY = Provenance(actor="test", channel="test", correlation_id="c")
WHEN = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
RULES = ExchangeRules(max_minutes=240, confirm_within_hours=72, dispute_within_hours=168)
EXPIRES = WHEN + timedelta(hours=RULES.confirm_within_hours)
SECOND = timedelta(seconds=1)
OWNER = account_id_for("owner", AccountKind.MEMBER)


# --- helpers -------------------------------------------------------------------------------------


class World:
    """In-memory accounts, exchanges and transfers, with helpers that run the domain commands
    the way the application does."""

    def __init__(self) -> None:
        self.community = self._open("community", AccountKind.COMMUNITY)
        self.pool = self._open("pool", AccountKind.POOL)
        self.accounts = {self.community.id: self.community, self.pool.id: self.pool}
        self.transfers = {}
        self.others = []  # exchanges, listings and categories to watch
        self._keys = 0

    @staticmethod
    def _open(owner, kind):
        return TimeAccount(owner, kind, SYSTEM_LIMITS[kind], BY)

    def member(self, owner="member", limits=MEMBER_LIMITS, balance=0):
        account = TimeAccount(owner, AccountKind.MEMBER, limits, BY)
        self.accounts[account.id] = account
        if balance:
            self.fund(account, balance)
        return account

    def key(self):
        self._keys += 1
        return f"key-{self._keys}"

    def keep(self, transfer):
        if transfer is not None:
            self.transfers[transfer.id] = transfer
        return transfer

    def fund(self, account, minutes):
        """Approved hours from the community account (a negative amount goes the other way)."""
        self.keep(
            post_transfer(
                idempotency_key=self.key(),
                kind=TransferKind.TRANSFER,
                legs=two_party_legs(self.community.id, account.id, minutes),
                memo="approved hours",
                occurred_at=WHEN,
                corrects=None,
                accounts=self.accounts,
                by=BY,
            )
        )

    def record(self, *pairs, description="helped with shopping", now=WHEN, key=None, rules=RULES):
        """``pairs``: (provider, receiver, minutes), the people as accounts."""
        pairs = tuple(Pair(p.id, r.id, minutes) for p, r, minutes in pairs)
        parties = {i for pair in pairs for i in (pair.provider, pair.receiver)}
        exchange = record_help(
            idempotency_key=key or self.key(),
            pairs=pairs,
            listing_id=None,
            description=description,
            occurred_at=now - timedelta(hours=2),
            now=now,
            rules=rules,
            accounts={i: self.accounts[i] for i in parties},
            by=BY,
        )
        self.others.append(exchange)
        return exchange

    def confirm(self, exchange, receiver, now=WHEN, key=None, on_behalf=False):
        return self.keep(
            confirm_exchange(
                exchange,
                receiver=receiver.id,
                on_behalf=on_behalf,
                idempotency_key=key or self.key(),
                now=now,
                accounts=self.accounts,
                by=BY,
            )
        )

    def confirm_all(self, exchange, now=WHEN):
        settlement = None
        for receiver in sorted(exchange.receivers - exchange.confirmed):
            settlement = self.confirm(exchange, self.accounts[receiver], now=now)
        return settlement

    def dispute(self, exchange, party, reason="that is not what happened", now=WHEN, key=None):
        return self.keep(
            dispute_exchange(
                exchange,
                party=None if party is None else party.id,
                reason=reason,
                idempotency_key=key or self.key(),
                now=now,
                settlement=self.transfers.get(exchange.settlement),
                accounts=self.accounts,
                by=BY,
            )
        )

    def resolve(self, exchange, outcome, minutes=None, reason="decided", now=WHEN, key=None):
        return self.keep(
            resolve_dispute(
                exchange,
                outcome=outcome,
                minutes=minutes,
                reason=reason,
                idempotency_key=key or self.key(),
                now=now,
                accounts=self.accounts,
                by=BY,
            )
        )

    def aggregates(self):
        return [*self.accounts.values(), *self.transfers.values(), *self.others]

    def balances(self):
        return {account_id: account.balance for account_id, account in self.accounts.items()}

    def snapshot(self):
        exchanges = [
            (
                e.status,
                e.pairs,
                frozenset(e.confirmed),
                e.settlement,
                e.settled_at,
                e.is_resolved,
                dict(e.keys),
            )
            for e in self.others
            if isinstance(e, Exchange)
        ]
        reversed_ = {i: dict(t.reversed) for i, t in self.transfers.items()}
        versions = [(a.id, a.version) for a in self.aggregates()]
        return self.balances(), exchanges, reversed_, versions, len(self.transfers)

    def flush(self):
        for aggregate in self.aggregates():
            aggregate.collect_events()

    def pending(self):
        return [event for a in self.aggregates() for event in a.collect_events()]


@pytest.fixture
def world():
    return World()


def assert_refused(world, code, command):
    """Run ``command``: it must raise ``code`` and change nothing at all."""
    world.flush()
    before = world.snapshot()
    with pytest.raises(RuleViolated) as info:
        command()
    assert info.value.code == code, info.value.message
    assert world.snapshot() == before
    assert world.pending() == []
    return info.value


def names(aggregate):
    return [type(event).__name__ for event in aggregate.collect_events()]


# --- recording -----------------------------------------------------------------------------------


def test_recording_help_moves_nothing_and_awaits_confirmation(world):
    a, b = world.member("a"), world.member("b")
    exchange = world.record((a, b, 90), key="rec-1")
    assert exchange.id == exchange_id_for("rec-1") == Exchange.create_id("rec-1")
    assert exchange.status is ExchangeStatus.AWAITING_CONFIRMATION
    assert exchange.pairs == (Pair(a.id, b.id, 90),)
    assert exchange.providers == {a.id}
    assert exchange.receivers == {b.id}
    assert exchange.parties == {a.id, b.id}
    assert exchange.minutes == 90
    assert exchange.expires_at == EXPIRES
    assert exchange.dispute_within == timedelta(hours=RULES.dispute_within_hours)
    assert exchange.max_minutes == RULES.max_minutes
    assert exchange.confirmed == set()
    assert exchange.settlement is None
    assert not exchange.is_resolved
    assert exchange.keys == {"rec-1": "record"}
    assert names(exchange) == ["HelpRecorded"]
    assert (a.balance, b.balance) == (0, 0)


def test_a_pair_may_carry_exactly_the_maximum(world):
    a, b = world.member("a"), world.member("b")
    exchange = world.record((a, b, RULES.max_minutes))
    assert exchange.minutes == RULES.max_minutes


def test_a_pair_over_the_maximum_is_refused(world):
    a, b = world.member("a"), world.member("b")
    error = assert_refused(
        world, "over-exchange-maximum", lambda: world.record((a, b, RULES.max_minutes + 1))
    )
    assert str(RULES.max_minutes) in error.message


def test_the_maximum_applies_per_pair_in_a_group(world):
    a, b, c, d = (world.member(x) for x in "abcd")
    # Three pairs of 200: 600 in all, but each pair is under the maximum.
    exchange = world.record((a, b, 200), (a, c, 200), (a, d, 200))
    assert exchange.minutes == 600
    assert_refused(world, "over-exchange-maximum", lambda: world.record((a, b, 200), (a, c, 241)))


@pytest.mark.parametrize("minutes", [0, -30, 1.5, 30.0, True])
def test_pair_minutes_are_whole_numbers_above_zero(world, minutes):
    a, b = world.member("a"), world.member("b")
    assert_refused(world, "invalid-minutes", lambda: world.record((a, b, minutes)))


def test_an_exchange_names_at_least_one_pair(world):
    assert_refused(world, "no-pairs", world.record)


def test_nobody_exchanges_help_with_themselves(world):
    a, b = world.member("a"), world.member("b")
    assert_refused(world, "self-exchange", lambda: world.record((a, a, 30)))
    assert_refused(world, "self-exchange", lambda: world.record((a, b, 30), (a, a, 30)))


@pytest.mark.parametrize(
    "shape",
    [
        lambda a, b, c, d: ((a, b, 30), (c, d, 30)),  # two unrelated pairs
        lambda a, b, c, d: ((a, b, 30), (b, a, 30)),  # each helped the other
        lambda a, b, c, d: ((a, b, 30), (a, c, 30), (d, b, 30)),
        lambda a, b, c, d: ((a, b, 30), (b, c, 30)),  # a chain
    ],
    ids=["disjoint", "swap", "many-to-many", "chain"],
)
def test_a_group_has_one_provider_or_one_receiver(world, shape):
    people = [world.member(x) for x in "abcd"]
    assert_refused(world, "mixed-group", lambda: world.record(*shape(*people)))


def test_a_pair_appears_once(world):
    a, b = world.member("a"), world.member("b")
    assert_refused(world, "duplicate-pair", lambda: world.record((a, b, 30), (a, b, 60)))


def test_one_provider_many_receivers_and_many_providers_one_receiver_are_allowed(world):
    a, b, c = (world.member(x) for x in "abc")
    one_to_many = world.record((a, b, 30), (a, c, 60))
    many_to_one = world.record((b, a, 30), (c, a, 60))
    assert (one_to_many.providers, one_to_many.receivers) == ({a.id}, {b.id, c.id})
    assert (many_to_one.providers, many_to_one.receivers) == ({b.id, c.id}, {a.id})


def test_check_pairs_refuses_in_rule_order():
    a, b = object(), object()
    # Per pair, minutes are checked before the maximum, the maximum before self-exchange.
    with pytest.raises(RuleViolated) as info:
        check_pairs((Pair(a, a, 0),), 240)
    assert info.value.code == "invalid-minutes"
    with pytest.raises(RuleViolated) as info:
        check_pairs((Pair(a, a, 300),), 240)
    assert info.value.code == "over-exchange-maximum"
    check_pairs((Pair(a, b, 240),), 240)


def test_a_closed_account_cannot_exchange_help(world):
    a, b = world.member("a"), world.member("b")
    b.close(reason="moved away", by=BY)
    assert_refused(world, "not-a-member-account", lambda: world.record((a, b, 30)))
    assert_refused(world, "not-a-member-account", lambda: world.record((b, a, 30)))


@pytest.mark.parametrize("kind", [AccountKind.COMMUNITY, AccountKind.POOL])
def test_system_accounts_cannot_exchange_help(world, kind):
    a = world.member("a")
    system = world.accounts[system_account_id(kind)]
    assert_refused(world, "not-a-member-account", lambda: world.record((a, system, 30)))
    assert_refused(world, "not-a-member-account", lambda: world.record((system, a, 30)))


@pytest.mark.parametrize(
    "description",
    [
        "call me on 13800138000",
        "call me on 138 0013 8000",
        "call me on 138-0013-8000",
        "ID 11010119900307432X",
        "wechat １３８００１３８０００",  # full-width digits
    ],
)
def test_contact_details_in_the_description_are_refused(world, description):
    a, b = world.member("a"), world.member("b")
    assert_refused(
        world, "contact-details-in-text", lambda: world.record((a, b, 30), description=description)
    )


@pytest.mark.parametrize(
    "description",
    [
        "fixed the rice cooker, building 12 room 1203",
        "2 hours of shopping, 35 yuan of groceries",
        "walked to the clinic 9:00-11:30",
        "",
    ],
)
def test_ordinary_descriptions_are_allowed(world, description):
    a, b = world.member("a"), world.member("b")
    assert world.record((a, b, 30), description=description).description == description


def test_rules_are_whole_numbers_above_zero():
    for values in [(0, 72, 168), (240, -1, 168), (240, 72, 1.5), (True, 72, 168)]:
        with pytest.raises(RuleViolated) as info:
            ExchangeRules(*values)
        assert info.value.code == "invalid-exchange-rules"


# --- confirming ----------------------------------------------------------------------------------


def test_confirming_settles_a_two_party_exchange(world):
    provider, receiver = world.member("provider"), world.member("receiver", balance=100)
    exchange = world.record((provider, receiver, 90), description="fixed the fan")
    world.flush()
    settlement = world.confirm(exchange, receiver, now=WHEN + timedelta(hours=5), on_behalf=True)
    assert settlement.id == transfer_id_for(internal_key("settlement", exchange.id))
    assert settlement.kind is TransferKind.EXCHANGE
    assert settlement.legs == (Leg(receiver.id, -90), Leg(provider.id, 90))
    assert settlement.memo == "fixed the fan"
    assert settlement.occurred_at == exchange.occurred_at
    assert settlement.corrects is None
    assert (provider.balance, receiver.balance) == (90, 10)
    assert exchange.status is ExchangeStatus.SETTLED
    assert exchange.settlement == settlement.id
    assert exchange.settled_at == WHEN + timedelta(hours=5)
    assert exchange.confirmed == {receiver.id}
    events = exchange.collect_events()
    assert [type(e).__name__ for e in events] == ["ExchangeConfirmed", "ExchangeSettled"]
    assert events[0].receiver == receiver.id
    assert events[0].on_behalf is True


def test_only_a_receiver_can_confirm(world):
    provider, receiver, outsider = world.member("p"), world.member("r"), world.member("o")
    exchange = world.record((provider, receiver, 30))
    assert_refused(world, "not-a-receiver", lambda: world.confirm(exchange, provider))
    assert_refused(world, "not-a-receiver", lambda: world.confirm(exchange, outsider))
    assert_refused(world, "not-a-receiver", lambda: world.confirm(exchange, world.community))


def test_a_receiver_confirms_once(world):
    provider, b, c = world.member("p"), world.member("b"), world.member("c")
    exchange = world.record((provider, b, 30), (provider, c, 30))
    assert world.confirm(exchange, b) is None
    assert_refused(world, "already-confirmed", lambda: world.confirm(exchange, b))
    assert exchange.confirmed == {b.id}


def test_a_settled_exchange_takes_no_more_confirmations(world):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    world.confirm(exchange, receiver)
    # A repeated confirmation is told it is already confirmed, before the status is checked.
    assert_refused(world, "already-confirmed", lambda: world.confirm(exchange, receiver))
    assert_refused(world, "not-a-receiver", lambda: world.confirm(exchange, provider))
    assert (provider.balance, receiver.balance) == (30, -30)


def test_a_receiver_still_to_confirm_is_told_the_status(world):
    provider, b, c = world.member("p"), world.member("b"), world.member("c")
    exchange = world.record((provider, b, 30), (provider, c, 30))
    world.confirm(exchange, b)
    world.dispute(exchange, b)
    assert_refused(world, "exchange-disputed", lambda: world.confirm(exchange, c))
    assert_refused(world, "already-confirmed", lambda: world.confirm(exchange, b))


def test_confirming_at_the_deadline_is_allowed(world):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    assert world.confirm(exchange, receiver, now=EXPIRES) is not None
    assert exchange.status is ExchangeStatus.SETTLED


def test_confirming_after_the_deadline_is_refused(world):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    assert_refused(
        world, "exchange-expired", lambda: world.confirm(exchange, receiver, now=EXPIRES + SECOND)
    )
    assert exchange.status is ExchangeStatus.AWAITING_CONFIRMATION


def test_a_group_settles_only_when_the_last_receiver_confirms_as_one_transfer(world):
    provider = world.member("provider")
    receivers = [world.member(f"r{i}", balance=100) for i in range(3)]
    minutes = [30, 45, 60]
    exchange = world.record(*((provider, r, m) for r, m in zip(receivers, minutes, strict=True)))
    before = world.balances()
    assert world.confirm(exchange, receivers[0]) is None
    assert world.confirm(exchange, receivers[1]) is None
    assert world.balances() == before
    assert exchange.status is ExchangeStatus.AWAITING_CONFIRMATION
    assert exchange.settlement is None
    settlement = world.confirm(exchange, receivers[2])
    assert settlement.kind is TransferKind.EXCHANGE
    assert sum(leg.minutes for leg in settlement.legs) == 0
    assert set(settlement.legs) == {
        Leg(provider.id, 135),
        Leg(receivers[0].id, -30),
        Leg(receivers[1].id, -45),
        Leg(receivers[2].id, -60),
    }
    assert len(settlement.legs) == 4
    assert settlement.legs == legs_of(exchange.pairs)
    assert provider.balance == 135
    assert [r.balance for r in receivers] == [70, 55, 40]
    assert exchange.status is ExchangeStatus.SETTLED
    assert exchange.settlement == settlement.id
    # Exactly one transfer moved the minutes (apart from the funding ones).
    exchanges = [t for t in world.transfers.values() if t.kind is TransferKind.EXCHANGE]
    assert exchanges == [settlement]


def test_several_providers_one_receiver_settle_on_the_one_confirmation(world):
    p1, p2, receiver = world.member("p1"), world.member("p2"), world.member("r")
    exchange = world.record((p1, receiver, 30), (p2, receiver, 50))
    settlement = world.confirm(exchange, receiver)
    assert settlement.legs == (Leg(receiver.id, -80), Leg(p1.id, 30), Leg(p2.id, 50))
    assert (p1.balance, p2.balance, receiver.balance) == (30, 50, -80)


@pytest.mark.parametrize("floored_confirms_last", [True, False])
def test_a_receiver_at_their_floor_blocks_the_whole_group(world, floored_confirms_last):
    provider = world.member("provider")
    free = world.member("free", balance=100)
    floored = world.member("floored", balance=MEMBER_LIMITS.floor)
    assert floored.balance == MEMBER_LIMITS.floor
    exchange = world.record((provider, free, 30), (provider, floored, 30))
    first, last = (free, floored) if floored_confirms_last else (floored, free)
    assert world.confirm(exchange, first) is None
    error = assert_refused(world, "below-floor", lambda: world.confirm(exchange, last))
    # Whoever confirms last may not be the one at their floor: nobody's balance is told.
    assert str(MEMBER_LIMITS.floor) not in error.message
    assert exchange.status is ExchangeStatus.AWAITING_CONFIRMATION
    assert exchange.confirmed == {first.id}
    assert exchange.settlement is None
    assert (provider.balance, free.balance, floored.balance) == (0, 100, MEMBER_LIMITS.floor)
    # Once the floored receiver has credit, the same confirmation settles everything.
    world.fund(floored, 30)
    settlement = world.confirm(exchange, last)
    assert settlement is not None
    assert (provider.balance, free.balance, floored.balance) == (60, 70, MEMBER_LIMITS.floor)


def test_a_provider_at_their_cap_blocks_the_settlement(world):
    provider = world.member("provider", limits=Limits(floor=-600, cap=100), balance=80)
    receiver = world.member("receiver")
    exchange = world.record((provider, receiver, 30))
    assert_refused(world, "above-cap", lambda: world.confirm(exchange, receiver))
    assert exchange.confirmed == set()


def test_an_account_closed_since_the_recording_blocks_the_settlement(world):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    provider.close(reason="moved away", by=BY)
    assert_refused(world, "account-closed", lambda: world.confirm(exchange, receiver))
    assert exchange.status is ExchangeStatus.AWAITING_CONFIRMATION


# --- disputing -----------------------------------------------------------------------------------


def test_a_dispute_before_confirmation_moves_nothing(world):
    provider, receiver = world.member("p"), world.member("r", balance=50)
    exchange = world.record((provider, receiver, 30))
    before = world.balances()
    world.flush()
    hold = world.dispute(exchange, receiver, reason="only twenty minutes", key="d-1")
    assert hold is None
    assert world.balances() == before
    assert exchange.status is ExchangeStatus.DISPUTED
    assert exchange.keys["d-1"] == "dispute"
    [disputed] = exchange.collect_events()
    assert type(disputed).__name__ == "ExchangeDisputed"
    assert (disputed.party, disputed.reason, disputed.hold) == (
        receiver.id,
        "only twenty minutes",
        None,
    )


def test_a_group_can_be_disputed_between_confirmations(world):
    provider, b, c = world.member("p"), world.member("b"), world.member("c")
    exchange = world.record((provider, b, 30), (provider, c, 30))
    world.confirm(exchange, b)
    assert world.dispute(exchange, c) is None
    assert exchange.status is ExchangeStatus.DISPUTED
    assert (provider.balance, b.balance, c.balance) == (0, 0, 0)
    assert_refused(world, "exchange-disputed", lambda: world.confirm(exchange, c))


def test_a_coordinator_can_dispute_for_the_parties(world):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    assert world.dispute(exchange, None) is None
    assert exchange.status is ExchangeStatus.DISPUTED


def test_a_dispute_after_settlement_holds_the_minutes_back(world):
    provider, receiver = world.member("p", balance=10), world.member("r", balance=200)
    exchange = world.record((provider, receiver, 90))
    before = world.balances()
    settlement = world.confirm(exchange, receiver)
    assert (provider.balance, receiver.balance) == (100, 110)
    world.flush()
    hold = world.dispute(exchange, provider, now=WHEN + timedelta(hours=10))
    assert hold.id == transfer_id_for(internal_key("hold", exchange.id))
    assert hold.kind is TransferKind.CORRECTION
    assert hold.corrects == settlement.id
    assert set(hold.legs) == {Leg(receiver.id, 90), Leg(provider.id, -90)}
    assert sum(leg.minutes for leg in hold.legs) == 0
    assert world.balances() == before
    assert settlement.reversed == {receiver.id: 90, provider.id: -90}
    assert exchange.status is ExchangeStatus.DISPUTED
    assert exchange.settlement == settlement.id
    [disputed] = exchange.collect_events()
    assert disputed.hold == hold.id


def test_a_group_dispute_after_settlement_reverses_every_leg(world):
    provider = world.member("p")
    b, c = world.member("b", balance=100), world.member("c", balance=100)
    exchange = world.record((provider, b, 30), (provider, c, 40))
    before = world.balances()
    world.confirm_all(exchange)
    hold = world.dispute(exchange, c)
    assert len(hold.legs) == 3
    assert world.balances() == before


def test_a_dispute_at_the_end_of_the_window_is_allowed(world):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    world.confirm(exchange, receiver, now=WHEN + timedelta(hours=1))
    edge = WHEN + timedelta(hours=1) + exchange.dispute_within
    assert world.dispute(exchange, receiver, now=edge) is not None
    assert (provider.balance, receiver.balance) == (0, 0)


def test_a_dispute_after_the_window_is_refused(world):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    world.confirm(exchange, receiver, now=WHEN + timedelta(hours=1))
    late = WHEN + timedelta(hours=1) + exchange.dispute_within + SECOND
    assert_refused(
        world, "dispute-window-closed", lambda: world.dispute(exchange, receiver, now=late)
    )
    assert exchange.status is ExchangeStatus.SETTLED
    assert (provider.balance, receiver.balance) == (30, -30)


def test_an_unconfirmed_exchange_past_its_deadline_cannot_be_disputed(world):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    assert_refused(
        world,
        "exchange-expired",
        lambda: world.dispute(exchange, receiver, now=EXPIRES + SECOND),
    )


def test_only_a_party_can_dispute(world):
    provider, receiver, outsider = world.member("p"), world.member("r"), world.member("o")
    exchange = world.record((provider, receiver, 30))
    assert_refused(world, "not-a-party", lambda: world.dispute(exchange, outsider))
    world.confirm(exchange, receiver)
    assert_refused(world, "not-a-party", lambda: world.dispute(exchange, outsider))
    assert exchange.status is ExchangeStatus.SETTLED


@pytest.mark.parametrize("settle_first", [False, True])
def test_a_dispute_needs_a_reason(world, settle_first):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    if settle_first:
        world.confirm(exchange, receiver)
    for reason in ["", "   "]:
        assert_refused(
            world, "reason-required", lambda r=reason: world.dispute(exchange, receiver, reason=r)
        )


def test_a_disputed_exchange_cannot_be_disputed_again(world):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    world.confirm(exchange, receiver)
    world.dispute(exchange, receiver)
    assert_refused(world, "exchange-disputed", lambda: world.dispute(exchange, provider))


@pytest.mark.parametrize(("outcome", "minutes"), [(Outcome.UPHOLD, None), (Outcome.ADJUST, (20,))])
def test_a_second_dispute_after_a_resolution_is_refused(world, outcome, minutes):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    world.confirm(exchange, receiver)
    world.dispute(exchange, receiver)
    world.resolve(exchange, outcome, minutes=minutes)
    assert exchange.status is ExchangeStatus.SETTLED
    assert_refused(world, "already-resolved", lambda: world.dispute(exchange, provider))
    assert_refused(world, "already-resolved", lambda: world.dispute(exchange, None))


def test_a_cancelled_exchange_cannot_be_disputed(world):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    world.dispute(exchange, receiver)
    world.resolve(exchange, Outcome.CANCEL)
    assert_refused(world, "exchange-cancelled", lambda: world.dispute(exchange, provider))


def test_withdrawn_and_expired_exchanges_cannot_be_disputed(world):
    provider, receiver = world.member("p"), world.member("r")
    withdrawn = world.record((provider, receiver, 30))
    withdrawn.withdraw(reason="recorded twice", idempotency_key=world.key(), by=BY)
    assert_refused(world, "exchange-withdrawn", lambda: world.dispute(withdrawn, receiver))
    expired = world.record((provider, receiver, 30))
    expired.expire(now=EXPIRES + SECOND, by=BY)
    assert_refused(world, "exchange-expired", lambda: world.dispute(expired, receiver))


def test_a_hold_that_would_push_the_provider_below_the_floor_is_refused(world):
    provider, receiver = world.member("p"), world.member("r", balance=200)
    exchange = world.record((provider, receiver, 200))
    world.confirm(exchange, receiver)
    # The provider spends what they earned and more, down to their floor.
    world.fund(provider, -(200 - MEMBER_LIMITS.floor))
    assert provider.balance == MEMBER_LIMITS.floor
    assert_refused(world, "hold-needs-coordinator", lambda: world.dispute(exchange, receiver))
    assert exchange.status is ExchangeStatus.SETTLED


# --- resolving -----------------------------------------------------------------------------------


def disputed_after_settlement(world, *pairs):
    exchange = world.record(*pairs)
    world.confirm_all(exchange)
    world.dispute(exchange, None)
    return exchange


def test_upholding_settles_the_recorded_minutes_again(world):
    provider, receiver = world.member("p"), world.member("r", balance=100)
    exchange = disputed_after_settlement(world, (provider, receiver, 40))
    first_settlement = exchange.settlement
    assert (provider.balance, receiver.balance) == (0, 100)
    at = WHEN + timedelta(hours=30)
    world.flush()
    settlement = world.resolve(exchange, Outcome.UPHOLD, reason="witness confirms", now=at)
    assert settlement.id == transfer_id_for(internal_key("resolution", exchange.id))
    assert settlement.id != first_settlement
    assert settlement.kind is TransferKind.EXCHANGE
    assert settlement.legs == (Leg(receiver.id, -40), Leg(provider.id, 40))
    assert settlement.memo == "witness confirms"
    assert (provider.balance, receiver.balance) == (40, 60)
    assert exchange.status is ExchangeStatus.SETTLED
    assert exchange.is_resolved
    assert exchange.settlement == settlement.id
    assert exchange.settled_at == at
    assert names(exchange) == ["DisputeResolved"]


def test_upholding_a_dispute_raised_before_confirmation_settles_it(world):
    provider, b, c = world.member("p"), world.member("b"), world.member("c")
    exchange = world.record((provider, b, 30), (provider, c, 20))
    world.dispute(exchange, provider)
    settlement = world.resolve(exchange, Outcome.UPHOLD)
    assert len(settlement.legs) == 3
    assert (provider.balance, b.balance, c.balance) == (50, -30, -20)


def test_adjusting_settles_the_adjusted_minutes(world):
    provider, receiver = world.member("p"), world.member("r", balance=100)
    exchange = disputed_after_settlement(world, (provider, receiver, 90))
    settlement = world.resolve(exchange, Outcome.ADJUST, minutes=(60,))
    assert settlement.legs == (Leg(receiver.id, -60), Leg(provider.id, 60))
    assert exchange.pairs == (Pair(provider.id, receiver.id, 60),)
    assert exchange.minutes == 60
    assert (provider.balance, receiver.balance) == (60, 40)
    assert exchange.status is ExchangeStatus.SETTLED


def test_adjusting_a_group_sets_each_pair(world):
    provider, b, c = world.member("p"), world.member("b"), world.member("c")
    exchange = disputed_after_settlement(world, (provider, b, 30), (provider, c, 60))
    world.resolve(exchange, Outcome.ADJUST, minutes=(30, 15))
    assert exchange.pairs == (Pair(provider.id, b.id, 30), Pair(provider.id, c.id, 15))
    assert (provider.balance, b.balance, c.balance) == (45, -30, -15)


def test_cancelling_leaves_the_balances_as_before_the_exchange(world):
    provider, receiver = world.member("p", balance=5), world.member("r", balance=100)
    before = world.balances()
    exchange = disputed_after_settlement(world, (provider, receiver, 90))
    assert world.resolve(exchange, Outcome.CANCEL) is None
    assert world.balances() == before
    assert exchange.status is ExchangeStatus.CANCELLED
    assert exchange.is_resolved


def test_cancelling_a_dispute_raised_before_confirmation(world):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    world.dispute(exchange, receiver)
    assert world.resolve(exchange, Outcome.CANCEL) is None
    assert (provider.balance, receiver.balance) == (0, 0)
    assert exchange.status is ExchangeStatus.CANCELLED


@pytest.mark.parametrize("minutes", [None, (), (10, 20)])
def test_adjusting_needs_one_number_per_pair(world, minutes):
    provider, receiver = world.member("p"), world.member("r")
    exchange = disputed_after_settlement(world, (provider, receiver, 30))
    assert_refused(
        world,
        "adjusted-minutes-mismatch",
        lambda: world.resolve(exchange, Outcome.ADJUST, minutes=minutes),
    )
    assert exchange.status is ExchangeStatus.DISPUTED


def test_adjusting_to_the_recorded_minutes_is_refused(world):
    provider, b, c = world.member("p"), world.member("b"), world.member("c")
    exchange = disputed_after_settlement(world, (provider, b, 30), (provider, c, 60))
    assert_refused(
        world,
        "nothing-adjusted",
        lambda: world.resolve(exchange, Outcome.ADJUST, minutes=(30, 60)),
    )


@pytest.mark.parametrize(
    ("minutes", "code"),
    [((0,), "invalid-minutes"), ((-5,), "invalid-minutes"), ((241,), "over-exchange-maximum")],
)
def test_adjusted_minutes_follow_the_recording_rules(world, minutes, code):
    provider, receiver = world.member("p"), world.member("r")
    exchange = disputed_after_settlement(world, (provider, receiver, 30))
    assert_refused(world, code, lambda: world.resolve(exchange, Outcome.ADJUST, minutes=minutes))


def test_the_maximum_in_force_at_recording_governs_the_adjustment(world):
    provider, receiver = world.member("p"), world.member("r")
    generous = ExchangeRules(max_minutes=500, confirm_within_hours=72, dispute_within_hours=168)
    exchange = world.record((provider, receiver, 30), rules=generous)
    world.dispute(exchange, receiver)
    world.resolve(exchange, Outcome.ADJUST, minutes=(400,))
    assert (provider.balance, receiver.balance) == (400, -400)


@pytest.mark.parametrize("outcome", [Outcome.UPHOLD, Outcome.CANCEL])
def test_minutes_are_given_only_to_adjust(world, outcome):
    provider, receiver = world.member("p"), world.member("r")
    exchange = disputed_after_settlement(world, (provider, receiver, 30))
    assert_refused(
        world,
        "minutes-only-when-adjusting",
        lambda: world.resolve(exchange, outcome, minutes=(20,)),
    )


@pytest.mark.parametrize("outcome", list(Outcome))
def test_a_resolution_needs_a_reason(world, outcome):
    provider, receiver = world.member("p"), world.member("r")
    exchange = disputed_after_settlement(world, (provider, receiver, 30))
    minutes = (20,) if outcome is Outcome.ADJUST else None
    assert_refused(
        world,
        "reason-required",
        lambda: world.resolve(exchange, outcome, minutes=minutes, reason=" "),
    )


@pytest.mark.parametrize("state", ["awaiting", "settled", "cancelled", "withdrawn", "expired"])
def test_only_a_disputed_exchange_can_be_resolved(world, state):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    if state == "settled":
        world.confirm(exchange, receiver)
    elif state == "cancelled":
        world.dispute(exchange, receiver)
        world.resolve(exchange, Outcome.CANCEL)
    elif state == "withdrawn":
        exchange.withdraw(reason="mistake", idempotency_key=world.key(), by=BY)
    elif state == "expired":
        exchange.expire(now=EXPIRES + SECOND, by=BY)
    for outcome in Outcome:
        minutes = (20,) if outcome is Outcome.ADJUST else None
        error = assert_refused(
            world,
            f"exchange-{exchange.status.value.replace('_', '-')}",
            lambda o=outcome, m=minutes: world.resolve(exchange, o, minutes=m),
        )
        assert error.code.startswith("exchange-")


def test_a_resolution_that_would_breach_a_floor_is_refused(world):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 100))
    world.dispute(exchange, receiver)
    world.fund(receiver, MEMBER_LIMITS.floor + 50)  # receiver now 50 minutes above the floor
    assert_refused(world, "below-floor", lambda: world.resolve(exchange, Outcome.UPHOLD))
    world.resolve(exchange, Outcome.ADJUST, minutes=(50,))
    assert receiver.balance == MEMBER_LIMITS.floor


# --- withdrawing and expiring --------------------------------------------------------------------


def test_the_provider_can_withdraw_before_any_confirmation(world):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    world.flush()
    exchange.withdraw(reason="recorded twice", idempotency_key="w-1", by=BY)
    assert exchange.status is ExchangeStatus.WITHDRAWN
    assert exchange.keys["w-1"] == "withdraw"
    assert names(exchange) == ["ExchangeWithdrawn"]
    assert (provider.balance, receiver.balance) == (0, 0)
    assert_refused(world, "exchange-withdrawn", lambda: world.confirm(exchange, receiver))


def test_a_partly_confirmed_group_cannot_be_withdrawn(world):
    provider, b, c = world.member("p"), world.member("b"), world.member("c")
    exchange = world.record((provider, b, 30), (provider, c, 30))
    world.confirm(exchange, b)
    assert_refused(
        world,
        "already-confirmed",
        lambda: exchange.withdraw(reason="mistake", idempotency_key=world.key(), by=BY),
    )


@pytest.mark.parametrize("state", ["settled", "disputed", "withdrawn", "expired"])
def test_withdrawing_is_only_for_awaiting_exchanges(world, state):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    if state == "settled":
        world.confirm(exchange, receiver)
    elif state == "disputed":
        world.dispute(exchange, receiver)
    elif state == "withdrawn":
        exchange.withdraw(reason="mistake", idempotency_key=world.key(), by=BY)
    else:
        exchange.expire(now=EXPIRES + SECOND, by=BY)
    assert_refused(
        world,
        f"exchange-{state}",
        lambda: exchange.withdraw(reason="mistake", idempotency_key=world.key(), by=BY),
    )


@pytest.mark.parametrize("reason", ["", "  \n"])
def test_withdrawing_needs_a_reason(world, reason):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    assert_refused(
        world,
        "reason-required",
        lambda: exchange.withdraw(reason=reason, idempotency_key=world.key(), by=BY),
    )


@pytest.mark.parametrize("now", [WHEN, EXPIRES - SECOND, EXPIRES])
def test_an_exchange_does_not_expire_before_its_deadline(world, now):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    assert_refused(world, "not-yet-expired", lambda: exchange.expire(now=now, by=BY))


def test_an_unconfirmed_exchange_expires_after_its_deadline(world):
    provider, b, c = world.member("p"), world.member("b"), world.member("c")
    exchange = world.record((provider, b, 30), (provider, c, 30))
    world.confirm(exchange, b)
    world.flush()
    exchange.expire(now=EXPIRES + SECOND, by=BY)
    assert exchange.status is ExchangeStatus.EXPIRED
    assert names(exchange) == ["ExchangeExpired"]
    assert (provider.balance, b.balance, c.balance) == (0, 0, 0)
    assert_refused(world, "exchange-expired", lambda: world.confirm(exchange, c))
    assert_refused(
        world, "exchange-expired", lambda: exchange.expire(now=EXPIRES + 2 * SECOND, by=BY)
    )


@pytest.mark.parametrize("state", ["settled", "disputed", "withdrawn"])
def test_only_awaiting_exchanges_expire(world, state):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    if state == "settled":
        world.confirm(exchange, receiver)
    elif state == "disputed":
        world.dispute(exchange, receiver)
    else:
        exchange.withdraw(reason="mistake", idempotency_key=world.key(), by=BY)
    assert_refused(world, f"exchange-{state}", lambda: exchange.expire(now=EXPIRES + SECOND, by=BY))


# --- idempotency ---------------------------------------------------------------------------------


def test_a_retry_is_recognised_by_its_key_and_command(world):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30), key="rec")
    assert exchange.is_retry("rec", "record") is True
    assert exchange.is_retry("new", "confirm") is False
    world.confirm(exchange, receiver, key="conf")
    assert exchange.is_retry("conf", "confirm") is True
    world.dispute(exchange, receiver, key="disp")
    assert exchange.is_retry("disp", "dispute") is True
    world.resolve(exchange, Outcome.UPHOLD, key="res")
    assert exchange.is_retry("res", "resolve") is True
    assert exchange.keys == {
        "rec": "record",
        "conf": "confirm",
        "disp": "dispute",
        "res": "resolve",
    }


@pytest.mark.parametrize(
    ("key", "command"),
    [("rec", "confirm"), ("rec", "withdraw"), ("conf", "dispute"), ("conf", "record")],
)
def test_a_key_reused_for_another_command_is_refused(world, key, command):
    provider, b, c = world.member("p"), world.member("b"), world.member("c")
    exchange = world.record((provider, b, 30), (provider, c, 30), key="rec")
    world.confirm(exchange, b, key="conf")
    assert_refused(world, "idempotency-key-reused", lambda: exchange.is_retry(key, command))


def test_a_withdrawal_key_is_remembered(world):
    provider, receiver = world.member("p"), world.member("r")
    exchange = world.record((provider, receiver, 30))
    exchange.withdraw(reason="mistake", idempotency_key="w", by=BY)
    assert exchange.is_retry("w", "withdraw") is True
    assert_refused(world, "idempotency-key-reused", lambda: exchange.is_retry("w", "confirm"))


# --- the pool ------------------------------------------------------------------------------------


def do_donate(world, donor, minutes, key=None):
    return world.keep(
        donate(
            idempotency_key=key or world.key(),
            donor=donor,
            pool=world.pool,
            minutes=minutes,
            memo="for the elders",
            occurred_at=WHEN,
            by=BY,
        )
    )


def do_grant(world, recipient, minutes, reason="lives alone, needs meals"):
    return world.keep(
        grant(
            idempotency_key=world.key(),
            pool=world.pool,
            recipient=recipient,
            minutes=minutes,
            reason=reason,
            occurred_at=WHEN,
            by=BY,
        )
    )


def test_a_donation_moves_earned_minutes_to_the_pool(world):
    donor = world.member("donor", balance=100)
    transfer = do_donate(world, donor, 40, key="don-1")
    assert transfer.id == transfer_id_for("don-1")
    assert transfer.kind is TransferKind.DONATION
    assert transfer.legs == (Leg(donor.id, -40), Leg(world.pool.id, 40))
    assert transfer.memo == "for the elders"
    assert (donor.balance, world.pool.balance) == (60, 40)
    do_donate(world, donor, 60)
    assert (donor.balance, world.pool.balance) == (0, 100)


@pytest.mark.parametrize(("balance", "minutes"), [(100, 101), (0, 1), (-200, 10)])
def test_a_donation_cannot_exceed_what_was_earned(world, balance, minutes):
    donor = world.member("donor", balance=balance)
    assert_refused(world, "donation-over-balance", lambda: do_donate(world, donor, minutes))
    assert (donor.balance, world.pool.balance) == (balance, 0)


@pytest.mark.parametrize("kind", [AccountKind.COMMUNITY, AccountKind.POOL])
def test_only_members_donate(world, kind):
    system = world.accounts[system_account_id(kind)]
    assert_refused(world, "not-a-member-account", lambda: do_donate(world, system, 10))


@pytest.mark.parametrize("minutes", [0, -10, 1.5, True])
def test_donated_minutes_are_whole_numbers_above_zero(world, minutes):
    donor = world.member("donor", balance=100)
    assert_refused(world, "invalid-minutes", lambda: do_donate(world, donor, minutes))


def test_a_grant_moves_pool_minutes_to_a_resident(world):
    do_donate(world, world.member("donor", balance=100), 100)
    elder = world.member("elder")
    transfer = do_grant(world, elder, 60)
    assert transfer.kind is TransferKind.GRANT
    assert transfer.legs == (Leg(world.pool.id, -60), Leg(elder.id, 60))
    assert transfer.memo == "lives alone, needs meals"
    assert (world.pool.balance, elder.balance) == (40, 60)
    do_grant(world, elder, 40)  # exactly what is left
    assert (world.pool.balance, elder.balance) == (0, 100)


def test_a_grant_cannot_exceed_the_pool(world):
    do_donate(world, world.member("donor", balance=100), 50)
    elder = world.member("elder")
    error = assert_refused(world, "pool-insufficient", lambda: do_grant(world, elder, 51))
    assert "50" in error.message
    assert (world.pool.balance, elder.balance) == (50, 0)


def test_an_empty_pool_grants_nothing(world):
    elder = world.member("elder")
    assert_refused(world, "pool-insufficient", lambda: do_grant(world, elder, 1))


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_grant_needs_a_reason(world, reason):
    do_donate(world, world.member("donor", balance=100), 50)
    elder = world.member("elder")
    assert_refused(world, "reason-required", lambda: do_grant(world, elder, 10, reason=reason))


@pytest.mark.parametrize("minutes", [0, -10, 2.5, False])
def test_granted_minutes_are_whole_numbers_above_zero(world, minutes):
    do_donate(world, world.member("donor", balance=100), 50)
    elder = world.member("elder")
    assert_refused(world, "invalid-minutes", lambda: do_grant(world, elder, minutes))


def test_only_members_receive_grants(world):
    do_donate(world, world.member("donor", balance=100), 50)
    assert_refused(world, "not-a-member-account", lambda: do_grant(world, world.community, 10))


def test_a_grant_respects_the_recipient_cap_and_closure(world):
    do_donate(world, world.member("donor", balance=100), 50)
    capped = world.member("capped", limits=Limits(floor=0, cap=20), balance=15)
    assert_refused(world, "above-cap", lambda: do_grant(world, capped, 10))
    closed = world.member("closed")
    closed.close(reason="moved away", by=BY)
    assert_refused(world, "account-closed", lambda: do_grant(world, closed, 10))


# --- listings and categories ---------------------------------------------------------------------


@pytest.fixture
def categories():
    categories = Categories(BY)
    for code, name_zh, name_en in STARTING_CATEGORIES:
        categories.add(code, name_zh, name_en, BY)
    categories.retire("haircut", reason="no barber this year", by=BY)
    return categories


def listing(world, categories, **fields):
    values = {
        "idempotency_key": world.key(),
        "owner": OWNER,
        "kind": ListingKind.OFFER,
        "category": "repairs",
        "title": "  I fix rice cookers ",
        "description": "small appliances only",
        "building": " 12 ",
        "place": "the station",
        "availability": "weekday mornings 9:00-11:30",
    }
    values.update(fields)
    posted = post_listing(categories=categories, by=BY, **values)
    world.others.append(posted)
    return posted


def test_a_listing_is_posted_open(world, categories):
    posted = listing(world, categories, idempotency_key="list-1")
    assert posted.id == listing_id_for("list-1")
    assert posted.kind is ListingKind.OFFER
    assert posted.category == "repairs"
    assert posted.title == "I fix rice cookers"
    assert posted.is_open
    [event] = posted.collect_events()
    assert type(event).__name__ == "ListingPosted"
    assert event.building == "12"


def test_a_listing_needs_a_known_category(world, categories):
    world.others.append(categories)
    assert_refused(
        world, "unknown-category", lambda: listing(world, categories, category="gardening")
    )


def test_a_listing_cannot_use_a_retired_category(world, categories):
    world.others.append(categories)
    assert_refused(
        world, "category-retired", lambda: listing(world, categories, category="haircut")
    )


@pytest.mark.parametrize("title", ["", "   "])
def test_a_listing_needs_a_title(world, categories, title):
    assert_refused(world, "title-required", lambda: listing(world, categories, title=title))


@pytest.mark.parametrize("field", ["title", "description", "building", "place", "availability"])
def test_a_listing_carries_no_contact_details(world, categories, field):
    assert_refused(
        world,
        "contact-details-in-text",
        lambda: listing(world, categories, **{field: "call 139 1234 5678"}),
    )


def test_a_listing_closes_once(world, categories):
    posted = listing(world, categories)
    posted.collect_events()
    posted.close(reason="found help", by=BY)
    assert not posted.is_open
    assert names(posted) == ["ListingClosed"]
    assert_refused(world, "listing-closed", lambda: posted.close(reason="again", by=BY))
    assert not posted.is_open


def test_the_starting_categories_are_valid_and_open(categories):
    for code, name_zh, name_en in STARTING_CATEGORIES:
        assert CATEGORY_CODE.fullmatch(code)
        assert categories.names[code] == (name_zh, name_en)
        if code != "haircut":
            categories.check_open(code)


def test_a_category_can_be_added_and_used(world, categories):
    categories.collect_events()
    categories.add("gardening", " 园艺 ", " Gardening ", BY)
    assert categories.names["gardening"] == ("园艺", "Gardening")
    assert names(categories) == ["CategoryAdded"]
    assert listing(world, categories, category="gardening").category == "gardening"


@pytest.mark.parametrize(
    "code", ["", "a", "A-b", "Repairs", "1st-aid", "-dash", "has space", "a_b", "a" * 33, "园艺"]
)
def test_a_category_code_is_short_lower_case_and_starts_with_a_letter(world, categories, code):
    world.others.append(categories)
    assert_refused(world, "invalid-category-code", lambda: categories.add(code, "名", "Name", BY))


def test_the_longest_and_shortest_category_codes_are_accepted(categories):
    categories.add("ab", "名", "Name", BY)
    categories.add("a" + "b-9" * 10 + "c", "名", "Name", BY)
    assert len("a" + "b-9" * 10 + "c") == 32


def test_a_category_code_with_a_trailing_newline_is_refused(world, categories):
    world.others.append(categories)
    assert_refused(
        world, "invalid-category-code", lambda: categories.add("gardening\n", "园艺", "Garden", BY)
    )


@pytest.mark.parametrize("code", ["repairs", "haircut"])
def test_a_category_code_is_added_once(world, categories, code):
    world.others.append(categories)
    assert_refused(world, "category-exists", lambda: categories.add(code, "名", "Name", BY))


@pytest.mark.parametrize(("name_zh", "name_en"), [("", "Gardening"), ("园艺", "  "), ("", "")])
def test_a_category_needs_both_names(world, categories, name_zh, name_en):
    world.others.append(categories)
    assert_refused(
        world,
        "category-name-required",
        lambda: categories.add("gardening", name_zh, name_en, BY),
    )


def test_retiring_a_category_follows_the_rules(world, categories):
    world.others.append(categories)
    assert_refused(
        world, "unknown-category", lambda: categories.retire("gardening", reason="x", by=BY)
    )
    assert_refused(
        world, "category-retired", lambda: categories.retire("haircut", reason="x", by=BY)
    )
    assert_refused(world, "reason-required", lambda: categories.retire("meals", reason=" ", by=BY))


@pytest.mark.parametrize(
    "text",
    ["13800138000", "138 0013 8000", "1380-013-8000", "0755 1234567", "110101199003074321"],
)
def test_phone_and_id_numbers_are_contact_details(text):
    with pytest.raises(RuleViolated) as info:
        check_no_contact_details("fine", f"reach me at {text}")
    assert info.value.code == "contact-details-in-text"


@pytest.mark.parametrize(
    "text",
    [
        "room 1203",
        "123456",
        "9:00-11:30",
        "35 yuan, 2 bags",
        "12 3456",
        "help on 2024-05-01",
        "2024-05-01 09:30-11:00",
    ],
)
def test_short_numbers_are_not_contact_details(text):
    check_no_contact_details(text)
