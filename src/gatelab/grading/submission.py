"""Where a submission really is, and what an LMS says about it.

Students zip their folder, not its contents, so a submission is often one
folder inside another: ``locate`` follows a single folder down (saying so).
``read_metadata`` reads Gradescope's ``submission_metadata.json``: the
student's id (which picks the quiz variants, whatever ``student:`` the
student typed), the due date and the submission time. ``unpack`` extracts a
``.zip`` submission safely (no path outside the folder, bounded size).
"""
from __future__ import annotations

import json
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

from gatelab.errors import UsageError

IGNORED = {"__MACOSX", ".git", ".ipynb_checkpoints", "__pycache__"}
MAX_DEPTH = 4
UNPACK_LIMITS = (2000, 50 * 1024 * 1024)  # files, bytes


def _entries(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name not in IGNORED and not p.name.startswith(".")]


def submitted_files(folder: Path) -> list[tuple[Path, bool]]:
    """Every file (or symbolic link) of a submission folder that grading looks at, in a fixed order, with
    whether it is ``linked``: it, or a folder above it in the submission, is a symbolic link, which grading
    never follows. What an editor or an OS leaves (``IGNORED``, hidden names) is left out, at any depth. The
    one walk of a submission: staged for its workers, packed for a cluster, fingerprinted for a rerun."""
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part in IGNORED or part.startswith(".") for part in relative.parts):
            continue
        if path.is_symlink() or path.is_file():
            found.append((path, any(p.is_symlink() for p in [path, *path.parents][: len(relative.parts)])))
    return found


def locate(folder: Path) -> tuple[Path, list[str]]:
    """The folder that holds the submission's files, and notices for the student on how it was found."""
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise UsageError(f"the submission folder {folder} does not exist")
    notices = []
    for _ in range(MAX_DEPTH):
        entries = _entries(folder)
        if len(entries) != 1 or not entries[0].is_dir() or entries[0].is_symlink():
            break
        notices.append(f"your files were inside the folder {entries[0].name}/; they were graded from there "
                       "(submit the files themselves next time)")
        folder = entries[0]
    return folder, notices


def sources(submission: Path | str, modules: Sequence[str], limit: int = 1_000_000) -> dict[str, str]:
    """The text of each module file a submission holds (a folder, or a ``.zip`` unpacked into a temporary
    folder), found where grading finds it (``locate``): module -> source, its first ``limit`` bytes, bytes
    that are not UTF-8 replaced. A symbolic link is never followed (grading leaves links out too)."""
    submission = Path(submission)
    with tempfile.TemporaryDirectory(prefix="gatelab-sources-") as tmp:
        if submission.is_file():
            unpack(submission, Path(tmp))
            submission = Path(tmp)
        folder, _ = locate(submission)
        found = {}
        for module in modules:
            path = folder / f"{module}.py"
            if path.is_file() and not path.is_symlink():
                with open(path, "rb") as handle:
                    found[module] = handle.read(limit).decode("utf-8", "replace")
        return found


def holds_nothing(folder: Path) -> bool:
    """Whether ``folder`` holds no file at all (what an editor or an OS leaves, such as ``__MACOSX`` or
    ``.DS_Store``, does not count): an empty submission, told apart from one whose files are misnamed."""
    for entry in _entries(folder):
        if entry.is_symlink() or entry.is_file() or (entry.is_dir() and not holds_nothing(entry)):
            return False
    return True


@dataclass
class Context:
    """What the LMS said about a submission."""

    student: str | None = None
    due_date: str = ""
    submitted_at: str = ""
    notices: list[str] = field(default_factory=list)  # for the student
    problems: list[str] = field(default_factory=list)  # for the instructor


_FRACTION = re.compile(r"(\d\d:\d\d:\d\d)\.(\d+)")


def moment(text: str) -> datetime:
    """An ISO 8601 time as LMSs write it (``...Z``, milliseconds), read alike on every Python gatelab supports:
    3.10's ``fromisoformat`` takes neither a ``Z`` nor fractions of other than 3 or 6 digits."""
    text = text.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(_FRACTION.sub(lambda match: f"{match[1]}.{(match[2] + '000000')[:6]}", text))


def _late(submitted: str, due: str) -> bool:
    try:
        return moment(submitted) > moment(due)
    except (TypeError, ValueError):
        return False


def _quiz_id(user: Any) -> str:
    """The id that picks a Gradescope user's quiz numbers: their account's email, which the student knows and can
    give ``grade quiz --student`` before submitting (their numeric Gradescope id only when there is no email)."""
    if not isinstance(user, dict):
        return ""
    email, number = user.get("email"), user.get("id")
    if isinstance(email, str) and email.strip():
        return email.strip().casefold()
    return str(number) if number is not None else ""


def read_metadata(path: Path) -> Context:
    """The context in a Gradescope ``submission_metadata.json``; problems are reported, never raised."""
    context = Context()
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        context.problems.append(f"{path}: cannot read the submission metadata ({exc}); the quiz uses the id in "
                                "answers.yaml")
        return context
    users = data.get("users") if isinstance(data, dict) else None
    ids = sorted(filter(None, (_quiz_id(user) for user in users or [])))
    if ids:
        context.student = "+".join(ids)  # a group gets one variant
    else:
        context.problems.append(f"{path}: no user's email or id in the submission metadata; the quiz uses the id "
                                "in answers.yaml")
    assignment = data.get("assignment") if isinstance(data, dict) else None
    context.due_date = str((assignment or {}).get("due_date") or "")
    context.submitted_at = str(data.get("created_at") or "") if isinstance(data, dict) else ""
    if context.due_date and context.submitted_at and _late(context.submitted_at, context.due_date):
        context.notices.append(f"submitted at {context.submitted_at}, after the due date {context.due_date}")
    return context


def unpack(archive: Path, into: Path) -> list[str]:
    """Extract a ``.zip`` submission into ``into``; notices for what was left out. Raises UsageError if unusable."""
    notices = []
    max_files, max_bytes = UNPACK_LIMITS
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = [m for m in bundle.infolist() if not m.is_dir()]
            if len(members) > max_files or sum(m.file_size for m in members) > max_bytes:
                raise UsageError(f"{archive.name} holds more than {max_files} files or "
                                 f"{max_bytes // 2**20} MB once unpacked")
            root = into.resolve()
            for member in members:
                target = (root / member.filename).resolve()
                if not target.is_relative_to(root) or member.filename.startswith("/"):
                    notices.append(f"{member.filename} points outside the submission; it was left out")
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(member) as source:
                    target.write_bytes(source.read(max_bytes + 1)[:max_bytes])
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UsageError(f"{archive.name} is not a readable zip file ({exc})") from None
    return notices
