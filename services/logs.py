"""structlog everywhere: JSON lines when not on a terminal, pretty on one. Positions are logged;
personal data never is (request bodies, headers and cookies are kept out of request logs).
"""

from __future__ import annotations

from litestar.logging.config import StructLoggingConfig
from litestar.middleware.logging import LoggingMiddlewareConfig
from litestar.plugins.structlog import StructlogConfig, StructlogPlugin


def structlog_plugin() -> StructlogPlugin:
    return StructlogPlugin(
        StructlogConfig(
            structlog_logging_config=StructLoggingConfig(log_exceptions="never"),
            middleware_logging_config=LoggingMiddlewareConfig(
                request_log_fields=("path", "method", "query"),
                response_log_fields=("status_code",),
            ),
        )
    )


def configure_logging() -> None:
    """For processes without the API (relay, projections, CLI tools)."""
    StructLoggingConfig().configure()
