"""Canvas's "Download Submissions": one flat folder (or zip) of every student's files, read back into students.

Canvas names each file ``<name>_[LATE_]<user id>_<file id>_<file name>`` (``lib/content_zipper.rb``):
``<name>`` is the student's sortable name ("Last, First") lowercased with every character that is not a
letter, digit or ``_`` removed (accents stay: ``müllerzoë``); ``LATE`` marks a submission Canvas counts
late; ``<user id>`` is the student's Canvas id (``anon_<id>`` under anonymous grading, with no name);
``<file id>`` is the upload's Canvas file id, which grows with every upload; ``<file name>`` is the
name the student uploaded, as Canvas keeps it: a file uploaded again under a name the student already
used is renamed ``work-1.py``, ``work-2.py`` ... A text entry or a URL comes as
``..._<user id>_text.html`` or ``_link.html``, with no file id.

:func:`group` reads such a folder into students (nothing written); :func:`stage` writes one student's
files under the names the assignment expects, so the batch grades them as any other folder.
"""
from __future__ import annotations

import re
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from gatelab.errors import UsageError

# <name>_[LATE_]<user id>[_<file id>]_<file name>: the name is the shortest prefix that leaves the rest a
# match (Canvas removes every "_<digits>_" from names, so the first one is the user id).
_NAMED = re.compile(r"(?P<who>.*?)_(?:(?P<late>LATE|late)_)?(?P<user>\d+)(?:_(?P<file>\d+))?_(?P<name>.+)", re.S)
_ANONYMOUS = re.compile(r"(?:(?P<late>LATE|late)_)?(?P<user>anon_[A-Za-z0-9]+)(?:_(?P<file>\d+))?_(?P<name>.+)",
                        re.S)
# Canvas's renaming of a name used before: -1, -2 ... and, from the eighth, a UUID.
_AGAIN = r"-(?P<again>\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
_SAFE = re.compile(r"[^\w.@+-]+")
DOWNLOAD_LIMITS = (50_000, 4 * 1024**3)  # files, bytes: a whole class's download


@dataclass(frozen=True)
class Upload:
    """One file of a Canvas download, its name read back."""

    path: Path
    who: str  # the name part: the sortable name, squashed ("" under anonymous grading)
    user: str  # the Canvas user id ("anon_..." under anonymous grading)
    file_id: int | None  # Canvas's file id (None for a text entry or a URL)
    name: str  # the file name as the student uploaded it (as Canvas kept it)
    late: bool


@dataclass
class Student:
    """A student of a Canvas download: their Canvas id, squashed name, LATE mark and uploads."""

    user: str
    who: str
    late: bool = False
    uploads: list[Upload] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The name the batch grades them under: name and id (two students may share a name, never an id)."""
        return _SAFE.sub("_", f"{self.who}_{self.user}" if self.who else self.user).strip("_") or self.user

    @property
    def canvas_id(self) -> str:
        """Their Canvas user id, for grades.csv's ID column ("" under anonymous grading: no id to give)."""
        return self.user if self.user.isdigit() else ""


def parse(path: Path) -> Upload | None:
    """The upload a file of a Canvas download is, or None when its name is not Canvas's."""
    text = unicodedata.normalize("NFC", path.name)  # a Mac's unzip spells names decomposed
    found = _ANONYMOUS.fullmatch(text) if text.startswith(("anon_", "LATE_anon_", "late_anon_")) else None
    found = found or _NAMED.fullmatch(text)
    if not found:
        return None
    who = found.groupdict().get("who") or ""
    file_id = int(found["file"]) if found["file"] else None
    return Upload(path, who, found["user"], file_id, found["name"], bool(found["late"]))


def group(folder: Path) -> dict[str, Student]:
    """The students of the Canvas-named files directly in ``folder`` (subfolders are not Canvas's), by key."""
    students: dict[str, Student] = {}
    for path in sorted(folder.iterdir()):
        ordinary = path.is_file() and not path.is_symlink() and not path.name.startswith(".")  # links: never followed
        upload = parse(path) if ordinary else None
        if upload is None:
            continue
        student = students.setdefault(upload.user, Student(upload.user, upload.who))
        student.late = student.late or upload.late
        student.uploads.append(upload)
    return {student.key: student for student in students.values()}


def _target(name: str, expected: Iterable[str]) -> tuple[str, str]:
    """(the name an upload is graded under, the Canvas renaming undone: "" or the -N/-UUID it carried).

    Decided by the names the assignment expects: ``work-1.py`` is ``work.py`` again, unless
    the assignment expects a file called ``work-1.py``; a name the assignment does not expect stays."""
    wanted = set(expected)
    if name in wanted:
        return name, ""
    for file in sorted(wanted):
        stem, dot, ext = file.rpartition(".")
        stem, ext = (stem, dot + ext) if dot else (file, "")
        again = re.fullmatch(re.escape(stem) + _AGAIN + re.escape(ext), name)
        if again:
            return file, again["again"]
    return name, ""


def _order(upload: Upload, again: str) -> tuple[int, int]:
    """Which upload is later: Canvas's file id grows with every upload; without one, the -N Canvas added."""
    return (upload.file_id if upload.file_id is not None else -1, int(again) if again.isdigit() else 0)


def latest(uploads: list[Upload], expected: Iterable[str]) -> tuple[dict[str, Upload], list[str]]:
    """(file name -> the upload graded under it, notices for the student): for each name, the latest upload."""
    expected = list(expected)
    chosen: dict[str, tuple[Upload, str]] = {}
    notices = []
    for upload in uploads:
        target, again = _target(upload.name, expected)
        held = chosen.get(target)
        if held is None or _order(upload, again) > _order(*held):
            chosen[target] = (upload, again)
    for target, (upload, _) in sorted(chosen.items()):
        if upload.name != target:
            notices.append(f"{upload.name} was graded as {target} (Canvas renames a file uploaded again)")
        older = [u.name for u in uploads if u is not upload and _target(u.name, expected)[0] == target]
        if older:
            notices.append(f"{', '.join(older)} left out: {upload.name} is your latest upload of {target}")
    return {target: upload for target, (upload, _) in chosen.items()}, notices


def stage(student: Student, into: Path, expected: Iterable[str]) -> list[str]:
    """Write ``student``'s latest uploads into ``into`` (made afresh) under the names expected; an uploaded
    ``.zip`` is unpacked there. Returns the notices for the student."""
    from gatelab.grading.submission import unpack

    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    files, notices = latest(student.uploads, expected)
    for name, upload in sorted(files.items()):
        if name in (".", "..") or "/" in name or "\0" in name:  # Canvas never names a file so; a person might
            notices.append(f"{name!r} was left out: not a file name")
            continue
        if name.lower().endswith(".zip"):
            try:
                notices.extend(unpack(upload.path, into))
                notices.append(f"{upload.name} was unpacked and its files graded")
            except UsageError as exc:
                notices.append(f"{upload.name} was left out: {exc}")
            continue
        shutil.copyfile(upload.path, into / name)
    return notices


def _entry_name(member: zipfile.ZipInfo) -> str:
    """An entry's name as written: UTF-8 whether or not the zip flags it so. Canvas's zips (rubyzip without
    ``unicode_names``) hold UTF-8 names unflagged, which Python reads as cp437 (``müller`` as ``m├╝ller``)."""
    if member.flag_bits & 0x800:
        return member.filename
    try:
        return member.filename.encode("cp437").decode("utf-8")
    except UnicodeError:  # truly cp437 (an old Windows zip)
        return member.filename


def unpack_download(archive: Path, into: Path) -> Path:
    """Extract the zip Canvas's "Download Submissions" gives (flat; any folder inside kept) into ``into``,
    made afresh; no entry lands outside it. Returns ``into``."""
    max_files, max_bytes = DOWNLOAD_LIMITS
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    root = into.resolve()
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = [m for m in bundle.infolist() if not m.is_dir()]
            if len(members) > max_files or sum(m.file_size for m in members) > max_bytes:
                raise UsageError(f"{archive}: more than {max_files} files or {max_bytes // 2**30} GB once unpacked")
            for member in members:
                target = (root / unicodedata.normalize("NFC", _entry_name(member))).resolve()
                if not target.is_relative_to(root) or target == root:
                    raise UsageError(f"{archive}: the entry {member.filename!r} points outside the folder")
                target.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(member) as source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UsageError(f"{archive} is not a readable zip file ({exc})") from None
    return into
