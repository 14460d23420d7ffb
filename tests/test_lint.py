"""The code stays ruff-clean (lint and format); CI runs this with every other test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUFF = str(Path(sys.executable).parent / "ruff")


def test_ruff_lint_is_clean():
    result = subprocess.run([RUFF, "check", str(ROOT)], check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = subprocess.run(
        [RUFF, "format", "--check", str(ROOT)], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
