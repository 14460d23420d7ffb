"""Read models: idempotent consumers of the TIMEBANK stream that keep query tables current."""
