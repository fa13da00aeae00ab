"""grade check --watch: what a save regrades, what it shows, and the command in a real terminal."""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from conftest import COURSE, write_submission
from gatelab import watching
from gatelab.cli import main
from gatelab.report.render import Renderer

TANH_GATE = ('return sigmoid(params["Wf"] @ concat + params["bf"])',
             'return np.tanh(params["Wf"] @ concat + params["bf"])')


def _files(folder: Path, sources: dict[str, str]) -> Path:
    for name, text in sources.items():
        (folder / name).write_text(text)
    return folder


def test_a_change_regrades_the_module_and_every_module_importing_it(tmp_path: Path) -> None:
    folder = _files(tmp_path, {
        "activations.py": "import numpy as np\n",
        "lstm.py": "from activations import sigmoid\n",
        "gru.py": "import helpers as h\n",
        "helpers.py": "from activations import tanh\n",
        "rnn.py": "import numpy\n",
        "gradients.py": "from rnn import rnn_cell_forward\n"})
    graph = watching.import_graph(folder)
    assert watching.affected(graph, {"activations"}) == {"activations", "lstm", "helpers", "gru"}
    assert watching.affected(graph, {"rnn"}) == {"rnn", "gradients"}
    assert watching.affected(graph, {"lstm"}) == {"lstm"}
    assert watching.affected({"gru": None}, set()) == set()  # answers.yaml alone: no module, however broken


def test_a_file_whose_imports_cannot_be_told_counts_as_importing_everything(tmp_path: Path) -> None:
    folder = _files(tmp_path, {"rnn.py": "import numpy\n", "lstm.py": "def broken(:\n",
                               "gru.py": "import importlib\nimportlib.import_module('rnn')\n"})
    assert watching.affected(watching.import_graph(folder), {"rnn"}) == {"rnn", "lstm", "gru"}
    assert watching.imports_of("from . import x\n") is None
    assert watching.module_of(folder / "__pycache__" / "rnn.py", folder) is None
    assert watching.module_of(folder / "notes.txt", folder) is None



def test_a_symbolic_link_is_never_read_to_tell_what_a_save_regrades(tmp_path: Path) -> None:
    """A link to a 600 MB file (sparse: no disk) among the submission's modules is not followed: the import
    graph is built in well under the file's size in memory and time, and the link is no module of it."""
    import tracemalloc

    folder = _files(tmp_path, {"rnn.py": "import numpy\n", "lstm.py": "from rnn import x\n"})
    with open(folder / "huge.bin", "wb") as huge:
        huge.truncate(600 * 2**20)
    (folder / "huge.py").symlink_to(folder / "huge.bin")
    (folder / "gru.py").symlink_to(folder / "huge.bin")
    tracemalloc.start()
    started = time.monotonic()
    try:
        graph = watching.import_graph(folder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20 and time.monotonic() - started < 2, (peak, time.monotonic() - started)
    assert set(graph) == {"rnn", "lstm"}
    assert watching.affected(graph, {"rnn"}) == {"rnn", "lstm"}

@pytest.fixture
def watcher(assignment, tmp_path: Path):
    folder = write_submission(tmp_path / "work", {})
    made = watching.Watcher(assignment, folder, Renderer(assignment.grader / "templates"))
    yield made
    made.close()


def test_a_save_shows_only_the_feedback_that_changed(watcher) -> None:
    first = click.unstyle(watcher.first())
    assert "lstm\n" in first and "Score: " in first
    before, total = watcher.results.score, watcher.results.max_score
    lstm = watcher.folder / "lstm.py"
    lstm.write_text(lstm.read_text().replace(*TANH_GATE))
    shown = click.unstyle(watcher.regrade({lstm}))
    assert "lstm.py changed; regraded lstm" in shown.splitlines()[0]
    assert "lstm.forget_gate" in shown and "tanh" in shown
    rows = [line.split()[:2] for line in shown.splitlines() if line.startswith(("  ✗", "  ✓"))]
    # the gate fails; the composites keep their points on their own work, with a new remark; nothing else shows
    assert rows == [["✗", "lstm.forget_gate"], ["✓", "lstm.lstm_cell_forward"], ["✓", "lstm.lstm_forward"]]
    assert "fix lstm.forget_gate first" in shown
    gate = sum(t.max_score for t in watcher.results.tests if t.function == "lstm.forget_gate")
    assert gate >= 5 and watcher.results.score == pytest.approx(before - gate) and watcher.results.max_score == total
    assert f"Score: {watcher.results.score:g}/{total:g}" in shown
    watcher.prepare()
    again = click.unstyle(watcher.regrade({lstm}))
    assert "No feedback changed." in again


def test_a_file_name_that_carries_terminal_escapes_is_spelt_out(watcher) -> None:
    """A saved file's name is the student's: its escape sequences (an OSC 8 link, a cleared screen, a carriage
    return) are spelt out in what a save shows; only the report's own styles reach the terminal."""
    import re

    watcher.first()
    name = "notes\x1b]8;;evil.example\x07\x1b[2J\r.py"
    (watcher.folder / name).write_text("x = 1\n")
    text = watcher.regrade([watcher.folder / name])
    assert "notes\\x1b]8;;evil.example\\x07\\x1b[2J\\x0d.py changed" in text
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", re.sub(r"\x1b\[[0-9;]*m", "", text)), text

def test_a_syntax_error_while_typing_is_feedback_and_answers_regrade_the_quiz(watcher) -> None:
    watcher.first()
    gru = watcher.folder / "gru.py"
    gru.write_text(gru.read_text() + "\ndef half_typed(:\n")
    shown = click.unstyle(watcher.regrade({gru}))
    assert "SyntaxError" in shown and "gru.update_gate" in shown and "lstm." not in shown
    watcher.prepare()
    answers = watcher.folder / "answers.yaml"
    answers.write_text("lstm-forget-gate-role: b\n")
    quiz = click.unstyle(watcher.regrade({answers}))
    assert "regraded quiz" in quiz.splitlines()[0] and "lstm-forget-gate-role" in quiz and "gru." not in quiz


def test_without_watchfiles_the_command_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "watchfiles", None)
    result = CliRunner().invoke(main, ["check", "--watch", "--assignment", str(COURSE)])
    assert result.exit_code == 2
    assert 'pip install "gatelab[watch]"' in result.output


HANDED_DOWN = {"default": None,  # how the process that starts grade check left SIGINT (an IDE, a test worker)
               "ignored": lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
               "blocked": lambda: signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})}


@pytest.mark.skipif(sys.platform == "win32", reason="pexpect's pseudo-terminal is POSIX's")
@pytest.mark.parametrize("sigint", sorted(HANDED_DOWN))
def test_watch_in_a_real_terminal_regrades_on_save_and_stops_cleanly_on_ctrl_c(tmp_path: Path, sigint: str) -> None:
    """Also when the parent handed SIGINT down ignored or blocked (seen in CI: the watch never stopped)."""
    pexpect = pytest.importorskip("pexpect")
    folder = write_submission(tmp_path / "work", {})
    child = pexpect.spawn(sys.executable, ["-m", "gatelab", "check", "lstm", "--watch", "--assignment", str(COURSE),
                                           "--submission", str(folder)],
                          encoding="utf-8", timeout=30, dimensions=(60, 200),
                          env={**os.environ, "NO_COLOR": "1", "PYTHONFAULTHANDLER": "1"},
                          preexec_fn=HANDED_DOWN[sigint])
    try:
        child.expect("Watching .* for changes")
        assert "lstm_forward" in child.before  # the full check first
        time.sleep(0.2)  # the watcher is set up after the line is printed
        lstm = folder / "lstm.py"
        lstm.write_text(lstm.read_text().replace(*TANH_GATE))
        child.expect("lstm.py changed; regraded lstm")
        child.expect(r"Score: 31/38")
        assert "tanh" in child.before and "lstm.input_gate" not in child.before
        child.sendintr()
        if child.expect(["Stopped watching. Score: 31/38", pexpect.TIMEOUT]) == 1:  # seen once in CI, not here
            with open(f"/proc/{child.pid}/status") as status:  # how it was handling SIGINT
                masks = [line for line in status if line.startswith(("SigBlk", "SigIgn", "SigCgt"))]
            child.kill(signal.SIGABRT)  # faulthandler prints where every thread of it was
            child.expect(pexpect.EOF, timeout=10)
            pytest.fail(f"no 'Stopped watching' 30 s after Ctrl-C; {masks}; it was here:\n{child.before[-4000:]}")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0 and "Traceback" not in (child.before or "")


def test_fixing_a_syntax_error_regrades_what_imports_the_file_and_says_so(watcher) -> None:
    """A syntax error in activations.py, then its fix: each save regrades activations and the modules that import
    it (lstm, gru), says exactly that, and leaves rnn and gradients as they were."""
    watcher.first()
    score = watcher.results.score
    kept = {t.name: t for t in watcher.results.tests if t.function.split(".")[0] in ("rnn", "gradients")}
    activations = watcher.folder / "activations.py"
    good = activations.read_text()
    activations.write_text(good + "\ndef half_typed(:\n")
    broken = click.unstyle(watcher.regrade({activations}))
    said = "activations.py changed; regraded activations and the modules that import it: lstm, gru in"
    assert said in broken.splitlines()[0] and "SyntaxError" in broken, broken
    watcher.prepare()
    activations.write_text(good)
    fixed = click.unstyle(watcher.regrade({activations}))
    assert said in fixed.splitlines()[0], fixed
    assert "all functions" not in broken + fixed
    assert watcher.results.score == score  # all right again
    assert all(watcher.results.tests[[t.name for t in watcher.results.tests].index(name)] is test
               for name, test in kept.items())
