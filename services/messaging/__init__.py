"""The published language and its transport: the event envelope, the outbox relay, and the
NATS JetStream broker (embedded or configured)."""
