"""The exact versions a release was built with: gatelab's runtime dependencies, as a pip constraints file.

An autograder image built next month must not install whatever is newest that day: ``setup.sh`` installs
the bundled wheel with ``--constraint constraints.txt``, so the grader runs on the versions the instructor
tested. The closure is read from this environment's installed metadata (markers evaluated here).
"""
from __future__ import annotations

import importlib.metadata
import platform
import sys

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

CONSTRAINTS = "constraints.txt"
REQUIRES_PYTHON = "# Requires-Python "  # after a pin: the Pythons it installs on


def runtime_versions(root: str = "gatelab") -> dict[str, str]:
    """Every distribution ``root`` needs at run time here (extras aside), by canonical name: its version."""
    found: dict[str, str] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # needed only where this environment does not need it
        for text in distribution.requires or []:
            requirement = Requirement(text)
            key = canonicalize_name(requirement.name)
            if key in found or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
                continue
            try:
                found[key] = importlib.metadata.version(requirement.name)
            except importlib.metadata.PackageNotFoundError:
                continue
            todo.append(requirement.name)
    return dict(sorted(found.items()))


def tested_python() -> str:
    """The ``major.minor`` of the Python building the release (the one its tests ran on)."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def requires_python(name: str) -> str:
    """The installed distribution's ``Requires-Python`` (``>=3.11``), or ``""`` where it states none."""
    return (importlib.metadata.metadata(name)["Requires-Python"] or "").strip()


def constraints() -> str:
    """``constraints.txt``: one ``name==version`` per runtime dependency, headed by where they were taken, each
    followed by the Pythons it installs on (a pip comment, which setup.sh reads to say why a pin cannot install)."""
    head = (f"# The versions this gatelab release was built and tested with (Python {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}).\n# Gradescope's setup.sh and the PrairieLearn image install "
            "with --constraint this file.\n")
    lines = []
    for name, version in runtime_versions().items():
        pythons = requires_python(name)
        lines.append(f"{name}=={version}" + (f"  {REQUIRES_PYTHON}{pythons}" if pythons else "") + "\n")
    return head + "".join(lines)
