"""The council pages."""

from __future__ import annotations

from typing import Any

PAGES: list[Any] = []
