"""A station in a busy state, built through the domain's own rules: at least one aggregate of
every kind, each with the values its commands give it (enums, value objects, dates, sets,
tuples, dicts keyed by ids), so a test can check each comes back from the store as it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypeVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain import (
    certificate,
    exchange,
    hours,
    identity,
    ledger,
    listing,
    meeting,
    motion,
    pool,
    station,
    volunteer,
)
from domain.council import DEFAULT_RULES, Choice, CouncilRules, Result, Threshold, VotingRules
from domain.exchange import ExchangeRules, Outcome, Pair
from domain.hours import Service
from domain.identity import CouncilTitle, Role
from domain.ledger import MEMBER_LIMITS, SYSTEM_LIMITS, AccountKind, Limits, TimeAccount
from domain.listing import ListingKind
from domain.provenance import Provenance
from domain.volunteer import Rating, VolunteerStatus
from tests.unit.ballot_box import MemoryBallotBox

BY = Provenance(actor="staff:test", channel="console", correlation_id="busy", causation_id="x")
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
TODAY = NOW.date()
CHOICES = (Choice.YES, Choice.YES, Choice.NO, Choice.ABSTAIN)
SYSTEM = (AccountKind.COMMUNITY, AccountKind.POOL)
A = TypeVar("A", bound=Aggregate)
RULES = ExchangeRules(max_minutes=240, confirm_within_hours=72, dispute_within_hours=48)


class World:
    def __init__(self, busy_postings: int) -> None:
        self.aggregates: list[Aggregate] = []
        self.community, self.pool = (
            self.keep(TimeAccount(kind.value, kind, SYSTEM_LIMITS[kind], BY)) for kind in SYSTEM
        )
        self.members = [
            self.keep(TimeAccount(f"member-{i}", AccountKind.MEMBER, MEMBER_LIMITS, BY))
            for i in range(4)
        ]
        self.categories = self.keep(listing.Categories(BY))  # listings() fills it
        self.busy(busy_postings)

    def keep(self, aggregate: A) -> A:
        self.aggregates.append(aggregate)
        return aggregate

    def accounts(self, *accounts: TimeAccount) -> dict:
        return {account.id: account for account in accounts}

    def transfer(self, source: TimeAccount, target: TimeAccount, minutes: int) -> ledger.Transfer:
        return self.keep(
            ledger.post_transfer(
                idempotency_key=uuid4().hex,
                kind=ledger.TransferKind.TRANSFER,
                legs=ledger.two_party_legs(source.id, target.id, minutes),
                memo="busy",
                occurred_at=NOW,
                corrects=None,
                accounts=self.accounts(source, target),
                by=BY,
            )
        )

    def busy(self, postings: int) -> None:
        """The first member's account takes ``postings`` entries: past a snapshot interval."""
        first = self.members[0]
        for i in range(postings // 2):
            self.transfer(self.community, first, 10 + i % 3)
            self.transfer(first, self.community, 5)


def ledger_moves(world: World) -> None:
    """Corrections, changed limits, the pool's donations and grants, a closed account."""
    _, b, c, d = world.members
    original = world.transfer(world.community, b, 300)
    world.keep(
        ledger.post_correction(
            original,
            idempotency_key="fix-1",
            minutes=40,
            reason="typo",
            occurred_at=NOW,
            accounts=world.accounts(world.community, b),
            by=BY,
        )
    )
    b.change_limits(Limits(floor=-120, cap=6_000), "reviewed", BY)
    world.keep(
        pool.donate(
            idempotency_key="donate",
            donor=b,
            pool=world.pool,
            minutes=60,
            memo="",
            occurred_at=NOW,
            by=BY,
        )
    )
    world.keep(
        pool.grant(
            idempotency_key="grant",
            pool=world.pool,
            recipient=d,
            minutes=30,
            reason="in need",
            occurred_at=NOW,
            by=BY,
        )
    )
    world.transfer(world.community, c, 25)
    world.keep(
        ledger.settle_for_closure(
            c, pool=world.pool, community=world.community, occurred_at=NOW, reason="moved", by=BY
        )
    )
    c.close("moved", BY)


def exchanges(world: World) -> None:
    """One exchange confirmed, disputed and settled again as adjusted; a group one half
    confirmed; the rulebook changed."""
    a, b, _, d = world.members
    rulebook = world.keep(exchange.ExchangeRulebook(240, 72, 48, BY))
    rulebook.change(ExchangeRules(180, 48, 24), "shorter", BY)
    settled = world.keep(record(world, "help-1", (Pair(a.id, b.id, 60),)))
    accounts = world.accounts(a, b)
    first = exchange.confirm_exchange(
        settled,
        receiver=b.id,
        on_behalf=False,
        idempotency_key="c-1",
        now=NOW,
        accounts=accounts,
        by=BY,
    )
    assert first is not None
    world.keep(first)
    hold = exchange.dispute_exchange(
        settled,
        party=b.id,
        reason="too long",
        idempotency_key="d-1",
        now=NOW,
        settlement=first,
        accounts=accounts,
        by=BY,
    )
    assert hold is not None
    world.keep(hold)
    resolved = exchange.resolve_dispute(
        settled,
        outcome=Outcome.ADJUST,
        minutes=(45,),
        reason="agreed",
        idempotency_key="r-1",
        now=NOW,
        accounts=accounts,
        by=BY,
    )
    assert resolved is not None
    world.keep(resolved)
    group = world.keep(record(world, "help-2", (Pair(a.id, b.id, 20), Pair(a.id, d.id, 30))))
    exchange.confirm_exchange(
        group,
        receiver=d.id,
        on_behalf=True,
        idempotency_key="c-2",
        now=NOW,
        accounts=world.accounts(a, b, d),
        by=BY,
    )


def record(world: World, key: str, pairs: tuple[Pair, ...]) -> exchange.Exchange:
    return exchange.record_help(
        idempotency_key=key,
        pairs=pairs,
        listing_id=None,
        description="Shopping",
        occurred_at=NOW,
        now=NOW,
        rules=RULES,
        accounts=world.accounts(*world.members),
        by=BY,
    )


def listings(world: World) -> None:
    categories = world.categories
    for code, name_zh, name_en in listing.STARTING_CATEGORIES[:3]:
        categories.add(code, name_zh, name_en, BY)
    categories.retire("repairs", "no one left to do them", BY)
    offer = world.keep(
        listing.post_listing(
            idempotency_key="offer",
            owner=world.members[0].id,
            kind=ListingKind.OFFER,
            category="errands",
            title="Groceries",
            description="",
            building="3",
            place="",
            availability="mornings",
            categories=categories,
            by=BY,
        )
    )
    offer.close("done", BY)


def people(world: World) -> None:
    chair = identity.Staff("chair", Role.COUNCIL, "hash", BY, title=CouncilTitle.CHAIR)
    coordinator = identity.Staff("coord", Role.COORDINATOR, "hash", BY)
    coordinator.change_password("hash-2", BY)
    coordinator.deactivate("left the station", BY)
    member = identity.Member("M0001", "sealed", "pin-hash", BY)
    member.give_consent("2024-06", BY)
    for minutes in range(3):
        member.reject_pin(NOW + timedelta(minutes=minutes), BY)
    kiosk = identity.Kiosk("digest", "Lobby", BY)
    kiosk.retire("broken", BY)
    access = identity.PersonalDataAccess(member.id, "certificate", BY)
    listed = identity.PersonalDataListView((member.id, uuid4()), "approval queue", BY)
    for aggregate in (chair, coordinator, member, kiosk, access, listed):
        world.keep(aggregate)


def stations(world: World) -> None:
    """A district's stations, and people and a kiosk that belong to them."""
    west = station.Place(district="西湖区", street="北山街道")
    lakeside = station.Station("xh-02", "湖畔社区", west, BY)
    lakeside.rename("湖畔社区工作站", station.Place("西湖区", "西溪街道"), "streets redrawn", BY)
    closing = station.Station("xh-03", "Old hall", west, BY)
    closing.close("merged into xh-02", BY)
    at_lakeside = station.Scope.of_station(lakeside.id)
    coordinator = identity.Staff("coord.xh", Role.COORDINATOR, "hash", BY, scope=at_lakeside)
    coordinator.change_scope(station.Scope.of_street("西湖区", "北山街道"), "covers the street", BY)
    member = identity.Member("M0002", "sealed", "pin-hash", BY, station=lakeside.id)
    member.move_home(station.DEFAULT_STATION, "moved house", BY)
    kiosk = identity.Kiosk("digest-2", "Lakeside lobby", BY, station=lakeside.id)
    for aggregate in (lakeside, closing, coordinator, member, kiosk):
        world.keep(aggregate)
    across_stations(world, lakeside.id)
    station_council(world, lakeside.id)


def across_stations(world: World, far: UUID) -> None:
    """Help between residents of two stations (通存通兑), and a listing posted at the other."""
    a, b, *_ = world.members
    world.keep(
        exchange.record_help(
            idempotency_key="help-across",
            pairs=(Pair(a.id, b.id, 30),),
            listing_id=None,
            description="Escort",
            occurred_at=NOW,
            now=NOW,
            rules=RULES,
            accounts=world.accounts(a, b),
            by=BY,
            homes={a.id: far, b.id: station.DEFAULT_STATION},
        )
    )
    world.keep(
        listing.post_listing(
            idempotency_key="offer-far",
            owner=a.id,
            kind=ListingKind.OFFER,
            category="errands",
            title="Groceries",
            description="",
            building="5",
            place="",
            availability="evenings",
            categories=world.categories,
            by=BY,
            station=far,
        )
    )


def station_council(world: World, at: UUID) -> None:
    """A second station's council: its own rules, a meeting and a motion on its agenda."""
    rules = world.keep(CouncilRules(DEFAULT_RULES, BY, station=at))
    rules.change(VotingRules(**{**vars(DEFAULT_RULES), "seconding_threshold": 1}), "small", BY)
    members = (uuid4(), uuid4())
    sitting = world.keep(
        meeting.call_meeting(
            idempotency_key="m-lakeside",
            title="湖畔议事会",
            starts_at=NOW,
            place="活动室",
            entitled=members,
            by=BY,
            station=at,
        )
    )
    proposed = world.keep(
        motion.submit_motion(
            idempotency_key="lakeside-lights",
            mover=members[0],
            title="路灯",
            text="修路灯",
            amends=None,
            reconsiders=None,
            rules=rules.rules,
            now=NOW,
            by=BY,
            station=at,
        )
    )
    proposed.support(members[1], NOW, BY)
    proposed.admit(BY)
    proposed.schedule(sitting.id, BY)
    sitting.add_to_agenda(proposed.id, BY)


def service(activity: str, hours_ago: int, minutes: int) -> Service:
    return Service(
        activity=activity,
        started_at=NOW - timedelta(hours=hours_ago),
        minutes=minutes,
        place="Hall",
        content="Reading",
        organiser="Station",
        responsible="coord",
        category="companionship",
        building="3",
        beneficiary=uuid4(),
    )


def volunteering(world: World) -> None:
    """A volunteer paused and back, evaluated, trained; their entries approved, amended down,
    flagged and rejected; a certificate of what stands."""
    account = world.members[3]
    helper = world.keep(
        volunteer.enrol(
            member_id=uuid4(),
            account_id=account.id,
            sealed_details="sealed",
            consent_version="2024-06",
            skills=("reading", "cooking"),
            categories=("companionship",),
            building="3",
            registered_on=TODAY - timedelta(days=30),
            by=BY,
        )
    )
    helper.change_status(VolunteerStatus.PAUSED, "holiday", BY)
    helper.change_status(VolunteerStatus.ACTIVE, "back", BY)
    helper.evaluate(Rating.GOOD, 4, TODAY, "kind", BY)
    world.keep(
        volunteer.hold_training(
            idempotency_key="training",
            name="First aid",
            content="CPR",
            minutes=90,
            organiser="Red Cross",
            held_on=TODAY,
            today=TODAY,
            attendees=(helper,),
            by=BY,
        )
    )
    entry = world.keep(
        hours.submit_hours(
            idempotency_key="h-1",
            volunteer=helper,
            service=service("Reading", 5, 120),
            categories=world.categories,
            now=NOW,
            by=BY,
        )
    )
    credit = world.keep(
        hours.approve_hours(entry, account=account, community=world.community, by=BY)
    )
    corrections = hours.amend_hours(
        entry,
        volunteer=helper,
        service=service("Reading", 5, 90),
        categories=world.categories,
        reason="left early",
        requested_by="coord",
        now=NOW,
        credits={credit.id: credit},
        accounts=world.accounts(account, world.community),
        by=BY,
    )
    for correction in corrections:
        world.keep(correction)
    world.keep(credit)
    overlapping = world.keep(
        hours.submit_hours(
            idempotency_key="h-2",
            volunteer=helper,
            service=service("Cooking", 4, 60),
            categories=world.categories,
            now=NOW,
            by=BY,
        )
    )
    hours.reject_hours(overlapping, helper, reason="duplicate", by=BY)
    world.keep(
        certificate.issue_certificate(
            volunteer_id=helper.id,
            period_from=TODAY - timedelta(days=7),
            period_to=TODAY,
            entries=(certificate.CoveredEntry(entry.id, 90),),
            recording_body="Station",
            as_of=1234,
            today=TODAY,
            by=BY,
        )
    )


def councils(world: World) -> None:
    """A motion adopted on an open vote and being carried out, with an amendment; another
    under a secret vote still open; the rules changed; the meeting they were voted at."""
    members = tuple(uuid4() for _ in range(5))
    rules = world.keep(CouncilRules(DEFAULT_RULES, BY))
    secret = VotingRules(**{**vars(DEFAULT_RULES), "secret": True})
    rules.change(VotingRules(**{**vars(secret), "threshold": Threshold.TWO_THIRDS}), "new", BY)
    sitting = world.keep(
        meeting.call_meeting(
            idempotency_key="m-1",
            title="Spring",
            starts_at=NOW + timedelta(days=1),
            place="Hall",
            entitled=members,
            by=BY,
        )
    )
    sitting.record_attendance(members[:4], BY)
    adopted = seconded(world, "garden", members)
    amendment = seconded(world, "garden-fence", members, amends=adopted)
    amendment.withdraw(members[0], "merged", BY)
    sealed = seconded(world, "lights", members)
    for agendum, rules_in_force in ((adopted, DEFAULT_RULES), (sealed, secret)):
        agendum.admit(BY)
        agendum.schedule(sitting.id, BY)
        sitting.add_to_agenda(agendum.id, BY)
        agendum.open_vote(rules_in_force, sitting, 0, sitting.starts_at, BY)
    box = MemoryBallotBox()
    for voter, choice in zip(
        members[:4], (Choice.YES, Choice.YES, Choice.NO, Choice.ABSTAIN), strict=True
    ):
        adopted.cast(voter, choice, BY)
        sealed.cast(voter, choice, BY, box=box)
    assert adopted.close_vote(BY) is Result.ADOPTED
    adopted.assign(f"staff:{uuid4()}", TODAY + timedelta(days=60), BY)
    adopted.report_progress(40, "seeds bought", BY)
    adopted.add_milestone("fence", TODAY + timedelta(days=20), BY)
    adopted.add_milestone("beds", TODAY + timedelta(days=40), BY)
    adopted.reach_milestone("fence", BY)


def seconded(
    world: World, key: str, members: tuple, amends: motion.Motion | None = None
) -> motion.Motion:
    proposed = world.keep(
        motion.submit_motion(
            idempotency_key=key,
            mover=members[0],
            title=key,
            text="Let us",
            amends=amends,
            reconsiders=None,
            rules=DEFAULT_RULES,
            now=NOW,
            by=BY,
        )
    )
    for supporter in members[1:4]:
        proposed.support(supporter, NOW, BY)
    return proposed


def busy_world(busy_postings: int, *, with_stations: bool = True) -> list[Aggregate]:
    """``with_stations``: False for a world as it could be before stations existed."""
    world = World(busy_postings)
    for part in (ledger_moves, exchanges, listings, people, volunteering, councils):
        part(world)
    if with_stations:
        stations(world)
    return world.aggregates
