"""structlog everywhere: JSON lines on stderr when not on a terminal, pretty on one. Positions are
logged; personal data never is (request bodies, headers and cookies stay out of request logs).
"""

from __future__ import annotations

import logging
import sys

import structlog
from litestar.logging.config import StructLoggingConfig, default_structlog_processors
from litestar.middleware.logging import LoggingMiddlewareConfig
from litestar.plugins.structlog import StructlogConfig, StructlogPlugin


def _logging_config() -> StructLoggingConfig:
    as_json = not sys.stderr.isatty()
    factory = (
        structlog.BytesLoggerFactory(sys.stderr.buffer)
        if as_json
        else structlog.WriteLoggerFactory(sys.stderr)
    )
    return StructLoggingConfig(
        processors=default_structlog_processors(as_json=as_json),
        logger_factory=factory,
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        log_exceptions="never",
    )


def structlog_plugin() -> StructlogPlugin:
    return StructlogPlugin(
        StructlogConfig(
            structlog_logging_config=_logging_config(),
            middleware_logging_config=LoggingMiddlewareConfig(
                request_log_fields=("path", "method", "query"),
                response_log_fields=("status_code",),
            ),
        )
    )


def configure_logging() -> None:
    """For processes and moments without the API (relay, projections, broker start)."""
    _logging_config().configure()
