"""The kernel's wall around every worker (grading/isolation.py, confine.py, landlock.py, seccomp.py).

Each layer is shown active from inside a worker, as student code sees it
(through libc, past the audit hook); the filter's numbers are checked
against the kernel's own headers; a strict grader refuses where a layer is
missing; and in a batch, one student's workers can neither stop nor read
another's. The hostile suite (tests/hostile/native_*) holds the attacks
submission by submission.
"""
from __future__ import annotations

import errno
import json
import os
import re
import shutil
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import COURSE, write_submission
from gatelab.cli import main
from gatelab.course.limits import Limits
from gatelab.grading import confine, forkserver, isolation, kernel, landlock, seccomp
from gatelab.grading.sandbox import HIDDEN, PUBLIC, Sandbox

WALL = isolation.wall()
linux_wall = pytest.mark.skipif(WALL.missing() != [] or not WALL.namespaces,
                                reason="needs Linux with Landlock, seccomp and namespaces (CI runs as root on one)")
HEADERS = {"x86_64": "/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "aarch64": "/usr/include/asm-generic/unistd.h"}


@pytest.mark.parametrize("arch", sorted(seccomp.NUMBERS))
def test_the_filter_numbers_are_the_kernels(arch):
    """Every system call number in the filter is the one in the kernel's headers for that architecture."""
    header = Path(HEADERS[arch])
    if not header.is_file():
        pytest.skip(f"{header} is not installed (linux-libc-dev)")
    numbers = {m[1]: int(m[2]) for m in re.finditer(r"#define __NR(?:3264)?_(\w+)\s+(\d+)", header.read_text())}
    assert seccomp.NUMBERS[arch] == {name: numbers[name] for name in seccomp.NUMBERS[arch]}
    named = set(seccomp.DENIED) | set(seccomp.OWN_PROCESS_ONLY) | {seccomp.THREADS_ONLY, seccomp.NOT_THERE}
    assert named & set(numbers) <= set(seccomp.NUMBERS[arch]), "a call the filter names has no number here"


def test_the_filter_program_is_well_formed():
    """Whole instructions, every jump inside the program, and it ends by refusing (EPERM, ENOSYS)."""
    for arch in seccomp.NUMBERS:
        code = seccomp.program(arch, 4242)
        assert len(code) % 8 == 0 and 30 < len(code) // 8 < 256
        assert code[-8:-4] == b"\x06\x00\x00\x00"  # RET


def _box(tmp_path: Path, source: str, template=None, limits=Limits(timeout=5, memory_mb=512)) -> Sandbox:
    folder = tmp_path / "submission"
    folder.mkdir(exist_ok=True)
    (folder / "m.py").write_text(textwrap.dedent(source))
    return Sandbox(folder, limits, template=template)


PROBE = """
    import ctypes, os
    _libc = ctypes.CDLL(None, use_errno=True)
    def status():
        fields = {}
        for line in open("/proc/self/status"):
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        return {"seccomp": fields["Seccomp"], "no_new_privs": fields["NoNewPrivs"], "uid": list(os.getresuid()),
                "gid": list(os.getresgid()), "groups": os.getgroups()}
    def native_open(path):
        fd = _libc.open(path.encode(), 0)
        if fd < 0:
            return ctypes.get_errno()
        _libc.close(fd)
        return 0
    def native_socket():
        return 0 if _libc.socket(2, 2, 0) >= 0 else ctypes.get_errno()
    def native_fork():
        pid = _libc.fork()
        if pid == 0:
            _libc._exit(0)
        return 0 if pid > 0 else ctypes.get_errno()
    def descriptors():
        import fcntl
        found = []
        for fd in range(4096):
            try:
                fcntl.fcntl(fd, fcntl.F_GETFD)
            except OSError:
                continue
            found.append(fd)
        return found
    def interfaces():
        return sorted(open("/proc/net/dev").read().split("\\n")[2:])
    def write_here():  # the tripwire refuses any write; the kernel allows this one, in the worker's own folder
        fd = _libc.open(b"made-here.txt", 0o101, 0o600)
        written = _libc.write(fd, b"fine", 4) if fd >= 0 else -ctypes.get_errno()
        _libc.close(fd)
        return written
"""


def _refusal(path: Path) -> int:
    """The errno a worker gets opening a trusted file: ENOENT where the file lies in a folder that the worker's
    private mount namespace replaces with its own (a checkout under /tmp), else EACCES from Landlock."""
    hidden = WALL.namespaces and any(path.is_relative_to(t) for t in confine.PRIVATE_TEMP)
    return errno.ENOENT if hidden else errno.EACCES


@linux_wall
@pytest.mark.parametrize("path", ["started", "forked", "portable"])
def test_every_layer_is_active_inside_a_worker(tmp_path, monkeypatch, path):
    """From inside a worker, through libc: Seccomp 2 and no_new_privs; as root a user of its own (not root, not
    nobody, no groups) that differs between lanes; a file outside its folders unreadable (Landlock, even for
    /etc/passwd, which every user may read); no socket, no fork; no network interface but loopback; its own
    folder writable (by libc: the tripwire refuses every write); no descriptor beyond its standard streams and
    its three pipes and files."""
    monkeypatch.setenv("GATELAB_SANDBOX", "portable" if path == "portable" else "auto")
    template = forkserver.start() if path == "forked" else None
    try:
        with _box(tmp_path, PROBE, template) as box:
            public = box.call("m", "status", [], lane=PUBLIC)
            hidden = box.call("m", "status", [], lane=HIDDEN)
            assert public.ok, public
            assert public.value["seccomp"] == "2" and public.value["no_new_privs"] == "1"
            if os.geteuid() == 0:
                uid = public.value["uid"][0]
                assert uid >= isolation.ID_FLOOR and set(public.value["uid"]) == {uid}
                assert 0 not in public.value["gid"] and public.value["groups"] == []
                assert hidden.value["uid"][0] != uid and hidden.value["gid"] == public.value["gid"]
            assert box.call("m", "native_open", ["/etc/passwd"]).value == 13  # EACCES: Landlock
            reference = COURSE / "solutions" / "lstm.py"
            assert box.call("m", "native_open", [str(reference)]).value == _refusal(reference)
            assert box.call("m", "native_open", [str(box._staged.name) + "/m.py"]).value == 0
            assert box.call("m", "native_socket", []).value == 1  # EPERM: seccomp
            assert box.call("m", "native_fork", []).value == 1
            assert [line.split(":")[0].strip() for line in box.call("m", "interfaces", []).value if line] == ["lo"]
            assert box.call("m", "write_here", []).value == 4
            assert len(box.call("m", "descriptors", []).value) == 6, "0, 1, 2, requests, replies, stacks"
    finally:
        if template is not None:
            template.close()


@linux_wall
def test_two_submissions_never_share_a_user_and_their_copies_are_their_own(tmp_path):
    """As root, two sandboxes open at once get different users and groups, and each staged copy is a 0750
    folder of root and its own group: readable by its workers only, writable by none."""
    if os.geteuid() != 0:
        pytest.skip("users per submission are for a grader running as root")
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    with _box(tmp_path / "a", PROBE) as first, _box(tmp_path / "b", PROBE) as second:
        ids = [box.call("m", "status", []).value for box in (first, second)]
        assert ids[0]["uid"] != ids[1]["uid"] and ids[0]["gid"] != ids[1]["gid"]
        for box, who in zip((first, second), ids):
            staged = os.stat(box._staged.name)
            assert (staged.st_uid, staged.st_gid, staged.st_mode & 0o777) == (0, who["gid"][0], 0o750)
        assert first.call("m", "native_open", [second._staged.name + "/m.py"]).value in (2, 13)  # not in its
        # private /tmp, or (without namespaces) refused by Landlock


def test_a_strict_grader_refuses_where_a_layer_is_missing(tmp_path, monkeypatch):
    """autograde and batch exit 6 with a one-line reason (and autograde still writes a results file saying
    why) where the wall cannot be built; --isolation weak grades and records what the workers ran behind
    (in the JSON format, every format's facts, and Gradescope's test for staff);
    grade check always grades, and says what this machine lacks."""
    monkeypatch.setattr(isolation, "wall", lambda: isolation.Wall(seccomp=True, root=False))
    monkeypatch.delenv("GATELAB_ISOLATION", raising=False)
    submission = write_submission(tmp_path / "submission", {})
    output = tmp_path / "results.json"
    runner = CliRunner()
    refused = runner.invoke(main, ["autograde", "--submission", str(submission), "--assignment", str(COURSE),
                                   "--format", "json", "--output", str(output)])
    assert refused.exit_code == isolation.EXIT_UNISOLATED, refused.output
    assert "refusing to grade" in refused.output and "Landlock" in refused.output
    assert "refusing to grade" in output.read_text()
    batch = runner.invoke(main, ["batch", str(tmp_path), "--out", str(tmp_path / "out"), "--assignment", str(COURSE)])
    assert batch.exit_code == isolation.EXIT_UNISOLATED and not (tmp_path / "out" / "grades.csv").exists()
    weak = runner.invoke(main, ["autograde", "--submission", str(submission), "--assignment", str(COURSE),
                                "--format", "json", "--output", str(output), "--isolation", "weak"])
    assert weak.exit_code == 0, weak.output
    document = json.loads(output.read_text())
    assert document["isolation"].startswith("seccomp") and document["isolation_missing"]
    assert "isolation: seccomp" in weak.output
    gradescope = tmp_path / "gradescope.json"
    weak = runner.invoke(main, ["autograde", "--submission", str(submission), "--assignment", str(COURSE),
                                "--output", str(gradescope), "--isolation", "weak"])
    document = json.loads(gradescope.read_text())
    assert document["extra_data"]["isolation"].startswith("seccomp")
    staff = [t for t in document["tests"] if t["name"] == "Notes for the instructor"]
    assert staff and staff[0]["visibility"] == "hidden" and "this machine lacks Landlock" in staff[0]["output"]
    checked = runner.invoke(main, ["check", "activations.sigmoid", "--submission", str(submission),
                                   "--assignment", str(COURSE)])
    assert checked.exit_code == 0 and "this machine lacks Landlock" in checked.output, checked.output


def test_the_config_can_ask_for_weak_isolation_and_a_misspelt_policy_is_refused(tmp_path):
    root = tmp_path / "course"
    shutil.copytree(COURSE / "grader", root / "grader")
    config = root / "grader" / "config.yaml"
    data = yaml.safe_load(config.read_text())
    data.update(solutions=str(COURSE / "solutions"), exercises=str(COURSE / "exercises"), isolation="weak")
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    from gatelab.course import config as course_config

    assert course_config.load(root).isolation == "weak"
    config.write_text(config.read_text().replace("isolation: weak", "isolation: loose"))
    with pytest.raises(Exception, match=r"config.yaml:\d+.*isolation must be one of strict, weak"):
        course_config.load(root)


def test_an_assignment_inside_the_interpreters_folders_is_refused(tmp_path, monkeypatch):
    """Every worker reads the interpreter's folders: an assignment kept there would be the students' to read."""
    monkeypatch.setattr(confine, "interpreter_roots", lambda: [str(tmp_path)])
    box = _box(tmp_path, "def f():\n    return 1\n")
    box.forbid = (tmp_path / "assignment",)
    with pytest.raises(isolation.IsolationError, match="lies inside"):
        box.start()
    box.close()


def test_ids_are_leased_once_at_a_time():
    """Two leases held at once never share ids; a released one may be taken again."""
    if os.geteuid() != 0 or isolation.id_pool() is None:
        pytest.skip("ids are leased by a grader running as root")
    first, second = isolation.lease((PUBLIC, HIDDEN)), isolation.lease((PUBLIC, HIDDEN))
    try:
        assert not set(first.uids.values()) & set(second.uids.values()) and first.gid != second.gid
    finally:
        first.release()
        second.release()


def test_landlock_rights_follow_the_abi():
    assert landlock.handled_fs(1) == (1 << 13) - 1
    assert landlock.handled_fs(3) & landlock.TRUNCATE and not landlock.handled_fs(2) & landlock.TRUNCATE
    assert landlock.Ruleset(6).layers() == ["landlock-fs", "landlock-tcp", "landlock-scope"]
    assert landlock.Ruleset(1).layers() == ["landlock-fs"]


HOSTILE_NEIGHBOUR = """
import ctypes
import os
import signal
_libc = ctypes.CDLL(None, use_errno=True)


class _Glob(ctypes.Structure):
    _fields_ = [("count", ctypes.c_size_t), ("paths", ctypes.POINTER(ctypes.c_char_p)), ("offs", ctypes.c_size_t),
                ("rest", ctypes.c_char * 256)]


def _matches(pattern):
    found = _Glob()
    if _libc.glob(pattern.encode(), 0, None, ctypes.byref(found)) != 0:
        return []
    return [found.paths[i].decode() for i in range(found.count)]


def sigmoid(z):
    stopped = sum(1 for pid in range(2, 1 << 16) if pid != os.getpid() and _libc.kill(pid, signal.SIGSTOP) == 0)
    print("stopped", stopped, "processes")
    for path in _matches("/tmp/gatelab-submission-*/lstm.py"):
        fd = _libc.open(path.encode(), 0)
        if fd >= 0:
            buffer = ctypes.create_string_buffer(4096)
            print("neighbour:", buffer.raw[:max(_libc.read(fd, buffer, 4096), 0)])
    print("neighbours seen:", len(_matches("/tmp/gatelab-submission-*")))
    return 1 / (1 + np.exp(-z))
"""


@linux_wall
def test_in_a_batch_one_student_can_neither_stop_nor_read_another(tmp_path):
    """A class where one submission SIGSTOPs every process it can and reads the staged copies of the others
    (libc, past the audit hook), graded two at a time: the honest students keep every point, and the hostile
    one's output shows it stopped nothing and read nothing."""
    root = tmp_path / "course"
    for name in ("grader", "solutions", "exercises"):
        shutil.copytree(COURSE / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    config = root / "grader" / "config.yaml"
    text = config.read_text().replace("  timeout: 5 ", "  timeout: 2 ").replace("  budget: 60 ", "  budget: 20 ")
    config.write_text(text)
    submissions = tmp_path / "class"
    for honest in ("ada", "bob", "cy"):
        write_submission(submissions / honest, {})
    hostile = write_submission(submissions / "mallory", {})
    with open(hostile / "activations.py", "a") as handle:
        handle.write(HOSTILE_NEIGHBOUR)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["batch", str(submissions), "--out", str(out), "--jobs", "2",
                                       "--assignment", str(root)])
    assert result.exit_code == 0, result.output
    for honest in ("ada", "bob", "cy"):
        document = json.loads((out / "results" / f"{honest}.json").read_text())
        assert all(t["status"] == "passed" for t in document["tests"] if t["kind"] != "question"), \
            (honest, [t["feedback"][:200] for t in document["tests"] if t["status"] != "passed"])
    mallory = json.loads((out / "results" / "mallory.json").read_text())
    printed = "\n".join(t["output"] for t in mallory["tests"])
    assert "stopped 0 processes" in printed and "neighbours seen: 0" in printed and "neighbour:" not in printed
    assert mallory["isolation"].startswith("landlock-fs")


def test_the_worker_refuses_to_run_student_code_behind_a_wall_it_could_not_build(tmp_path, monkeypatch):
    """A layer asked for but not built (here: a user it cannot become) ends the worker before the submission is
    imported (exit 111), and the call says it is the grader's fault."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("a user per submission is for a grader running as root on Linux")
    (tmp_path / "m.py").write_text("print('student code ran')\ndef f():\n    return 1\n")
    nobody_at_all = 2**32 - 1  # (uid_t)-1: setresuid leaves the user as it is, so root would stay root
    monkeypatch.setattr(isolation, "lease", lambda lanes: isolation.Identity(nobody_at_all, dict.fromkeys(lanes,
                                                                                                  nobody_at_all)))
    box = Sandbox(tmp_path, Limits(timeout=5))
    box.wall = isolation.Wall(landlock=WALL.landlock, seccomp=WALL.seccomp, root=True, uid=True)
    with box:
        outcome = box.call("m", "f", [])
    assert outcome.status == "crashed" and "the grader's fault" in outcome.message, outcome
    assert "student code ran" not in outcome.output


def _as_nobody() -> None:
    """As root, become nobody (in a forked child whose interpreter is loaded: nothing more to read)."""
    if os.geteuid() == 0:
        os.setgroups([])
        os.setresgid(65534, 65534, 65534)
        os.setresuid(65534, 65534, 65534)


def _in_child(run) -> int:
    """Run ``run`` in a forked child (no exec: nothing more to read from disk) and return its exit status."""
    pid = os.fork()
    if pid == 0:
        try:
            code = run()
        except BaseException:  # noqa: BLE001 - any failure is the child's answer
            code = 1
        os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


@pytest.mark.skipif(not WALL.namespaces or not hasattr(os, "fork"), reason="needs Linux namespaces")
def test_a_worker_forked_from_a_non_dumpable_template_enters_its_namespaces_as_any_user():
    """The template is non-dumpable and its forks inherit that, which makes /proc/self root's: a worker of a
    grader that is not root (a Linux laptop) must still write its user namespace's maps (as root this is
    shown as nobody, the interpreter already loaded). Afterwards it is non-dumpable again."""
    def enter() -> int:
        kernel.prctl(kernel.PR_SET_DUMPABLE, 0)
        _as_nobody()
        confine.enter_namespaces([])
        with open("/proc/net/dev") as devices:
            interfaces = [line.split(":")[0].strip() for line in devices.read().splitlines()[2:]]
        return 0 if interfaces == ["lo"] and kernel.prctl(kernel.PR_GET_DUMPABLE) == 0 else 2

    assert _in_child(enter) == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks")
def test_every_inherited_descriptor_is_closed_however_high_its_number():
    """close_inherited closes by ranges, not by a listing with a fallback of 1024: a descriptor numbered 5000
    (or the highest the soft limit allows) in a forked worker that is not root and not dumpable is closed;
    the kept one stays."""
    def close() -> int:
        kept = os.open(os.devnull, os.O_RDONLY)
        import resource

        high = os.dup2(kept, min(5000, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 1), inheritable=False)
        _as_nobody()
        kernel.prctl(kernel.PR_SET_DUMPABLE, 0)
        confine.close_inherited({kept})
        alive = []
        for fd in (kept, high):
            try:
                os.fstat(fd)
                alive.append(fd)
            except OSError:
                pass
        return 0 if alive == [kept] else 2

    assert _in_child(close) == 0
