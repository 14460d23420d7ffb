"""The composition root: builds the command side, the read store and the background workers
from Settings, for `timebank up` and for each separately run part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from domain.provenance import SYSTEM_ACTOR, Provenance
from domain.station import DEFAULT_STATION_CODE, Place
from projections.catalog import READ_MODELS
from projections.readstore import ReadStore, open_read_store
from services.bus import Bus, Handler
from services.certificates import handlers as certificates
from services.composition.config import Settings
from services.council import handlers as council
from services.exchange import handlers as exchange
from services.family import handlers as family
from services.hours import handlers as hours
from services.identity import handlers as identity
from services.ledger import handlers as ledger
from services.listings import handlers as listings
from services.messaging.broker import EmbeddedBroker
from services.pool import handlers as pool
from services.stations import handlers as stations
from services.store.eventstore import Timebank
from services.store.groupcommit import GroupCommit
from services.store.vault import Vault
from services.volunteers import handlers as volunteers
from services.web.reads import Reads
from services.web.revocation import Revocations

# Every command's handler, by the command's type.
HANDLERS: dict[type, Handler] = {
    **ledger.HANDLERS,
    **exchange.HANDLERS,
    **volunteers.HANDLERS,
    **certificates.HANDLERS,
    **listings.HANDLERS,
    **pool.HANDLERS,
    **identity.HANDLERS,
    **council.HANDLERS,
    **hours.HANDLERS,
    **stations.HANDLERS,
    **family.HANDLERS,
}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Backbone:
    """What the API and the workers share in one process."""

    settings: Settings
    timebank: Timebank
    reads: ReadStore
    vault: Vault
    nats_url: str
    commits: GroupCommit
    revocations: Revocations
    clock: Callable[[], datetime] = field(default=utc_now)
    # The broker `timebank up` runs itself (its workers watch it, /health shows it); None
    # when the broker is configured.
    broker: EmbeddedBroker | None = None
    bus: Bus = field(init=False)
    read_side: Reads = field(init=False)

    def __post_init__(self) -> None:
        self.bus = Bus(self, HANDLERS)
        self.read_side = Reads(
            self.reads, self.timebank.last_position, self.settings.read_wait_seconds
        )

    def local_now(self) -> datetime:
        """The clock (UTC) read where the station is: the hour and day people write."""
        return self.clock().astimezone(self.settings.zone)

    def today(self) -> date:
        """The station's date: a day (a due date, a certificate's period, a registration) is
        the day where the station is."""
        return self.local_now().date()

    def close(self) -> None:
        self.timebank.close()
        self.reads.datastore.close()
        self.vault.close()


def start_record(timebank: Timebank, settings: Settings) -> None:
    """What every record starts with, recorded once: the system accounts, the rules, the
    categories, the council and the first station."""
    startup = Provenance(actor=SYSTEM_ACTOR, channel="system", correlation_id="startup")
    ledger.open_system_accounts(timebank, startup)
    exchange.start_rulebook(timebank, settings.exchange_rules, startup)
    listings.start_categories(timebank, startup)
    council.start_council(timebank, startup)
    first = Place(district=settings.district, street=settings.street)
    stations.open_first_station(
        timebank, settings.station_name or DEFAULT_STATION_CODE, first, startup
    )


def build_backbone(
    settings: Settings, nats_url: str, broker: EmbeddedBroker | None = None
) -> Backbone:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    timebank = Timebank(settings.event_store_url, sole_writer=settings.sole_writer)
    start_record(timebank, settings)
    reads = open_read_store(settings.read_store_url, list(READ_MODELS.values()))
    vault = Vault(settings.key_store_url)
    return Backbone(
        settings=settings,
        timebank=timebank,
        reads=reads,
        vault=vault,
        nats_url=nats_url,
        commits=GroupCommit(timebank),
        revocations=Revocations(timebank),
        broker=broker,
    )
