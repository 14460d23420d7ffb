"""The event store and what keeps it: the eventsourcing Application (`eventstore`), staging
and group commit, the stores' persistence, typed JSON, and the vault with its key store."""
