"""Shared fixtures: a CLI runner that runs grayscan as a real subprocess, temp databases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, input: str | None = None, cwd: Path | None = None, timeout: float = 300):
    """Run ``python -m grayscan ARGS`` and return the CompletedProcess (text mode)."""
    return subprocess.run(
        [sys.executable, "-m", "grayscan", *args],
        input=input,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        timeout=timeout,
    )


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "grayscan.db"
