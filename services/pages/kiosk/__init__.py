"""The kiosk pages."""

from __future__ import annotations

from typing import Any

PAGES: list[Any] = []
SIGN_IN_PAGES: list[Any] = []
