"""Shared fixtures: the real assignment, and a copy of it whose config a test may change."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from gatelab.course import config

ROOT = Path(__file__).resolve().parent.parent
COURSE = Path(__file__).resolve().parent / "fixtures" / "rnn"  # the course the tests grade (a frozen copy)
_MARKER = re.compile(r"^\s*# (BEGIN|END) SOLUTION.*\n", re.M)


Replacement = tuple[str, str]


def values_tests(results) -> list:
    """The contract tests of a result that judge values on one case (not aspects, questions or instructors' tests)."""
    from gatelab.report.results import Kind

    return [t for t in results.tests if t.kind is Kind.VALUES]


def write_submission(folder: Path, changes: dict[str, Replacement | list[Replacement]], course: Path = COURSE) -> Path:
    """The reference of ``course`` (the tests' frozen copy unless told), without solution markers, with ``old``
    replaced by ``new`` in each named module.

    A module maps to one ``(old, new)`` pair or to a list of them, applied in order.
    """
    folder.mkdir(parents=True, exist_ok=True)
    unknown = set(changes) - {source.stem for source in (course / "solutions").glob("*.py")}
    assert not unknown, f"no reference module named {sorted(unknown)}"
    for source in (course / "solutions").glob("*.py"):
        text = _MARKER.sub("", source.read_text())
        replacements = changes.get(source.stem, [])
        for old, new in [replacements] if isinstance(replacements, tuple) else replacements:
            assert text.count(old) == 1, f"{source.name}: the text to replace must occur exactly once: {old!r}"
            text = text.replace(old, new)
        (folder / source.name).write_text(text)
    return folder


# Appended to a copy of activations.py: its sigmoid prints, from inside the worker, the wall it runs behind.
WALL_REPORT = '''

import os as _os
_reference_sigmoid = sigmoid


def sigmoid(z):
    """The reference's, saying from inside the worker which wall it runs behind."""
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status if ":" in line)
    print(f"wall: seccomp={fields['Seccomp'].strip()} no_new_privs={fields['NoNewPrivs'].strip()} uid={_os.getuid()}")
    return _reference_sigmoid(z)
'''


def fast_course(root: Path) -> Path:
    """A copy of the course in ``root`` with a 1 s call limit and an 8 s budget: an endless loop costs seconds."""
    for name in ("grader", "solutions", "exercises"):
        shutil.copytree(COURSE / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    path = root / "grader" / "config.yaml"
    path.write_text(path.read_text().replace("  timeout: 5 ", "  timeout: 1 ").replace("  budget: 60 ", "  budget: 8 "))
    return root


def build_release(out: Path, root: Path = COURSE) -> Path:
    """``grade release`` of the course at ``root`` into ``out`` (as an instructor builds it); returns ``out``."""
    from gatelab.authoring import release as releasing
    from gatelab.report.render import Renderer

    course = config.load(root)
    releasing.build(course, out, Renderer(course.grader / "templates"))
    return out


@pytest.fixture(scope="session")
def assignment() -> config.Assignment:
    return config.load(COURSE)


@pytest.fixture
def make_assignment(tmp_path: Path):
    """An assignment folder in tmp_path: the real grader tests and config, with overrides."""

    def make(text: str | None = None, **overrides) -> Path:
        root = tmp_path / "assignment"
        shutil.copytree(COURSE / "grader", root / "grader", ignore=shutil.ignore_patterns("__pycache__"))
        data = yaml.safe_load((COURSE / "grader" / "config.yaml").read_text())
        data.update(solutions=str(COURSE / "solutions"), exercises=str(COURSE / "exercises"))
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key].update(value)
            else:
                data[key] = value
        written = text if text is not None else yaml.safe_dump(data, sort_keys=False)
        (root / "grader" / "config.yaml").write_text(written)
        return root

    return make


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slowest tests first (a root file system built, an interpreter's packages downloaded): mostly waiting on
    the network, they overlap the rest of the suite instead of ending it on one busy worker."""
    slow = ("test_gradescope_image.py", "test_prairielearn.py")
    items.sort(key=lambda item: not item.nodeid.split("::")[0].endswith(slow))
