"""All configuration, read from the environment in one place."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
from argon2 import profiles

from domain.exchange import ExchangeRules
from domain.identity import MEMBER_NUMBER_LONGEST, MEMBER_NUMBER_SHORTEST
from domain.ledger import Limits

_STATION_DEFAULTS = (
    "member_floor",
    "member_cap",
    "max_exchange_minutes",
    "confirm_within_hours",
    "dispute_within_hours",
    "expiry_sweep_seconds",
    "timezone",
    "kiosk_idle_seconds",
    "stuck_seconds",
    "family_gift_yearly_minutes",
)


# How hard passwords and PINs are hashed (argon2-cffi's profiles). Production keeps the
# RFC 9106 default; the test suite, which registers thousands of residents, sets "CHEAPEST"
# (tests/conftest.py) — as Django's test settings swap in a fast hasher. Any hash verifies
# whatever profile made it, since its parameters travel inside it.
PASSWORD_HASHING = getattr(
    profiles, os.environ.get("TIMEBANK_PASSWORD_HASHING", ""), profiles.RFC_9106_LOW_MEMORY
)


class SettingsRefused(ValueError):
    """A setting from the environment Timebank cannot start with; says which and why."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    nats_url: str | None = None  # None: `timebank up` starts its own broker
    event_store: str = ""  # SQLite path or postgresql:// URL; default: a file in data_dir
    read_store: str = ""
    key_store: str = ""  # where per-person keys live, apart from events and read models
    secret: str = ""  # signs sign-in tokens; default: a random one kept in data_dir
    stream_replicas: int = 1
    # The stream's bound in megabytes (0: none). It is a window on the event store: whoever
    # needs an event it dropped reads the store. 256 MB holds about 450,000 events.
    stream_max_mb: float = 256.0
    read_wait_seconds: float = 2.0
    pages: bool = True  # off: an API-only replica (no pages, no cookie sessions, no CSRF)
    # No other process writes the event store: so only `timebank up`, which runs the whole
    # command side, never an API replica. Not read from the environment for that reason.
    sole_writer: bool = False
    sign_ins_per_minute: int = 30  # per client address, on the sign-in endpoints
    # Defaults a new station starts with; once recorded, changed only by events (who, why).
    member_floor: int = -600
    member_cap: int = 90_000
    max_exchange_minutes: int = 480
    confirm_within_hours: int = 7 * 24
    dispute_within_hours: int = 14 * 24
    expiry_sweep_seconds: float = 60.0  # how often unconfirmed exchanges are checked
    timezone: str = "Asia/Shanghai"  # the station's: dates people write, months reports count
    # A kiosk page signs its resident out after this long untouched, counting down visibly.
    kiosk_idle_seconds: int = 90
    # The station's name as residents know it: the organiser a volunteer's first hours at the
    # kiosk start with (later ones start with what they gave last time).
    station_name: str = ""
    # Where the first station stands: its district (区) and street (街道). A deployment for a
    # street or district opens its other stations through the API.
    district: str = "default"
    street: str = "default"
    # The station's current privacy notice: its version, which registration records as the one
    # a new resident agreed to unless told otherwise, and a UTF-8 text file with its wording,
    # shown at /privacy-notice for the resident to read.
    privacy_notice_version: str = ""
    privacy_notice_file: str = ""
    # Where the public reaches this service (e.g. https://timebank.example.org): printed
    # certificates send readers there to verify them, whatever host the printing page was
    # opened on (an internal address would be no use on paper).
    public_url: str = ""
    # What one member may give their family in a calendar year (the station's), in minutes:
    # 100 hours, as much as a weekly two-hour volunteer earns.
    family_gift_yearly_minutes: int = 6_000
    # /health calls the relay or a read model stuck when events have waited this long for it
    # while its position stood still.
    stuck_seconds: float = 30.0
    # How many digits the member numbers handed out from now on have; existing ones keep
    # theirs. Random numbers fill up long before every one is taken: README, Configuration.
    member_number_digits: int = MEMBER_NUMBER_SHORTEST

    def __post_init__(self) -> None:
        if not MEMBER_NUMBER_SHORTEST <= self.member_number_digits <= MEMBER_NUMBER_LONGEST:
            raise ValueError(
                f"TIMEBANK_MEMBER_NUMBER_DIGITS must be {MEMBER_NUMBER_SHORTEST} to "
                f"{MEMBER_NUMBER_LONGEST}, not {self.member_number_digits}"
            )

    @property
    def event_store_url(self) -> str:
        return self.event_store or str(self.data_dir / "events.sqlite")

    @property
    def read_store_url(self) -> str:
        return self.read_store or str(self.data_dir / "read.sqlite")

    @property
    def key_store_url(self) -> str:
        return self.key_store or str(self.data_dir / "keys.sqlite")

    def token_secret(self) -> str:
        """The configured secret, or one made once and kept (owner-only) in the data dir, so
        every part started on this machine signs and checks tokens alike."""
        if self.secret:
            return self.secret
        path = self.data_dir / "token-secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip()

    @property
    def member_limits(self) -> Limits:
        return Limits(floor=self.member_floor, cap=self.member_cap)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def exchange_rules(self) -> ExchangeRules:
        return ExchangeRules(
            self.max_exchange_minutes, self.confirm_within_hours, self.dispute_within_hours
        )

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "data_dir": Path(env.get("TIMEBANK_DATA", ".timebank")),
            "host": env.get("TIMEBANK_HOST", "127.0.0.1"),
            "port": int(env.get("TIMEBANK_PORT", "8000")),
            "nats_url": env.get("TIMEBANK_NATS_URL") or None,
            "event_store": env.get("TIMEBANK_EVENT_STORE", ""),
            "read_store": env.get("TIMEBANK_READ_STORE", ""),
            "key_store": env.get("TIMEBANK_KEY_STORE", ""),
            "secret": env.get("TIMEBANK_SECRET", ""),
            "stream_replicas": int(env.get("TIMEBANK_STREAM_REPLICAS", "1")),
            "stream_max_mb": float(env.get("TIMEBANK_STREAM_MAX_MB", "256")),
            "pages": env.get("TIMEBANK_PAGES", "on").lower() not in ("off", "0", "false", "no"),
            "station_name": env.get("TIMEBANK_STATION_NAME", ""),
            "district": env.get("TIMEBANK_DISTRICT", "default"),
            "street": env.get("TIMEBANK_STREET", "default"),
            "privacy_notice_version": env.get("TIMEBANK_PRIVACY_NOTICE_VERSION", ""),
            "privacy_notice_file": env.get("TIMEBANK_PRIVACY_NOTICE_FILE", ""),
            "public_url": env.get("TIMEBANK_PUBLIC_URL", ""),
            "member_number_digits": env.get("TIMEBANK_MEMBER_NUMBER_DIGITS", "6"),
        }
        values.update(
            {
                name: env[f"TIMEBANK_{name.upper()}"]
                for name in _STATION_DEFAULTS
                if f"TIMEBANK_{name.upper()}" in env
            }
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return msgspec.convert(values, cls, strict=False)
        except msgspec.ValidationError as refused:
            raise SettingsRefused(str(refused)) from None
