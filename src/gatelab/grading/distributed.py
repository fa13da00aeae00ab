"""``grade batch --scheduler ADDRESS``: a class graded on a Dask distributed cluster.

Dask schedules, retries and balances; gatelab adds no scheduler of its own.
:class:`Cluster` is a batch :class:`~gatelab.grading.batch.Engine`: each
submission is one Dask task that grades it with ``batch.grade_one`` in the
Dask worker's process, whose student code still runs only in gatelab's
sandboxed worker subprocess. Nothing needs a shared filesystem: the
assignment (grader, reference, exercises) travels once as a zip, held by a
task of its own so that Dask can make it again if the workers holding it die,
and each submission travels as its own bytes (a zip as it is, a folder zipped
in memory). A worker that dies mid-batch loses its tasks to Dask, which runs
them again elsewhere; ``batch.run`` records each student once.

Grading runs pytest in the worker's process, one submission at a time, so
every Dask worker must have one thread (``dask worker ADDRESS --nthreads 1``),
and the same gatelab as here. ``distributed`` is imported only here, only
when a scheduler is asked for (``pip install "gatelab[dask]"``).
"""
from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from gatelab.errors import UsageError
from gatelab.grading.submission import UNPACK_LIMITS, submitted_files, unpack
from gatelab.version import __version__

INSTALL = 'grading on a Dask cluster needs Dask\'s distributed: pip install "gatelab[dask]"'
CONNECT_SECONDS = 10  # to reach the scheduler, then for a first worker to be there
MAX_ASSIGNMENT_BYTES = 50 * 1024 * 1024  # the zipped assignment: grader, reference, exercises


def pack_assignment(root: Path) -> bytes:
    """The whole assignment as a zip: grader/, solutions/ and exercises/ side by side, its config pointing at
    them and recording the title and checksum it has here (so results are the same wherever it is unpacked)."""
    from gatelab.archive import zip_bytes
    from gatelab.course import config
    from gatelab.course.packing import assignment_entries

    spec = config.load(root)
    packed = zip_bytes(assignment_entries(spec))
    if len(packed) > MAX_ASSIGNMENT_BYTES:
        raise UsageError(f"the assignment {spec.root} is {len(packed) // 2**20} MB zipped; at most "
                         f"{MAX_ASSIGNMENT_BYTES // 2**20} MB is sent to a cluster")
    return packed


def pack_submission(source: Path) -> tuple[bytes, list[str]]:
    """A submission as bytes for a worker: a .zip as it is; a folder zipped (symbolic links, hidden files and
    caches left out, as grading leaves them out), with notices for what was left out. Raises UsageError
    when it is more than a worker would unpack."""
    max_files, max_bytes = UNPACK_LIMITS
    if source.is_file():
        if source.stat().st_size > max_bytes:
            raise UsageError(f"{source.name} is more than {max_bytes // 2**20} MB; it was not sent to the cluster")
        return source.read_bytes(), []
    entries: dict[str, bytes] = {}
    notices: list[str] = []
    size = 0
    for path, linked in submitted_files(source):
        relative = path.relative_to(source)
        if linked:
            if path.is_symlink():
                notices.append(f"{relative.as_posix()} is a symbolic link; it was left out (submit the file itself)")
            continue
        size += path.stat().st_size
        if len(entries) >= max_files or size > max_bytes:
            raise UsageError(f"{source.name} holds more than {max_files} files or {max_bytes // 2**20} MB; "
                             "it was not sent to the cluster")
        entries[relative.as_posix()] = path.read_bytes()
    from gatelab.archive import zip_bytes

    return zip_bytes(entries), notices


def held(data: bytes) -> bytes:
    """The assignment's bytes, as the result of a task (Dask keeps it on workers, and makes it again if lost)."""
    return data


def grade_sent(assignment: bytes, student: str, source: str, name: str, packed: bytes, is_zip: bool,
               notices: list[str], budget: float | None) -> dict[str, Any]:
    """Grade one submission sent as bytes (a Dask task): the assignment unpacked once per process, the
    submission into a private temporary folder, then graded as a local batch does (one warm grading state per
    process); the row names the submission as it is here."""
    from gatelab.grading.batch import Row, grade_one

    with tempfile.TemporaryDirectory(prefix="gatelab-dask-") as tmp:
        folder = Path(tmp)
        try:
            root = _assignment_folder(assignment)
            target = folder / "sent" / name
            target.parent.mkdir()
            if is_zip:
                target.write_bytes(packed)
            else:
                (folder / "sent.zip").write_bytes(packed)
                unpack(folder / "sent.zip", target)
                target.mkdir(exist_ok=True)  # an empty folder is sent as an empty zip
        except UsageError as exc:
            return {**Row(student, source, error=f"the cluster could not unpack it: {exc}").__dict__}
        row = grade_one(str(root), student, str(target), budget)
    row["source"] = source
    results = row["results"]
    if results and not is_zip:  # where the files are here, not where they were unpacked
        results["submission"] = results["submission"].replace(str(target), source, 1)
    if notices and results:
        results["notices"][:0] = notices
    return row


def _assignment_folder(assignment: bytes) -> Path:
    """The assignment unpacked once in this process, for every submission it grades: one folder per
    assignment (by content), so that the process keeps one warm grading state (``batch._prepared``) instead
    of one per task, and no task removes the folder that a session still reads. Removed when the process
    ends. Two tasks that unpack it at once each unpack into a folder of their own; one of them is kept."""
    folder = Path(tempfile.gettempdir()) / f"gatelab-dask-{os.getpid()}-{hashlib.sha256(assignment).hexdigest()[:16]}"
    if folder.is_dir():
        return folder
    fresh = Path(tempfile.mkdtemp(prefix="gatelab-dask-unpacking-"))
    (fresh / "assignment.zip").write_bytes(assignment)
    unpack(fresh / "assignment.zip", fresh / "assignment")
    try:
        os.rename(fresh / "assignment", folder)
        atexit.register(shutil.rmtree, folder, True)
    except OSError:  # another task of this process unpacked it first
        pass
    shutil.rmtree(fresh, ignore_errors=True)
    return folder


def _worker_facts() -> dict[str, str]:
    """What a worker has (run on each worker): its gatelab."""
    return {"gatelab": __version__}


class Cluster:
    """A batch engine on the Dask scheduler at ``address`` (use as a context manager: it connects and closes)."""

    def __init__(self, address: str, root: Path) -> None:
        self.address = address
        self.assignment = pack_assignment(root)
        self.client: Any = None
        self.held: Any = None

    def __enter__(self) -> Cluster:
        try:
            from distributed import Client
        except ImportError:
            raise UsageError(INSTALL) from None
        try:
            self.client = Client(self.address, timeout=CONNECT_SECONDS)
        except (OSError, ValueError, TypeError) as exc:
            raise UsageError(f"cannot reach a Dask scheduler at {self.address!r}: {exc}") from None
        try:
            self._check_workers()
        except BaseException:
            self.client.close()
            raise
        digest = hashlib.sha256(self.assignment).hexdigest()[:16]
        self.held = self.client.submit(held, self.assignment, key=f"gatelab-assignment-{digest}")
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def _check_workers(self) -> None:
        """Refuse a cluster that cannot grade: no worker, a worker with more than one thread, another gatelab."""
        try:
            self.client.wait_for_workers(1, timeout=CONNECT_SECONDS)
        except TimeoutError:
            raise UsageError(f"no Dask worker joined the scheduler at {self.address} within {CONNECT_SECONDS} s; "
                             f"start some: dask worker {self.address} --nthreads 1") from None
        threaded = sorted(address for address, threads in self.client.nthreads().items() if threads != 1)
        if threaded:
            raise UsageError(f"the Dask workers {', '.join(threaded)} run more than one thread; grading runs one "
                             f"submission at a time per process: start them with dask worker {self.address} "
                             "--nthreads 1 (and --nworkers N for N at a time)")
        other = sorted(f"{address} has gatelab {facts['gatelab']}"
                       for address, facts in self.client.run(_worker_facts).items()
                       if facts["gatelab"] != __version__)
        if other:
            raise UsageError(f"every Dask worker needs gatelab {__version__}, as here: {'; '.join(other)}")

    def submit(self, root: Path, student: str, source: Path, budget: float | None,
              notices: Sequence[str] = ()) -> Any:
        """A Dask future of the row of one submission (``root`` was sent once, when connecting); ``notices``
        (how its files were found) go first in its results."""
        try:
            packed, packing = pack_submission(source)
            notices = [*notices, *packing]
        except UsageError as exc:
            from gatelab.grading.batch import Row

            return self.client.submit(dict, Row(student, str(source), error=str(exc)).__dict__,
                                      key=f"gatelab-unsent-{student}")
        return self.client.submit(grade_sent, self.held, student, str(source), source.name, packed,
                                  source.is_file(), notices, budget, key=f"gatelab-grade-{student}-"
                                  + hashlib.sha256(packed + repr(budget).encode()).hexdigest()[:16])

    def finished(self, futures: Iterable[Any]) -> Iterator[Any]:
        """The futures as they finish, in whatever order."""
        from distributed import as_completed

        return iter(as_completed(list(futures)))
