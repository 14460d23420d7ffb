"""A district's record built straight through the domain: stations, residents with accounts
at their home stations, and months of exchanges, volunteer hours and motions.

Nothing goes through HTTP or the command bus: the domain's own functions decide each change
(``record_help``, ``confirm_exchange``, ``submit_hours``, ``approve_hours``,
``submit_motion``) and the changed aggregates are saved thousands at a time with
``Timebank.save``, which is what makes a year of a district buildable in minutes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from backbone import BY, say
from eventsourcing.domain import Aggregate, DomainEvent

from domain.exchange import Pair, confirm_exchange, record_help
from domain.hours import Service, approve_hours, submit_hours
from domain.identity import Member
from domain.ledger import AccountKind, Limits, TimeAccount, system_account_id
from domain.listing import STARTING_CATEGORIES, Categories, categories_id
from domain.motion import submit_motion
from domain.rules import RuleViolated
from domain.station import Place, Station
from domain.volunteer import Volunteer, enrol
from services.council.handlers import rules_in_force as voting_rules
from services.exchange.handlers import rules_in_force as exchange_rules
from services.store.eventstore import Timebank
from services.store.vault import PersonalDetails, Vault

DISTRICT = "示范区"
STATIONS_A_STREET = 15  # a street office (街道) looks after 10-20 communities
DAYS_A_MONTH = 30
NOTICE = "district-benchmark-1"
CATEGORIES = tuple(code for code, _, _ in STARTING_CATEGORIES)


@dataclass(frozen=True)
class Rates:
    """A busy district's day at each station (stated in the README beside the figures)."""

    exchanges: float = 6.0  # help exchanges recorded and confirmed, per station per day
    cross_station: float = 0.15  # share of exchanges between residents of two stations (通存通兑)
    hour_entries: float = 10.0  # volunteer hour entries, per station per day
    unapproved: float = 0.05  # share of entries left in the approval queue
    motions: float = 2.0  # council motions, per station per month
    active: float = 0.20  # share of residents who exchange help at all
    volunteers: float = 0.05  # share of residents registered as volunteers


@dataclass
class StationPeople:
    station: Station
    active: list[TimeAccount] = field(default_factory=list)  # their member id is the owner
    volunteers: list[tuple[Volunteer, TimeAccount]] = field(default_factory=list)


@dataclass
class Batch:
    """Events of the commands since the last save, in the order the commands made them (as a
    command's own save orders them: a transfer before its entries), saved together."""

    app: Timebank
    size: int
    pending: list[DomainEvent] = field(default_factory=list)
    commands: int = 0
    events: int = 0

    def add(self, *aggregates: Aggregate | None) -> None:
        for aggregate in aggregates:
            if aggregate is not None:
                self.pending.extend(aggregate.collect_events())
        self.commands += 1
        if len(self.pending) >= self.size:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.events += len(self.app.save(*self.pending))
            self.pending.clear()


def sealed_template(vault: Vault) -> str:
    """Sealed details of a realistic size, sealed once: every simulated resident carries a
    copy, so the store holds what a real registration writes without a million keys."""
    details = PersonalDetails(
        display_name="张某某", building="12幢3单元", household="502", phone="13800000000"
    )
    return vault.seal(UUID(int=0), details)


class District:
    """Builds the district's record, keeping in memory only what its activity changes: the
    active residents' accounts, the volunteers, the community account."""

    def __init__(self, app: Timebank, limits: Limits, rates: Rates, *, batch: int) -> None:
        self.app = app
        self.limits = limits
        self.rates = rates
        self.batch = Batch(app, batch)
        self.rng = random.Random(17)
        self.people: list[StationPeople] = []
        self.community = app.repository.get(system_account_id(AccountKind.COMMUNITY))
        self.categories = app.repository.get(categories_id())
        assert isinstance(self.categories, Categories)
        self.exchange_rules = exchange_rules(app)
        self.voting_rules = voting_rules(app)
        self.serial = 0
        self.refused = 0
        self.registration_events = 0

    def _count(self, rate: float) -> int:
        """A whole number of happenings averaging ``rate``."""
        whole = int(rate)
        return whole + (1 if self.rng.random() < rate - whole else 0)

    def _key(self, kind: str) -> str:
        self.serial += 1
        return f"district-{kind}-{self.serial}"

    # ------------------------------------------------------------------------- people

    def open_stations(self, count: int) -> None:
        for index in range(count):
            street = f"第{index // STATIONS_A_STREET + 1}街道"
            station = Station(
                code=f"d-{index:03d}",
                name=f"第{index + 1}社区",
                place=Place(district=DISTRICT, street=street),
                by=BY,
            )
            self.people.append(StationPeople(station))
            self.batch.add(station)
        self.batch.flush()

    def register_residents(self, residents: int, sealed: str) -> None:
        for number, people in enumerate(self.people):
            for index in range(residents):
                self._register(people, number, index, residents, sealed)
            if number % 10 == 9:
                say(f"    residents of {number + 1} stations registered")
        self.batch.flush()

    def _register(
        self, people: StationPeople, number: int, index: int, residents: int, sealed: str
    ) -> None:
        member = Member(
            # 8 digits (TIMEBANK_MEMBER_NUMBER_DIGITS=8), never starting with 0: signable in.
            member_number=f"{10_000_000 + number * 100_000 + index}",
            sealed_details=sealed,
            pin_hash="",
            by=BY,
            station=people.station.id,
        )
        member.give_consent(NOTICE, BY)
        account = TimeAccount(
            owner=str(member.id), kind=AccountKind.MEMBER, limits=self.limits, by=BY
        )
        volunteer = None
        if index < round(residents * self.rates.volunteers):
            volunteer = enrol(
                member_id=member.id,
                account_id=account.id,
                sealed_details=sealed,
                consent_version=NOTICE,
                skills=("陪伴",),
                categories=(CATEGORIES[index % len(CATEGORIES)],),
                building="1幢",
                registered_on=datetime.now(UTC).date(),
                by=BY,
            )
            people.volunteers.append((volunteer, account))
        if index < max(2, round(residents * self.rates.active)):
            people.active.append(account)
        self.batch.add(member, account, volunteer)

    # ----------------------------------------------------------------------- activity

    def simulate(self, months: int) -> None:
        """``months`` of 30 days, ending yesterday, each station at the stated rates."""
        days = months * DAYS_A_MONTH
        start = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0)
        start -= timedelta(days=days + 1)  # 09:00 in Shanghai, the day's first service
        for day in range(days):
            morning = start + timedelta(days=day)
            if day % DAYS_A_MONTH == 0:
                for people in self.people:
                    for _ in range(self._count(self.rates.motions)):
                        self.motion(people, morning)
            for people in self.people:
                self._day_at(people, morning)
            if day % DAYS_A_MONTH == DAYS_A_MONTH - 1:
                say(f"    month {day // DAYS_A_MONTH + 1} of {months} simulated")
        self.batch.flush()

    def _day_at(self, people: StationPeople, morning: datetime) -> None:
        for _ in range(self._count(self.rates.exchanges)):
            self.exchange(people, morning + timedelta(minutes=self.rng.randrange(600)))
        if people.volunteers:
            for _ in range(self._count(self.rates.hour_entries)):
                self.hours(people, morning + timedelta(minutes=self.rng.randrange(600)))

    def _receiver(
        self, people: StationPeople, provider: TimeAccount
    ) -> tuple[TimeAccount, StationPeople]:
        home = people
        if len(self.people) > 1 and self.rng.random() < self.rates.cross_station:
            home = self.rng.choice([other for other in self.people if other is not people])
        receiver = self.rng.choice(home.active)
        while receiver is provider:
            receiver = self.rng.choice(home.active)
        return receiver, home

    def exchange(self, people: StationPeople, at: datetime) -> None:
        """Help recorded by the station and confirmed for the receiver an hour later."""
        provider = self.rng.choice(people.active)
        receiver, home = self._receiver(people, provider)
        minutes = self.rng.choice((30, 60, 60, 90, 120))
        accounts = {provider.id: provider, receiver.id: receiver}
        homes = {provider.id: people.station.id, receiver.id: home.station.id}
        exchange = record_help(
            idempotency_key=self._key("help"),
            pairs=(Pair(provider.id, receiver.id, minutes),),
            listing_id=None,
            description="陪同就医",
            occurred_at=at,
            now=at,
            rules=self.exchange_rules,
            accounts=accounts,
            by=BY,
            homes=homes,
        )
        settlement = None
        try:
            settlement = confirm_exchange(
                exchange,
                receiver=receiver.id,
                on_behalf=True,
                idempotency_key=self._key("confirm"),
                now=at + timedelta(hours=1),
                accounts=accounts,
                by=BY,
            )
        except RuleViolated:  # the receiver at their floor: the help waits, unconfirmed
            self.refused += 1
        self.batch.add(exchange, settlement, provider, receiver)

    def hours(self, people: StationPeople, at: datetime) -> None:
        """Service entered by a volunteer and approved by the station the same day."""
        volunteer, account = self.rng.choice(people.volunteers)
        service = Service(
            activity="助老服务",
            started_at=at,
            minutes=self.rng.choice((60, 90, 120, 180)),
            place="社区活动室",
            content="上门探访",
            organiser=people.station.code,
            responsible="coordinator",
            category=volunteer.categories[0],
            building="1幢",
        )
        entry = submit_hours(
            idempotency_key=self._key("hours"),
            volunteer=volunteer,
            service=service,
            categories=self.categories,
            now=at + timedelta(hours=4),
            by=BY,
            station=people.station.id,
        )
        credit = None
        if self.rng.random() >= self.rates.unapproved:
            credit = approve_hours(entry, account=account, community=self.community, by=BY)
        self.batch.add(entry, volunteer, credit, account, self.community)

    def motion(self, people: StationPeople, at: datetime) -> None:
        """A resident's motion, entered from paper, and the support it gathers."""
        mover, *others = self.rng.sample(people.active, min(len(people.active), 6))
        motion = submit_motion(
            idempotency_key=self._key("motion"),
            mover=UUID(mover.owner),
            title="增设助老服务点",
            text="建议在社区活动室增设每周两次的助老服务。",
            amends=None,
            reconsiders=None,
            rules=self.voting_rules,
            now=at,
            by=BY,
            station=people.station.id,
        )
        for supporter in others[: motion.seconding_threshold]:
            motion.support(UUID(supporter.owner), at, BY)
        self.batch.add(motion)


def build(
    app: Timebank, vault: Vault, limits: Limits, rates: Rates, scale: tuple[int, int, int]
) -> District:
    """Stations, their residents, then ``months`` of activity; answers the district built."""
    stations, residents, months = scale
    district = District(app, limits, rates, batch=5000)
    district.open_stations(stations)
    district.register_residents(residents, sealed_template(vault))
    district.registration_events = district.batch.events
    district.simulate(months)
    return district
