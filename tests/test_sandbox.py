"""Hostile submissions against the sandbox: each call comes back as an Outcome, never takes the grader down."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from gatelab.grading import diagnostics, forkserver, wire
from gatelab.grading.clock import BACKSTOP, Stopwatch
from gatelab.grading.sandbox import HIDDEN, PUBLIC, Limits, Sandbox

LIMITS = Limits(timeout=1.0, memory_mb=512)
QUICK = 0.5  # seconds: "returned at once", generous for a loaded machine but far below a timeout


@pytest.fixture
def submission(tmp_path: Path) -> Path:
    folder = tmp_path / "submission"
    folder.mkdir()
    return folder


@pytest.fixture
def write(submission: Path):
    """Write ``name.py`` into the submission folder."""

    def write(name: str, source: str) -> Path:
        path = submission / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        return path

    return write


@pytest.fixture(scope="module")
def template():
    """One warm worker template for the module's forked sandboxes (as a batch's process keeps one)."""
    if not forkserver.available():
        yield None
        return
    kept = forkserver.start()
    yield kept
    kept.close()


@pytest.fixture(params=["started", "forked", "portable"])
def sandbox(submission: Path, request, template, monkeypatch):
    """A sandbox factory; every sandbox it makes is closed at the end of the test. Each test runs three times:
    with workers started one by one, forked from a warm template (a batch), and on the portable path (what
    Windows runs: standard streams as pipes, waited on by threads): the same guarantees hold."""
    if request.param == "forked" and template is None:
        pytest.skip("this OS cannot fork workers from a template")
    if request.param == "portable":
        monkeypatch.setenv("GATELAB_SANDBOX", "portable")
    made: list[Sandbox] = []

    def make(limits: Limits = LIMITS, forbid=()) -> Sandbox:
        box = Sandbox(submission, limits, forbid=forbid, template=template if request.param == "forked" else None)
        made.append(box)
        return box

    yield make
    for box in made:
        box.close()


def test_the_sandbox_path_is_chosen_by_gatelab_sandbox(monkeypatch):
    """auto (or unset) picks the OS's own path; portable forces the one every OS has; a misspelt value is
    refused with what to write instead (never ignored)."""
    from gatelab.errors import UsageError
    from gatelab.grading.launch import sandbox_mode

    monkeypatch.delenv("GATELAB_SANDBOX", raising=False)
    native = "portable" if sys.platform == "win32" else "posix"
    assert sandbox_mode() == native
    monkeypatch.setenv("GATELAB_SANDBOX", " Portable ")
    assert sandbox_mode() == "portable" and not forkserver.available()
    monkeypatch.setenv("GATELAB_SANDBOX", "auto")
    assert sandbox_mode() == native
    monkeypatch.setenv("GATELAB_SANDBOX", "portabel")
    with pytest.raises(UsageError, match="GATELAB_SANDBOX='portabel' is not known: use auto"):
        sandbox_mode()


def pid_exists(pid: int) -> bool:
    if sys.platform == "win32":  # os.kill(pid, 0) would send CTRL_C_EVENT there
        import ctypes

        kernel = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        kernel.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


OK_MODULE = """
    import os
    def ok():
        return 42
    def pid():
        return os.getpid()
"""


# --- normal calls -------------------------------------------------------------------------------


def test_normal_call_returns_ok_with_the_value(write, sandbox):
    """A well-behaved function comes back with status ok, its value and its timing."""
    write("m", """
        import numpy as np
        def add(a, b):
            return a + b, {"n": 3}
    """)
    box = sandbox()
    outcome = box.call("m", "add", [np.arange(3.0), np.ones(3)])
    assert outcome.status == "ok" and outcome.ok
    value, extra = outcome.value
    assert np.array_equal(value, [1.0, 2.0, 3.0]) and value.dtype == np.float64
    assert extra == {"n": 3}
    assert outcome.error == {} and outcome.message == ""
    assert outcome.aliases is False
    assert 0 <= outcome.seconds < LIMITS.timeout
    assert box.spawned == 1


def test_warnings_are_reported_not_raised(write, sandbox):
    """A warning raised by the student's code is listed in outcome.warnings and the call stays ok."""
    write("m", """
        import numpy as np
        def overflow(x):
            return np.exp(x)
    """)
    outcome = sandbox().call("m", "overflow", [np.array([1000.0])])
    assert outcome.ok and outcome.value[0] == np.inf
    assert any(w.startswith("RuntimeWarning: overflow") for w in outcome.warnings), outcome.warnings


# --- time -------------------------------------------------------------------------------------


def test_infinite_loop_times_out_and_the_worker_is_replaced(write, sandbox):
    """An endless loop gives status timeout; the next call, to another function, runs in a fresh worker."""
    write("m", OK_MODULE + """
    def spin():
        while True:
            pass
    """)
    box = sandbox()
    old_pid = box.call("m", "pid", []).value  # warm up: the import is not part of the timed call
    start = time.monotonic()
    outcome = box.call("m", "spin", [])
    elapsed = time.monotonic() - start
    assert outcome.status == "timeout"
    assert "1 s time limit" in outcome.message
    [where] = outcome.error["frames"]  # where it was stopped, written by the worker shortly before
    assert (where["file"], where["function"]) == ("m.py", "spin") and where["code"] in ("while True:", "pass")
    # stopped after a second of its own time: on a machine whose cores are busy that is more on the clock
    assert LIMITS.timeout <= elapsed < LIMITS.timeout * BACKSTOP + 1.0
    assert not pid_exists(old_pid)  # the spinning worker was killed, not left behind
    after = box.call("m", "ok", [])
    assert after.status == "ok" and after.value == 42
    assert box.spawned == 2


def test_function_is_skipped_after_strikes_timeouts(write, sandbox):
    """After ``strikes`` timeouts a function is reported "skipped" at once, without a worker."""
    write("m", OK_MODULE + """
    import time
    def sleepy():
        time.sleep(60)
    """)
    box = sandbox(Limits(timeout=0.4, memory_mb=512, strikes=2))
    box.call("m", "ok", [])
    assert [box.call("m", "sleepy", []).status for _ in range(2)] == ["timeout", "timeout"]
    spawned = box.spawned
    start = time.monotonic()
    outcome = box.call("m", "sleepy", [])
    assert time.monotonic() - start < QUICK
    assert outcome.status == "skipped"
    assert "m.sleepy" in outcome.message and "2 times" in outcome.message
    assert box.spawned == spawned
    assert box.call("m", "ok", []).value == 42  # only that function is skipped


def test_public_timeouts_count_in_the_hidden_lane_and_never_the_other_way(write, sandbox):
    """Strikes in the public lane hold for the hidden lane (one more hang there would cost a time limit for
    nothing learnt); strikes in the hidden lane never change what the public lane does."""
    write("m", OK_MODULE + """
    import time
    def sleepy():
        time.sleep(60)
    """)
    box = sandbox(Limits(timeout=0.4, memory_mb=512, strikes=2))
    assert [box.call("m", "sleepy", [], lane=HIDDEN).status for _ in range(2)] == ["timeout", "timeout"]
    assert not box.struck("m.sleepy", PUBLIC) and box.struck("m.sleepy", HIDDEN)
    assert box.call("m", "sleepy", [], lane=PUBLIC).status == "timeout"  # a hidden case's hang is not told
    assert box.call("m", "sleepy", [], lane=PUBLIC).status == "timeout"
    other = sandbox(Limits(timeout=0.4, memory_mb=512, strikes=2))
    assert [other.call("m", "sleepy", []).status for _ in range(2)] == ["timeout", "timeout"]
    skipped = other.call("m", "sleepy", [], lane=HIDDEN)
    assert skipped.status == "skipped" and "2 times" in skipped.message
    assert other.call("m", "ok", [], lane=HIDDEN).value == 42


# --- exits and crashes --------------------------------------------------------------------------


def test_sys_exit_at_import_is_an_import_error_for_that_module_only(write, sandbox):
    """sys.exit(0) while importing gives import_error (type SystemExit) and other modules still import."""
    write("quitter", """
        import sys
        sys.exit(0)
        def f():
            return 1
    """)
    write("m", OK_MODULE)
    box = sandbox()
    outcome = box.call("quitter", "f", [])
    assert outcome.status == "import_error" and outcome.phase == "import"
    assert outcome.error["type"] == "SystemExit"
    assert any(frame["file"] == "quitter.py" and frame["line"] == 3 for frame in outcome.error["frames"])
    assert box.call("m", "ok", []).value == 42
    assert box.spawned == 1  # SystemExit was caught: the same worker goes on


def test_os_exit_in_a_function_is_a_crash_and_the_next_call_works(write, sandbox):
    """os._exit(0) inside a call gives status crashed with the exit code; the next call gets a new worker."""
    write("m", OK_MODULE + """
    def leave():
        os._exit(0)
    """)
    box = sandbox()
    old_pid = box.call("m", "pid", []).value
    outcome = box.call("m", "leave", [])
    assert outcome.status == "crashed"
    assert "exit code 0" in outcome.message
    assert not pid_exists(old_pid)
    assert box.call("m", "ok", []).value == 42
    assert box.spawned == 2


def test_an_import_that_ends_the_worker_says_which_file_and_line(write, sandbox):
    """os._exit in a module another imports: the crash names the inner file and its line, outermost first."""
    write("inner", """
        import os
        os._exit(3)
    """)
    write("outer", """
        import inner
        def f():
            return 1
    """)
    outcome = sandbox().call("outer", "f", [])
    assert outcome.status == "crashed" and outcome.phase == "import"
    assert "exit code 3" in outcome.message and outcome.error["signal"] == ""
    assert [(f["file"], f["line"], f["code"]) for f in outcome.error["frames"]] == [
        ("outer.py", 2, "import inner"), ("inner.py", 3, "os._exit(3)")]


@pytest.mark.skipif(sys.platform == "win32", reason="no SIGSEGV on Windows")
def test_a_segfault_in_a_call_names_the_signal_and_the_line(write, sandbox):
    """Native code that reads address 0 kills the worker with SIGSEGV; faulthandler's stack says where."""
    write("m", OK_MODULE + """
    import ctypes
    def crash():
        return ctypes.string_at(0)
    """)
    box = sandbox()
    outcome = box.call("m", "crash", [])
    assert outcome.status == "crashed" and outcome.phase == "call"
    assert outcome.message == "was killed by signal SIGSEGV" and outcome.error["signal"] == "SIGSEGV"
    assert [(f["file"], f["function"], f["code"]) for f in outcome.error["frames"]] == [
        ("m.py", "crash", "return ctypes.string_at(0)")]
    assert box.call("m", "ok", []).value == 42


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="RLIMIT_AS is enforced on Linux only (docs/design/isolation.md)")
def test_huge_allocation_raises_memory_error_and_the_next_call_works(write, sandbox):
    """Allocating 4 GB under a 512 MB cap gives status raised with MemoryError, in the same worker."""
    write("m", OK_MODULE + """
    import numpy as np
    def hog():
        return np.ones(4 * 1024**3 // 8)
    """)
    box = sandbox()
    outcome = box.call("m", "hog", [])
    assert outcome.status == "raised"
    assert outcome.error["type"] == "MemoryError"
    assert box.call("m", "ok", []).value == 42
    assert box.spawned == 1


@pytest.mark.parametrize(
    "raise_line, type_name",
    [
        ("raise KeyboardInterrupt('stop')", "KeyboardInterrupt"),
        ("raise SystemExit(3)", "SystemExit"),
        ("raise GeneratorExit()", "GeneratorExit"),
        ("raise Boom('custom base exception')", "Boom"),
        ("raise Unprintable()", "Unprintable"),
    ],
)
def test_base_exceptions_in_a_call_are_contained(write, sandbox, raise_line, type_name):
    """KeyboardInterrupt, SystemExit and other BaseException subclasses come back as status raised."""
    write("m", OK_MODULE + f"""
    class Boom(BaseException):
        pass
    class Unprintable(Exception):
        def __str__(self):
            raise Boom("not even printable")
    def bad():
        {raise_line}
    """)
    box = sandbox()
    outcome = box.call("m", "bad", [])
    assert outcome.status == "raised"
    assert outcome.error["type"] == type_name
    assert isinstance(outcome.error["message"], str)
    frame = outcome.error["frames"][-1]
    assert frame["file"] == "m.py" and frame["function"] == "bad" and frame["code"] == raise_line
    assert box.call("m", "ok", []).value == 42
    assert box.spawned == 1


# --- import problems ----------------------------------------------------------------------------


def test_syntax_error_is_an_import_error_with_the_line(write, sandbox):
    """A syntax error gives import_error with type SyntaxError, the file, the line and its code."""
    write("broken", """\
        def fine():
            return 1

        def oops(:
            pass
    """)
    outcome = sandbox().call("broken", "fine", [])
    assert outcome.status == "import_error"
    assert outcome.error["type"] == "SyntaxError"
    frame = outcome.error["frames"][-1]
    assert (frame["file"], frame["line"], frame["code"]) == ("broken.py", 4, "def oops(:")


def test_missing_file_is_reported_as_missing(write, sandbox):
    """Calling into a module that has no file gives status missing naming the file."""
    write("m", OK_MODULE)
    outcome = sandbox().call("lstm", "lstm_step", [])
    assert outcome.status == "missing"
    assert outcome.message == "there is no file lstm.py in the submission"


@pytest.mark.parametrize("name", ["absent", "NOT_CALLABLE"])
def test_missing_function_is_reported_as_missing(write, sandbox, name):
    """A function the module does not define (or that is not callable) gives status missing naming it."""
    write("m", OK_MODULE + """
    NOT_CALLABLE = 3
    """)
    box = sandbox()
    outcome = box.call("m", name, [])
    assert outcome.status == "missing"
    assert outcome.message == f"m.py defines no function {name}()"
    assert box.call("m", "ok", []).value == 42


def test_broken_import_is_cached_without_a_new_worker(write, sandbox):
    """A module whose import killed the worker is not imported again: the next call answers at once."""
    write("crasher", """
        import os
        os._exit(5)
    """)
    write("m", OK_MODULE)
    box = sandbox()
    first = box.call("crasher", "f", [])
    assert first.status == "crashed" and first.phase == "import"
    assert "exit code 5" in first.message
    assert box.spawned == 1
    start = time.monotonic()
    second = box.call("crasher", "g", [])
    assert time.monotonic() - start < 0.05
    assert second.status == "crashed" and second.message == first.message
    assert box.spawned == 1  # no worker spawned for the cached failure
    assert box.call("m", "ok", []).value == 42
    assert box.spawned == 2


def test_import_error_is_cached(write, sandbox):
    """A syntax error is reported the same for every later call to that module, without asking the worker."""
    write("broken", "def f(:\n    pass\n")
    box = sandbox()
    first = box.call("broken", "f", [])
    box.close()  # no worker left: a second call that needed one would have to spawn
    start = time.monotonic()
    second = box.call("broken", "other", [])
    assert time.monotonic() - start < 0.05
    assert second.status == "import_error" and second.error == first.error
    assert box.spawned == 1


def test_hanging_import_times_out_once(write, sandbox):
    """A module whose import never ends costs one timeout; later calls to it return at once."""
    write("hang", """
        while True:
            pass
    """)
    box = sandbox(Limits(timeout=0.5, memory_mb=512))
    first = box.call("hang", "f", [])
    assert first.status == "timeout" and first.phase == "import"
    start = time.monotonic()
    assert box.call("hang", "g", []).status == "timeout"
    assert time.monotonic() - start < 0.05
    assert box.spawned == 1


# --- output -------------------------------------------------------------------------------------

FAKE_FRAME = wire.encode({"status": "ok", "value": 999})


def test_printed_output_is_captured(write, sandbox):
    """What the module prints at import and in the call is in outcome.output, in order."""
    write("m", """
        import sys
        print("importing")
        def talk(x):
            print("x is", x)
            print("to stderr", file=sys.stderr)
            return x + 1
    """)
    box = sandbox()
    outcome = box.call("m", "talk", [1])
    assert outcome.value == 2
    assert outcome.output == "importing\nx is 1\nto stderr\n"
    assert box.call("m", "talk", [5]).output == "x is 5\nto stderr\n"  # only what this call printed


def test_printed_output_is_bounded(write, sandbox):
    """Output past ``output_chars`` is cut and says so."""
    write("m", """
        def chatty():
            print("y" * 10_000)
            return 1
    """)
    outcome = sandbox(Limits(timeout=1.0, memory_mb=512, output_chars=100)).call("m", "chatty", [])
    assert outcome.ok and outcome.value == 1
    assert outcome.output.startswith("y" * 100 + "\n")
    assert "output cut at 100 characters" in outcome.output
    assert len(outcome.output) < 150


def test_multibyte_output_cut_says_so(write, sandbox):
    """Cut output says it was cut even when every character is several bytes long."""
    write("m", """
        def emoji():
            print("\\U0001F600" * 1000)
            return 1
    """)
    outcome = sandbox(Limits(timeout=1.0, memory_mb=512, output_chars=100)).call("m", "emoji", [])
    assert outcome.ok
    assert "output cut" in outcome.output


def test_loud_import_does_not_break_the_call(write, sandbox):
    """A module that prints past half of output_mb at import still gets an Outcome, never an exception."""
    write("loud", """
        print("x" * 700_000)
        def f():
            return 1
    """)
    outcome = sandbox(Limits(timeout=1.0, memory_mb=512, output_mb=1)).call("loud", "f", [])
    assert outcome.status in {"ok", "crashed", "import_error", "protocol"}


def test_printed_frame_is_never_taken_for_a_result(write, sandbox):
    """Bytes that look like a reply frame, printed to stdout/stderr, stay output; the real value wins."""
    write("m", f"""
        import os, sys
        FRAME = {FAKE_FRAME!r}
        def liar():
            sys.stdout.buffer.write(FRAME)
            sys.stdout.flush()
            sys.__stderr__.buffer.write(FRAME)
            os.write(1, FRAME)
            os.write(2, FRAME)
            return 1
        def honest():
            return 2
    """)
    box = sandbox()
    outcome = box.call("m", "liar", [])
    assert outcome.status == "ok" and outcome.value == 1
    assert outcome.output.count('"value": 999') == 4
    after = box.call("m", "honest", [])  # the reply stream is still in step
    assert after.status == "ok" and after.value == 2 and after.output == ""


def test_endless_printing_is_stopped_and_the_next_call_works(write, sandbox):
    """A print loop is stopped by the output cap (status not ok, output cut) and the next call works."""
    write("m", OK_MODULE + """
    def spam():
        while True:
            print("spam " * 50)
    """)
    box = sandbox(Limits(timeout=1.0, memory_mb=512, output_mb=1))
    start = time.monotonic()
    outcome = box.call("m", "spam", [])
    assert time.monotonic() - start < LIMITS.timeout + 0.5
    assert outcome.status != "ok" or "output cut" in outcome.output
    assert "output cut at 2000 characters" in outcome.output
    assert len(outcome.output) < 2100
    assert box.call("m", "ok", []).value == 42


def test_endless_printing_that_ignores_errors_times_out(write, sandbox):
    """A print loop that swallows the 'file too large' error is stopped by the timeout instead."""
    write("m", OK_MODULE + """
    def stubborn():
        while True:
            try:
                print("spam " * 50)
            except BaseException:
                pass
    """)
    box = sandbox(Limits(timeout=0.5, memory_mb=512, output_mb=1))
    box.call("m", "ok", [])
    outcome = box.call("m", "stubborn", [])
    assert outcome.status == "timeout"
    assert len(outcome.output) < 2100
    assert box.call("m", "ok", []).value == 42


# --- refused operations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, refusal",
    [
        ("open(target, 'w').write('x')", "writing files"),
        ("open(target, 'ab')", "writing files"),
        ("os.close(os.open(target, os.O_WRONLY | os.O_CREAT))", "writing files"),
        ("pathlib.Path(target).write_text('x')", "writing files"),
        ("np.save(target, np.zeros(2))", "writing files"),
        ("subprocess.run(['touch', target])", "start another program"),
        ("os.system('touch ' + target)", "run a shell command"),
        ("os.fork()", "fork the process"),
        ("os.execv('/bin/sh', ['sh'])", "replace the process"),
        ("os.kill(os.getppid(), 9)", "send signals"),
        ("socket.create_connection(('127.0.0.1', 9))", "open network connections"),
    ],
    ids=["open-w", "open-ab", "os.open", "pathlib", "np.save", "subprocess", "os.system", "fork", "exec", "kill",
         "socket"],
)
def test_writing_files_starting_processes_and_connecting_are_refused(write, sandbox, tmp_path, body, refusal):
    """File writes, subprocesses, shells, fork, exec, signals and sockets raise PermissionError: status raised."""
    write("m", f"""
        import os, pathlib, socket, subprocess
        import numpy as np
        def sneaky(target):
            {body}
    """)
    target = tmp_path / "touched.npy"
    outcome = sandbox().call("m", "sneaky", [str(target)])
    assert outcome.status == "raised"
    assert outcome.error["type"] == "PermissionError"
    assert refusal in outcome.error["message"]
    assert not target.exists()


def test_reading_outside_the_submission_is_refused(write, sandbox):
    """Reading or listing anything but the submission's own files and the Python installation is refused:
    a folder passed in forbid=[...] (directly or through a symlink), any other file, another process's /proc."""
    scratch = tempfile.TemporaryDirectory(prefix="gatelab-test-")  # readable by all, so the hook is what refuses
    tmp_path = Path(scratch.name)
    tmp_path.chmod(0o755)
    secret = tmp_path / "hidden_tests"
    secret.mkdir()
    (secret / "answers.txt").write_text("the answers")
    (tmp_path / "public.txt").write_text("public")
    for path in (secret, secret / "answers.txt", tmp_path / "public.txt"):
        path.chmod(path.stat().st_mode | 0o755)
    (tmp_path / "link.txt").symlink_to(secret / "answers.txt")
    write("m", """
        import os
        def read(path):
            with open(path) as f:
                return f.read()
        def listing(path):
            return sorted(os.listdir(path))
        def own_source():
            with open(__file__) as f:
                return f.read()[:20]
        def numpy_source():
            import numpy
            with open(numpy.__file__) as f:
                return len(f.read()) > 0
    """)
    box = sandbox(forbid=[secret])
    refusals = {secret / "answers.txt": "outside your submission", tmp_path / "link.txt": "outside your submission",
                tmp_path / "public.txt": "outside your submission", Path("/etc/passwd"): "outside your submission",
                Path(f"/proc/{os.getpid()}/environ"): "other processes' files"}
    for path, says in refusals.items():
        outcome = box.call("m", "read", [str(path)])
        assert outcome.status == "raised" and outcome.error["type"] == "PermissionError", path
        assert says in outcome.error["message"], (path, outcome.error["message"])
    listed = box.call("m", "listing", [str(tmp_path)])
    assert listed.status == "raised" and "outside your submission" in listed.error["message"]
    assert box.call("m", "own_source", []).value.startswith("\nimport os")
    numpy_read = box.call("m", "numpy_source", [])
    assert numpy_read.value is True, numpy_read.error
    scratch.cleanup()


def test_modules_not_imported_before_the_worker_dropped_root_still_import(write, sandbox):
    """Standard-library and numpy modules the worker did not load in advance import as usual, compiled ones
    too, even where the worker runs as a user who cannot read the interpreter's folders (pyenv under a 0700
    /root): Landlock, not the folders' modes, decides what a worker reads."""
    write("m", """
        import statistics, fractions, decimal, numpy.polynomial
        def f():
            import numpy.testing  # loads _csv and more, none of them preloaded
            return statistics.mean([1, 2, 6]) + float(fractions.Fraction(1, 2)) + float(decimal.Decimal("0.25"))
        def compiled():
            import _csv
            return 1
    """)
    box = sandbox()
    assert box.call("m", "f", []).value == 3.75
    outcome = box.call("m", "compiled", [])
    assert outcome.value == 1, outcome.error


# --- what the call did to its inputs -------------------------------------------------------------


@pytest.mark.parametrize("fn, aliases", [("same", True), ("view", True), ("nested", True), ("copy", False)])
def test_returning_an_input_array_sets_aliases(write, sandbox, fn, aliases):
    """Returning an input array itself (or a view of it) sets outcome.aliases; a copy does not."""
    write("m", """
        def same(x):
            return x
        def view(x):
            return x[::2]
        def nested(x):
            return {"out": [x]}
        def copy(x):
            return x.copy()
    """)
    x = np.arange(6.0)
    outcome = sandbox().call("m", fn, [x])
    assert outcome.ok
    assert outcome.aliases is aliases


def test_mutating_an_input_shows_in_args_after(write, sandbox):
    """An input changed in place comes back changed in outcome.args_after; the grader's copy is untouched."""
    write("m", """
        import numpy as np
        def clip(x, params):
            np.clip(x, -1.0, 1.0, out=x)
            params["W"] *= 0
            return None
    """)
    x = np.array([-5.0, 0.5, 5.0])
    params = {"W": np.ones((2, 2)), "b": np.zeros(2)}
    outcome = sandbox().call("m", "clip", [x, params])
    assert outcome.ok and outcome.value is None
    x_after, params_after = outcome.args_after
    assert np.array_equal(x_after, [-1.0, 0.5, 1.0])
    assert np.array_equal(params_after["W"], np.zeros((2, 2)))
    assert np.array_equal(params_after["b"], np.zeros(2))
    assert np.array_equal(x, [-5.0, 0.5, 5.0])  # the worker only ever had a copy
    assert np.array_equal(params["W"], np.ones((2, 2)))


# (what the student's function does to its arguments, whether they come back, what the judge finds changed)
ARGUMENT_CHANGES = [("pass", False, []), ("params['W'] = params['W'] + 0.0", False, []),
                    ("params['extra'] = 1", True, ["params"]), ("x[0] = -0.0", True, []),
                    ("x.shape = (3, 1)", True, ["x"])]


@pytest.mark.parametrize("change, sent_back, changed", ARGUMENT_CHANGES)
def test_arguments_come_back_only_when_the_call_changed_them(write, sandbox, change, sent_back, changed):
    """The worker sends a call's arguments back only when they changed (a key added, the sign of a zero, a
    shape); unchanged, the outcome holds the very arguments sent, so there is nothing to decode or compare;
    either way the judge's comparison reads them as before."""
    write("m", f"""
        def f(x, params):
            {change}
            return 1.0
    """)
    x, params = np.array([0.0, 1.0, 2.0]), {"W": np.ones((2, 2))}
    box = sandbox()
    for outcome in [box.call("m", "f", [x, params]), *box.call_many([("m", "f", [x, params])] * 2)[1:]]:
        assert outcome is not None and outcome.ok
        assert all(a is b for a, b in zip(outcome.args_after, [x, params])) is not sent_back
        assert [name for name, a, b in zip(["x", "params"], [x, params], outcome.args_after)
                if diagnostics.equal_inputs(a, b)] == changed


def test_generator_return_comes_back_unsupported(write, sandbox):
    """A function that returns a generator (or another object) gives an ok outcome holding wire.Unsupported."""
    write("m", """
        def gen(x):
            for v in x:
                yield v
        class Thing:
            pass
        def thing():
            return Thing()
    """)
    box = sandbox()
    outcome = box.call("m", "gen", [[1, 2]])
    assert outcome.ok
    assert isinstance(outcome.value, wire.Unsupported) and outcome.value.type_name == "generator"
    other = box.call("m", "thing", [])
    assert isinstance(other.value, wire.Unsupported) and other.value.type_name == "Thing"


def test_result_whose_str_hangs_times_out(write, sandbox):
    """A returned object whose __str__ loops forever (run while encoding) is timed out, not hung on."""
    write("m", OK_MODULE + """
    class Sticky:
        def __str__(self):
            while True:
                pass
    def sticky():
        return Sticky()
    """)
    box = sandbox(Limits(timeout=0.5, memory_mb=512))
    box.call("m", "ok", [])
    outcome = box.call("m", "sticky", [])
    assert outcome.status == "timeout"
    assert box.call("m", "ok", []).value == 42


# --- nothing left behind ------------------------------------------------------------------------


def test_close_leaves_no_worker_behind(write, sandbox):
    """After Sandbox.close() the worker process no longer exists (killed and reaped)."""
    write("m", OK_MODULE)
    box = sandbox()
    pid = box.call("m", "pid", []).value
    assert pid != os.getpid() and pid_exists(pid)
    box.close()
    assert not pid_exists(pid)
    box.close()  # closing twice is harmless


def test_context_manager_closes_the_worker(write, submission):
    """Leaving a ``with Sandbox(...)`` block kills the worker, even when the block raised."""
    write("m", OK_MODULE)
    with pytest.raises(RuntimeError):
        with Sandbox(submission, LIMITS) as box:
            pid = box.call("m", "pid", []).value
            raise RuntimeError("grader failed")
    assert not pid_exists(pid)


# --- what the worker can reach ------------------------------------------------------------------


def test_worker_sees_only_the_allowed_environment(write, sandbox, monkeypatch):
    """A variable of the grader's environment that is not on the allow list never reaches the worker."""
    from gatelab.grading.launch import WORKER_ENV

    monkeypatch.setenv("GATELAB_FAKE_SECRET", "s3cr3t")
    write("m", """
        import os
        def env():
            return sorted(os.environ)
    """)
    names = sandbox().call("m", "env", []).value
    assert "GATELAB_FAKE_SECRET" not in names
    assert set(names) <= set(WORKER_ENV) | {"HOME", "TMPDIR", "TMP", "TEMP", "OPENBLAS_NUM_THREADS",
                                           "OMP_NUM_THREADS", "MKL_NUM_THREADS", "LC_CTYPE"}


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only a root grader drops privileges")
def test_a_root_grader_runs_student_code_unprivileged(write, sandbox):
    """Under root, the worker runs as an unprivileged user for good: it cannot become root again."""
    write("m", """
        import os
        def who():
            try:
                os.setuid(0)
            except OSError as exc:
                return [os.getuid(), os.geteuid(), type(exc).__name__]
            return [os.getuid(), os.geteuid(), "became root"]
    """)
    uid, euid, regain = sandbox().call("m", "who", []).value
    assert uid != 0 and euid != 0 and regain == "PermissionError"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_the_grading_process_is_not_dumpable(write, sandbox):
    """Once a sandbox has started, the grader's /proc entries are closed to processes of its user."""
    write("m", OK_MODULE)
    sandbox().call("m", "ok", [])
    status = Path("/proc/self/status").read_text()
    assert "\n" in status  # readable by itself
    import ctypes

    assert ctypes.CDLL(None).prctl(3, 0, 0, 0, 0) == 0  # PR_GET_DUMPABLE


def test_the_budget_skips_calls_once_spent(write, sandbox):
    """After the submission's wall-clock budget is spent, calls come back at once with status budget."""
    write("m", OK_MODULE + """
    import time
    def nap():
        time.sleep(0.4)
        return 1
    """)
    box = sandbox(Limits(timeout=1.0, memory_mb=512, budget=1.0))
    box.call("m", "ok", [])
    outcomes = [box.call("m", "nap", []) for _ in range(4)]
    assert outcomes[-1].status == "budget" and "time budget" in outcomes[-1].message
    start = time.monotonic()
    assert box.call("m", "ok", []).status == "budget"
    assert time.monotonic() - start < QUICK


def test_parts_are_served_only_when_asked_for(write, sandbox):
    """During a call with parts, the function's calls to them are answered by the trusted side; at any other
    time, and for any other name, the stand-in's request is refused."""
    write("m", """
        KEPT = {}
        def part(x):
            return -1.0
        def composite(x):
            KEPT["part"] = part
            return part(x) + 1
        def replay(x):
            return KEPT["part"](x)
    """)
    box = sandbox()
    served = box.call("m", "composite", [2.0], {"m.part": lambda x: x * 10})
    assert served.ok and served.value == 21.0
    replayed = box.call("m", "replay", [2.0])  # the stand-in it kept, called later
    assert replayed.status == "raised" and replayed.error["type"] == "PartError"
    assert "not served by the grader now" in replayed.error["message"]
    assert box.call("m", "composite", [2.0]).value == 0.0  # its own part again after the served call


def test_lanes_never_share_a_worker(write, sandbox):
    """What a call in the hidden lane leaves behind in its worker is not there for a call in the public lane."""
    write("m", """
        import os
        SEEN = []
        def see(x):
            SEEN.append(x)
            return [os.getpid(), list(SEEN)]
    """)
    box = sandbox()
    hidden_pid, _ = box.call("m", "see", ["hidden input"], lane="hidden").value
    public_pid, seen = box.call("m", "see", ["public input"], lane="public").value
    assert hidden_pid != public_pid and seen == ["public input"]


# --- workers forked from a warm template ----------------------------------------------------------


@pytest.mark.skipif(not forkserver.available(), reason="this OS cannot fork workers from a template")
def test_a_forked_worker_inherits_nothing_of_an_earlier_submissions_worker(tmp_path, template):
    """Each submission's worker is a fresh fork of a template that never ran student code: what one student's
    code leaves in numpy, in its modules or in the environment is not there for the next."""
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
    (first / "m.py").write_text("import os, numpy\ndef leave():\n    numpy.left_behind = 'answers'\n"
                                "    os.environ['LEFT'] = '1'\n    return os.getpid()\n")
    (second / "m.py").write_text("import os, sys, numpy\ndef look():\n    return [os.getpid(), "
                                 "hasattr(numpy, 'left_behind'), 'LEFT' in os.environ, 'm' in sys.modules]\n")
    with Sandbox(first, LIMITS, template=template) as one:
        pid = one.call("m", "leave", []).value
    with Sandbox(second, LIMITS, template=template) as two:
        other, left, env, _ = two.call("m", "look", []).value
    assert other != pid and not left and not env


@pytest.mark.skipif(not forkserver.available(), reason="this OS cannot fork workers from a template")
def test_a_sandbox_whose_template_died_starts_its_workers_itself(write, submission):
    write("m", OK_MODULE)
    dead = forkserver.start()
    assert dead is not None
    dead.process.kill()
    dead.process.wait()
    with Sandbox(submission, LIMITS, template=dead) as box:
        assert box.call("m", "ok", []).value == 42
    dead.close()


def test_a_template_that_stops_answering_leaves_the_worker_to_start_on_its_own(write, submission):
    """A template that is alive but refuses or stops answering costs nothing: the worker is started alone."""
    write("m", OK_MODULE)

    class Silent:
        def alive(self) -> bool:
            return True

        def fork(self, options, fds):
            raise OSError("the worker template did not answer")

    with Sandbox(submission, LIMITS, template=Silent()) as box:
        assert box.call("m", "ok", []).value == 42


# --- several calls in one round trip --------------------------------------------------------------


def test_calls_sent_together_come_back_in_order_each_with_its_own_output(write, sandbox):
    write("m", """
        def echo(x):
            print("got", x)
            return x * 2
    """)
    box = sandbox()
    outcomes = box.call_many([("m", "echo", [n]) for n in range(5)])
    assert [o.value for o in outcomes] == [0, 2, 4, 6, 8]
    assert [o.output for o in outcomes] == [f"got {n}\n" for n in range(5)]


def test_a_call_that_hangs_among_calls_sent_together_stops_there(write, sandbox):
    """The hanging call times out (as alone); the ones after it are left to be made one by one."""
    write("m", """
        def maybe(x):
            while x == 2:
                pass
            return x
    """)
    box = sandbox()
    start = time.monotonic()
    outcomes = box.call_many([("m", "maybe", [n]) for n in range(5)])
    assert [o.value for o in outcomes[:2]] == [0, 1]
    assert outcomes[2].status == "timeout" and outcomes[3:] == [None, None]
    assert time.monotonic() - start < LIMITS.timeout + 2.0
    assert box.call("m", "maybe", [3]).value == 3  # a fresh worker


def test_a_call_that_cuts_the_pipes_among_calls_sent_together_keeps_the_replies_before_it(write, sandbox):
    """A call that closes every descriptor stops the worker reading requests: the replies it wrote before are
    still read, and only that call is lost."""
    write("m", """
        import os
        def f(x, padding):
            if x == 3:
                for fd in range(3, 256):
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            return x
    """)
    padding = np.zeros(1000)  # the requests are more than a pipe holds: some are still to be written
    outcomes = sandbox().call_many([("m", "f", [n, padding]) for n in range(50)])
    assert [o.value for o in outcomes[:3]] == [0, 1, 2]
    assert outcomes[3].status == "crashed" and set(outcomes[4:]) == {None}


def test_calls_into_several_modules_go_together_each_imported_once(write, sandbox):
    """Calls into other modules are sent together too: each module is imported first (what it printed then
    goes with its first call), a module that cannot be imported answers its calls with why (one import error,
    kept), and the calls into the others are made."""
    write("a", """
        print("importing a")
        def f(x):
            return x + 1
    """)
    write("b", """
        print("importing b")
        def g(x):
            return x * 10
    """)
    write("broken", "def h(:\n    pass\n")
    box = sandbox()
    calls = [("a", "f", [1]), ("b", "g", [1]), ("broken", "h", [1]), ("a", "f", [2]), ("b", "g", [2])]
    outcomes = box.call_many(calls)
    assert [o.value for o in outcomes if o is not None] == [2, 10, 3, 20]
    assert [o.output for o in outcomes if o is not None] == ["importing a\n", "importing b\n", "", ""]
    assert outcomes[2] is None  # not sent: made alone, it says why at once
    again = box.call("broken", "h", [1])
    assert again.status == "import_error" and again.error["type"] == "SyntaxError"
    assert box.spawned == 1


@pytest.fixture
def busy_cores():
    """Three endless loops per core, each in a session of its own, for the length of the test."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
            for _ in range(3 * (os.cpu_count() or 1))]
    time.sleep(0.3)
    yield
    for hog in hogs:
        hog.kill()
        hog.wait()


LINUX_PROC = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="active time is read from /proc")


@pytest.mark.load
@LINUX_PROC
def test_time_spent_waiting_for_a_core_is_not_charged(write, sandbox, busy_cores):
    """On a machine whose cores are all busy, a call that needs 0.5 s of CPU takes longer than its 1 s limit on
    the wall clock, and still returns: its limit counts the CPU it used, not the queue it waited in."""
    write("m", """
        import time
        def burn():
            start = time.process_time()
            while time.process_time() - start < 0.5:
                pass
            return 1
    """)
    box = sandbox()
    box.call("m", "burn", [])  # the import and the first call, as in a test run
    started = time.monotonic()
    outcomes = [box.call("m", "burn", []) for _ in range(3)]
    assert [o.status for o in outcomes] == ["ok"] * 3, [o.message for o in outcomes]
    assert time.monotonic() - started > 3 * LIMITS.timeout, "the load must slow the calls, or this shows nothing"


@pytest.fixture
def crowded_core():
    """Eight endless loops on the first core, each in a session of its own."""
    spin = "import os\nos.sched_setaffinity(0, {0})\nwhile True:\n    pass\n"
    hogs = [subprocess.Popen([sys.executable, "-c", spin], start_new_session=True) for _ in range(8)]
    time.sleep(0.3)
    yield
    for hog in hogs:
        hog.kill()
        hog.wait()


@pytest.mark.load
@LINUX_PROC
def test_a_call_starved_of_cpu_meets_the_wall_clock_backstop(write, sandbox, crowded_core):
    """A worker that gets a ninth of a core (it moved onto a core eight others keep busy) is stopped after
    BACKSTOP times its limit on the wall clock, and told the machine was too busy, not that it loops."""
    write("m", """
        import os
        def starve():
            os.sched_setaffinity(0, {0})
            while True:
                pass
    """)
    box = sandbox(Limits(timeout=0.5, memory_mb=512))
    started = time.monotonic()
    outcome = box.call("m", "starve", [])
    assert outcome.status == "timeout"
    assert "too busy" in outcome.message and "not your code's fault" in outcome.message, outcome.message
    assert time.monotonic() - started >= 0.5 * BACKSTOP


def test_the_time_a_worker_waits_for_the_grader_is_not_its_own():
    """While the grader computes a served part, the worker is blocked on its pipe: the stopwatch pauses."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        watch = Stopwatch(sleeper.pid)
        time.sleep(0.2)
        before = watch.active()
        watch.pause()
        time.sleep(0.6)
        watch.resume()
        assert before >= 0.15 and watch.active() < before + 0.2 and watch.wall() < 0.6
    finally:
        sleeper.kill()
        sleeper.wait()


def test_calls_sent_together_stop_when_the_budget_ends(write, sandbox):
    """However many calls go together, the replies stop being awaited when the submission's budget ends: each
    call within the time limit of the one before is no way past the budget."""
    write("m", """
        import time
        def slow(x):
            time.sleep(0.3)
            return x
    """)
    limits = Limits(timeout=1.0, memory_mb=512, budget=3.0)  # the budget also pays the worker's start (numpy's
    box = sandbox(limits)                                      # import: over a second on a loaded CI machine)
    start = time.monotonic()
    outcomes = box.call_many([("m", "slow", [n]) for n in range(20)])
    assert time.monotonic() - start < limits.budget + limits.timeout
    made = [o for o in outcomes if o is not None]
    assert [o.status for o in made[:3]] == ["ok"] * 3 and made[-1].status == "budget"
    assert "time budget" in made[-1].message
    assert box.call("m", "slow", [0]).status == "budget"


def test_a_crash_among_calls_sent_together_stops_there(write, sandbox):
    write("m", """
        import os
        def maybe(x):
            if x == 1:
                os._exit(3)
            return x
    """)
    outcomes = sandbox().call_many([("m", "maybe", [n]) for n in range(3)])
    assert outcomes[0].value == 0 and outcomes[1].status == "crashed" and outcomes[2] is None
    assert "exit code 3" in outcomes[1].message


@pytest.mark.skipif(not forkserver.available(), reason="this OS cannot fork workers from a template")
def test_a_request_given_up_midway_never_answers_a_later_one(write, submission, template):
    """A fork interrupted after its request was sent (Ctrl-C) leaves its reply unread: the next sandbox still
    gets its own worker, not the abandoned one."""
    import socket as sockets

    write("m", OK_MODULE)
    abandoned = [os.pipe(), os.pipe()]
    with tempfile.TemporaryFile() as output, tempfile.TemporaryFile() as stacks:
        options = ["--submission", str(submission), "--cwd", str(submission)]
        template._requests += 1
        sockets.send_fds(template._control, [wire.encode({"argv": options, "request": template._requests})],
                         [abandoned[0][0], abandoned[1][1], output.fileno(), stacks.fileno()])
        with Sandbox(submission, LIMITS, template=template) as box:
            pid = box.call("m", "pid", []).value
            assert pid == box._processes["public"].process.pid
    for read, written in abandoned:
        os.close(read)
        os.close(written)
