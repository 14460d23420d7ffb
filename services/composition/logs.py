"""structlog everywhere: JSON lines on stderr when not on a terminal, pretty on one. Positions are
logged; personal data never is (request bodies, headers and cookies stay out of request logs).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from litestar.logging.config import StructLoggingConfig, default_structlog_processors
from litestar.plugins.structlog import StructlogConfig, StructlogPlugin
from structlog.typing import EventDict

# Keys that may carry a person's data; their values never reach a log line (PIPL).
PERSONAL_KEYS = frozenset(
    {
        "display_name",
        "building",
        "household",
        "phone",
        "id_number",
        "birth_date",
        "pin",
        "password",
        "details",
        "sealed_details",
        "token",
        "authorization",
        "cookie",
    }
)
REDACTED = "[redacted]"


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if str(key).lower() in PERSONAL_KEYS else _redacted(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    return value


def redact_personal_data(_: Any, __: str, event_dict: EventDict) -> EventDict:
    """A structlog processor: blanks personal values wherever they sit in a log event."""
    return _redacted(event_dict)  # type: ignore[no-any-return]


class _Stderr:
    """``sys.stderr`` as it is at each write. Loggers are cached on first use, so one given the
    stream of that moment would keep writing there after stderr is replaced (a test capturing
    output), and fail once that stream is closed."""

    def __init__(self, *, binary: bool) -> None:
        self._binary = binary

    def write(self, data: Any) -> int:
        return (sys.stderr.buffer if self._binary else sys.stderr).write(data)

    def flush(self) -> None:
        sys.stderr.flush()


def _logging_config() -> StructLoggingConfig:
    as_json = not sys.stderr.isatty()
    # Redact after context is merged in and just before rendering (the last processor).
    processors = default_structlog_processors(as_json=as_json)
    factory = (
        structlog.BytesLoggerFactory(_Stderr(binary=True))  # type: ignore[arg-type]
        if as_json
        else structlog.WriteLoggerFactory(_Stderr(binary=False))  # type: ignore[arg-type]
    )
    return StructLoggingConfig(
        processors=[*processors[:-1], redact_personal_data, processors[-1]],
        logger_factory=factory,
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        log_exceptions="never",
    )


def structlog_plugin() -> StructlogPlugin:
    # Requests are logged by the API's RequestContext: one line each, with the correlation id,
    # where Litestar's logging middleware writes two without it, at twice the cost.
    return StructlogPlugin(
        StructlogConfig(structlog_logging_config=_logging_config(), enable_middleware_logging=False)
    )


def configure_logging() -> None:
    """For processes and moments without the API (relay, projections, broker start)."""
    _logging_config().configure()
