"""Shared fixtures: the real assignment, and a copy of it whose config a test may change."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from gatelab import config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def assignment() -> config.Assignment:
    return config.load(ROOT)


@pytest.fixture
def make_assignment(tmp_path: Path):
    """An assignment folder in tmp_path: the real grader tests and config, with overrides."""

    def make(text: str | None = None, **overrides) -> Path:
        root = tmp_path / "assignment"
        shutil.copytree(ROOT / "grader", root / "grader", ignore=shutil.ignore_patterns("__pycache__"))
        data = yaml.safe_load((ROOT / "grader" / "config.yaml").read_text())
        data.update(solutions=str(ROOT / "solutions"), exercises=str(ROOT / "exercises"))
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key].update(value)
            else:
                data[key] = value
        (root / "grader" / "config.yaml").write_text(text if text is not None else yaml.safe_dump(data))
        return root

    return make
