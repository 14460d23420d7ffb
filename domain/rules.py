"""The one way a domain rule says no."""


class RuleViolated(Exception):
    """A command broke a business rule; nothing was recorded.

    ``code`` is stable and machine-readable (clients branch on it); ``message`` is for people.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class NotFound(Exception):
    """The command names something that does not exist."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class KeyReused(RuleViolated):
    """A client's idempotency key came back with a different request than it first named."""

    def __init__(self) -> None:
        super().__init__(
            "idempotency-key-reused",
            "This idempotency key was already used for a different request; use a new key.",
        )
