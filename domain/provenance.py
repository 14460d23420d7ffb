"""Who caused an event, through which channel, and as part of which request.

Every event carries one: coordinators must be able to show, for any hour, who recorded it and
through which kiosk or console (DOMAIN-NOTES, ledger item 7).
"""

from dataclasses import dataclass

SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class Provenance:
    actor: str
    channel: str
    correlation_id: str
    causation_id: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "actor": self.actor,
            "channel": self.channel,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
        }
