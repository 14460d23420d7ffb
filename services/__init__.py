"""The running parts: command side, outbox relay, API, CLI and the embedded broker."""
