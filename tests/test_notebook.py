"""gatelab in Jupyter: `gatelab.check` and its result, the `%grade` magic, and the student release's notebook run
by a real kernel."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

import gatelab
from conftest import COURSE, build_release, write_submission
from gatelab.authoring import notebook as student_notebook
from gatelab.cli import main
from gatelab.course import config

HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)> & </pre></div>"
ACTIVATIONS = ("activations.sigmoid", "activations.sigmoid_derivative", "activations.tanh_derivative")


class _Tags(HTMLParser):
    """Every start tag of a page, and its text with entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


def _parsed(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def test_check_returns_the_score_and_every_test(tmp_path):
    """The result has the score, the maximum and each test's result: full public marks for the reference."""
    submission = write_submission(tmp_path / "reference", {})
    result = gatelab.check("activations", submission, assignment=COURSE)
    assert result.score == result.max_score > 0 and result.full_marks
    assert {t.function for t in result.tests} == set(ACTIVATIONS)
    assert all(t.score == t.max_score for t in result.tests)


def test_str_and_repr_are_what_grade_check_prints(tmp_path):
    """Printed, a result is the command's report word for word (no colour codes), feedback included."""
    submission = write_submission(tmp_path / "tanh", {"lstm": ('return sigmoid(params["Wf"] @ concat + params["bf"])',
                                                              'return np.tanh(params["Wf"] @ concat + params["bf"])')})
    result = gatelab.check("lstm.forget_gate", submission, assignment=COURSE)
    command = CliRunner().invoke(main, ["check", "lstm.forget_gate", "--submission", str(submission),
                                        "--assignment", str(COURSE)], catch_exceptions=False)
    assert command.exit_code == 0, command.output
    assert str(result) == repr(result) == command.output
    assert "known mistake lstm-forget-gate-tanh" in str(result) and "\x1b[" not in str(result)
    assert result.score == 0 < result.max_score


def test_html_escapes_what_the_students_code_printed(tmp_path):
    """Text a submission controls (its printout, under a failing and a passing function) is shown as text in the
    HTML, never as markup: the page holds only the template's own tags."""
    submission = write_submission(tmp_path / "hostile", {"activations": [
        ("    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
         f"    print({HOSTILE!r})\n    return 1.0 / (1.0 + e)"),
        ("    return 1.0 - np.tanh(z) ** 2", f"    print({HOSTILE!r})\n    return 1.0 - np.tanh(z) ** 2")]})
    result = gatelab.check("activations", submission, assignment=COURSE)
    failing = {t.function for t in result.tests if not t.passed}
    assert "activations.sigmoid" in failing and "activations.tanh_derivative" not in failing
    html = result._repr_html_()
    page = _parsed(html)
    assert page.tags <= {"div", "p", "strong", "small", "code", "span", "pre", "ul", "li"}, page.tags
    assert page.text.count(HOSTILE) == str(result).count(HOSTILE) >= 2  # failing sigmoid, passing tanh_derivative
    assert "<script" not in html and "<img" not in html
    assert f"Score: {result.score:g}/{result.max_score:g}" in page.text


def test_an_edited_file_is_graded_afresh_without_a_restart(tmp_path):
    """Two checks in one process: the second sees the edited file (the worker imports it anew each time), and the
    submission is never imported into the checking process itself."""
    submission = tmp_path / "work"
    shutil.copytree(COURSE / "exercises", submission)
    before = gatelab.check("activations.tanh_derivative", submission, assignment=COURSE)
    assert before.score == 0 < before.max_score
    shutil.copy(write_submission(tmp_path / "reference", {}) / "activations.py", submission / "activations.py")
    after = gatelab.check("activations.tanh_derivative", submission, assignment=COURSE)
    assert after.score == after.max_score == before.max_score
    assert "activations" not in sys.modules


def test_a_wrong_target_raises_a_clear_error():
    """An unknown target is the command's usage error, with its suggestion."""
    from gatelab.errors import UsageError

    with pytest.raises(UsageError, match="Did you mean 'lstm'"):
        gatelab.check("LSTM", assignment=COURSE)


def test_import_gatelab_loads_nothing_else():
    """`import gatelab` stays light: no grading, click, jinja2, numpy or IPython until a check runs."""
    code = "import json, sys, gatelab; print(json.dumps(sorted(sys.modules)))"
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                           check=True).stdout))
    assert "gatelab" in loaded
    assert not {"gatelab.checking", "gatelab.grading", "click", "jinja2", "numpy", "IPython", "yaml"} & loaded


def test_the_magic_takes_the_commands_arguments(tmp_path, capsys):
    """`%grade check ...` is parsed by the `grade check` command itself; mistakes in the line are one message
    (IPython's UsageError, shown without a traceback)."""
    from IPython.core.error import UsageError

    from gatelab import magic

    submission = write_submission(tmp_path / "reference", {})
    result = magic.grade_magic(f"check activations.sigmoid --verbose --submission '{submission}' "
                               f"--assignment '{COURSE}'")
    assert result is not None and result.verbose
    assert result.score == result.max_score > 0
    assert {t.function for t in result.tests} == {"activations.sigmoid"}
    assert magic.grade_magic("check --help") is None
    assert "Usage: %grade check [OPTIONS] [TARGET]" in capsys.readouterr().out
    with pytest.raises(UsageError, match="^%grade check: No such option.*--bogus"):
        magic.grade_magic("check --bogus")
    with pytest.raises(UsageError, match="Did you mean 'lstm'"):
        magic.grade_magic(f"check LSTM --assignment {COURSE}")
    with pytest.raises(UsageError, match="'quiz' is not run from a notebook"):
        magic.grade_magic("quiz")
    with pytest.raises(UsageError, match="say what to run"):
        magic.grade_magic("")
    with pytest.raises(UsageError, match="--watch runs until Ctrl-C"):
        magic.grade_magic(f"check activations --watch --assignment {COURSE}")


def test_percent_script_becomes_notebook_cells():
    """`# %% [markdown]` cells lose their comment marks, code cells are kept as written, empty cells dropped."""
    script = "# %% [markdown]\n# # Title\n#\n# Some *text*.\n\n# %%\nimport gatelab\n\n# %%\n\n# %%\n%grade check\n"
    cells = student_notebook.cells(script)
    assert [(c["cell_type"], "".join(c["source"])) for c in cells] == [
        ("markdown", "# Title\n\nSome *text*."), ("code", "import gatelab"), ("code", "%grade check")]
    assert [c["id"] for c in cells] == ["cell-1", "cell-2", "cell-3"]


@pytest.fixture(scope="module")
def student(tmp_path_factory) -> Path:
    """A student release, its activations module solved with the reference."""
    out = build_release(tmp_path_factory.mktemp("release"))
    reference = write_submission(out / "reference", {})
    shutil.copy(reference / "activations.py", out / "student" / "exercises" / "activations.py")
    return out / "student"


def test_the_release_hands_out_the_notebook(student):
    """check.ipynb is in the student's folder, its zip and the Classroom starter, a valid notebook with no
    outputs, that names the course's modules."""
    import nbformat

    out = student.parent
    assert student_notebook.NOTEBOOK_NAME in zipfile.ZipFile(out / "student.zip").namelist()
    assert (out / "github-classroom" / student_notebook.NOTEBOOK_NAME).is_file()
    document = nbformat.read(student / student_notebook.NOTEBOOK_NAME, as_version=4)
    nbformat.validate(document)
    assert all(not cell.get("outputs") for cell in document.cells)
    text = "".join(cell.source for cell in document.cells)
    assert all(f"`{module}.py`" in text for module in config.load(COURSE).contract.modules)
    assert "%load_ext gatelab" in text and 'gatelab.check("activations")' in text


def test_the_notebook_runs_in_a_kernel(student):
    """Executed by a real kernel (this interpreter's, through ipykernel's own kernelspec) in the release's folder:
    every cell runs, each check shows the score as text and as HTML, and the magic works."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    document = nbformat.read(student / student_notebook.NOTEBOOK_NAME, as_version=4)
    kernels = KernelSpecManager(kernel_dirs=[])  # only ipykernel's native spec: no kernel installed elsewhere
    manager = KernelManager(kernel_name="python3", kernel_spec_manager=kernels)
    assert manager.kernel_spec.argv[0] == sys.executable
    NotebookClient(document, km=manager, timeout=120, resources={"metadata": {"path": str(student)}}).execute()

    outputs = {cell.source: cell.outputs for cell in document.cells if cell.cell_type == "code"}
    here = {target: gatelab.check(target, student / "exercises", assignment=student)  # in this process
            for target in ("activations", "activations.sigmoid")}
    module, sigmoid = here["activations"].max_score, here["activations.sigmoid"].max_score
    assert here["activations"].score == module > sigmoid > 0
    for source in ('gatelab.check("activations")', "%grade check activations --verbose"):
        (shown,) = [o for o in outputs[source] if o.output_type == "execute_result"]
        assert f"Score: {module:g}/{module:g} on the public tests" in shown.data["text/plain"], source
        assert f"<strong>Score: {module:g}/{module:g}</strong>" in shown.data["text/html"], source
        assert "✓" in shown.data["text/html"] and "✗" not in shown.data["text/html"]
    one = outputs['result = gatelab.check("activations.sigmoid")\nprint(f"{result.score:g}/{result.max_score:g}")'
                  '\nresult']
    assert [o.text for o in one if o.output_type == "stream"] == [f"{sigmoid:g}/{sigmoid:g}\n"]
    (everything,) = [o for o in outputs["%grade check"] if o.output_type == "execute_result"]
    total = everything.data["text/plain"]
    assert f"Score: {module:g}/" in total and f"Score: {module:g}/{module:g} " not in total  # the rest are stubs
    assert "lstm.forget_gate is not implemented yet" in total
