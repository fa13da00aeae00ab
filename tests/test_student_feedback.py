"""What a student reads: the local check checks what grading checks, and blame goes where it belongs."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import COURSE, build_release, write_submission
from gatelab import grading
from gatelab.cli import main
from gatelab.course import config
from gatelab.report.results import Kind


def check(folder: Path, *args: str, assignment: Path = COURSE) -> str:
    result = CliRunner().invoke(main, ["check", *args, "--submission", str(folder), "--assignment", str(assignment)],
                                catch_exceptions=False)
    assert "Traceback" not in result.output
    return result.output


# --- local = grading, on the public cases ---------------------------------------------------------

IN_PLACE = {
    "clip in place": ("gradients", "gradients.clip_by_value",
                      "np.clip(g, -max_value, max_value)", "np.clip(g, -max_value, max_value, out=g)"),
    "h0 overwritten": ("rnn", "rnn.rnn_forward",
                       "h_t = rnn_cell_forward(x[:, :, t], h_t, params)",
                       "h_t[...] = rnn_cell_forward(x[:, :, t], h_t, params)"),
    "tanh into its input": ("activations", "activations.tanh_derivative",
                            "return 1.0 - np.tanh(z) ** 2", "return 1.0 - np.tanh(z, out=z) ** 2"),
}


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_the_local_check_finds_what_grading_finds_on_the_public_cases(assignment, tmp_path, name):
    """Changing an input in place (a hidden aspect) costs points in `grade check` too, not only at grading."""
    module, qualname, old, new = IN_PLACE[name]
    folder = write_submission(tmp_path, {module: (old, new)})
    local = grading.grade(assignment, folder, grading.Request(target=qualname, include_hidden=False, quiz="none"))
    graded = grading.grade(assignment, folder, grading.Request(target=qualname, quiz="none"))
    lost_locally = [t for t in local.tests if not t.passed]
    assert [t.case for t in lost_locally] == ["inputs_unchanged"], [(t.name, t.feedback) for t in lost_locally]
    assert "in place" in lost_locally[0].feedback
    assert {t.case for t in graded.tests if not t.passed} == {"inputs_unchanged"}
    hidden_aspect = next(s for s in assignment.tests
                         if s.function.qualname == qualname and s.aspect == "inputs_unchanged")
    assert hidden_aspect.visibility == "hidden"  # the point of the test: hidden, yet judged locally


def test_the_reference_still_gets_full_local_marks(assignment):
    """Every aspect judged locally holds for the reference, and the hidden count leaves the aspects out."""
    local = grading.grade(assignment, COURSE / "solutions", grading.Request(include_hidden=False, quiz="none"))
    assert local.full_marks, [(t.name, t.feedback) for t in local.tests if not t.passed]
    aspects = {t.function for t in local.tests if t.kind is Kind.ASPECT and t.case == "inputs_unchanged"}
    assert aspects == {s.function.qualname for s in assignment.tests if s.aspect == "inputs_unchanged"}
    hidden = [s for s in assignment.tests if s.visibility != "visible" and s.aspect == "values"]
    assert local.hidden_count == len(hidden)


# --- blame goes where it belongs -----------------------------------------------------------------

@pytest.fixture(scope="module")
def student_release(tmp_path_factory) -> Path:
    """The student release (no reference anywhere): what a student's own `grade check` runs on."""
    return build_release(tmp_path_factory.mktemp("release")) / "student"


def test_a_part_left_unwritten_is_named_not_the_function_that_calls_it(student_release, tmp_path):
    """A leftover `raise NotImplementedError` in reset_gate: the GRU cell, right, keeps its points at home as at
    grading (judged with the recorded parts) and is told to fix reset_gate first; neither is called unwritten."""
    body = 'concat = np.concatenate([h_prev, x_t], axis=0)\n    return sigmoid(params["Wr"] @ concat + params["br"])'
    folder = write_submission(tmp_path / "exercises", {"gru": (body, "raise NotImplementedError")})
    shown = check(folder, "gru", assignment=student_release)
    assert "gru.reset_gate is not implemented yet" in shown
    assert "so fix gru.reset_gate first" in shown
    assert re.search(r"✓ gru_cell_forward +(\d+)/\1\b", shown) and re.search(r"✓ gru_forward +(\d+)/\1\b", shown), shown
    assert shown.split("\n", 2)[2] == check(folder, "gru", assignment=COURSE).split("\n", 2)[2]  # as at grading
    assert "gru.gru_cell_forward is not implemented" not in shown and "gru.gru_forward is not implemented" not in shown
    stubs = check(student_release / "exercises", "lstm.forget_gate", assignment=student_release)
    assert "lstm.forget_gate is not implemented yet" in stubs
    assert "fails its own tests" not in stubs  # a function not written yet is not told about its parts


def test_a_hang_names_the_function_that_hangs(make_assignment, tmp_path):
    """rnn_forward loops forever; gradient_norms_through_time, which calls it, says so and shows where."""
    root = make_assignment(limits={"timeout": 1.5, "strikes": 1})
    folder = write_submission(tmp_path / "submission", {
        "rnn": [("for t in range(T):\n", "t = 0\n    while t < T:\n")],
        "gradients": [("from rnn import rnn_cell_forward", "from rnn import rnn_cell_forward, rnn_forward"),
                      ("    states = [h0]\n    for t in range(T):\n"
                       "        states.append(rnn_cell_forward(x[:, :, t], states[-1], params))\n",
                       "    h = rnn_forward(x, h0, params)\n    states = [h0] + [h[:, :, t] for t in range(T)]\n")]})
    shown = check(folder, "gradients.gradient_norms_through_time", assignment=root)
    assert "ran past the 1.5 s time limit, while running rnn.rnn_forward, which it calls" in shown, shown
    assert "gradients.py, line" in shown and "in rnn_forward()" in shown
    assert "Is there a loop that never ends in rnn.rnn_forward? Fix it first." in shown
    own = check(folder, "rnn.rnn_forward", assignment=root)
    assert "rnn.rnn_forward ran past the 1.5 s time limit; it was stopped here:" in own, own
    assert "while running" not in own  # rnn_cell_forward, where the stack was caught, is right: not blamed


def test_an_endless_loop_costs_a_check_one_time_limit_and_grading_its_strikes(make_assignment, tmp_path):
    """A check stops calling a function after its first time limit (the other cases say so at once); grading
    gives it its ``strikes`` chances, since a function that hangs on one case may pass another."""
    root = make_assignment(limits={"timeout": 1, "strikes": 2})
    folder = write_submission(tmp_path / "submission", {
        "activations": ("    return 1.0 - np.tanh(z) ** 2\n", "    while True:\n        pass\n")})
    spec = config.load(root)
    home = grading.grade(spec, folder,
                         grading.Request(target="activations.tanh_derivative", include_hidden=False, quiz="none"))
    values = [t for t in home.tests if t.kind is Kind.VALUES]
    assert len(values) >= 3
    timed_out = [t for t in values if "ran past the 1 s time limit;" in t.feedback]
    assert len(timed_out) == 1 and values[0] is timed_out[0], [t.feedback[:80] for t in values]
    assert all("already ran past the 1 s time limit once" in t.feedback for t in values[1:])
    graded = grading.grade(spec, folder,
                           grading.Request(target="activations.tanh_derivative", include_hidden=True, quiz="none"))
    assert sum("ran past the 1 s time limit;" in t.feedback for t in graded.tests) == 2
    assert home.limits_hit == ["activations.tanh_derivative: time limit"]


def test_fix_the_part_first_comes_before_the_arrays(assignment, tmp_path):
    """A composite wrong with the grader's parts and with a wrong part of its own: the advice leads."""
    folder = write_submission(tmp_path, {"lstm": [
        ('return sigmoid(params["Wf"] @ concat + params["bf"])',
         'return np.tanh(params["Wf"] @ concat + params["bf"])'),
        ("h_next = hidden_state(o, c_next)", "h_next = hidden_state(o, c_prev)")]})
    results = grading.grade(assignment, folder,
                            grading.Request(target="lstm.lstm_cell_forward", include_hidden=False, quiz="none"))
    feedback = next(t.feedback for t in results.tests if not t.passed)
    assert "Fix it first" in feedback and "expected" in feedback, feedback
    assert feedback.index("Fix it first") < feedback.index("expected")


def test_an_import_error_is_shown_once(assignment, tmp_path):
    """One syntax error in activations.py: shown in full once; each function it stops says why in one line."""
    folder = write_submission(tmp_path, {"activations": ("return 1.0 - np.tanh(z) ** 2",
                                                         "return (1.0 - np.tanh(z) ** 2")})
    shown = check(folder)
    assert shown.count("could not be imported, so none of its functions can be graded") == 1
    assert shown.count("Fix the syntax error first") == 1
    assert "lstm.forget_gate could not run: lstm.py could not be imported, because activations.py, which it " \
           "imports, has a SyntaxError at line" in shown
    assert len(shown.splitlines()) < 120, len(shown.splitlines())


def test_an_import_that_ends_the_process_is_blamed_on_its_file_and_line(assignment, tmp_path):
    """os._exit at the top of activations.py ends every worker importing lstm.py: the feedback shows where (the
    import line in lstm.py, then the line in activations.py) once, and says what to do; later functions say so
    in one line."""
    folder = write_submission(tmp_path, {"activations": ("import numpy as np\n",
                                                         "import numpy as np\nimport os\nos._exit(3)\n")})
    shown = check(folder, "lstm")
    line = _line_of(folder / "activations.py", "os._exit(3)")
    assert ("lstm.forget_gate could not run: importing lstm.py ended the process with exit code 3 in activations.py, "
            "which it imports, here:\n") in shown, shown
    assert f"lstm.py, line {_line_of(folder / 'lstm.py', 'from activations import sigmoid')}: from activations " \
           "import sigmoid\n" in shown
    assert f"activations.py, line {line}: os._exit(3)\n" in shown
    assert shown.count("Do not call os._exit() or kill the process: return the result.") == 1
    assert ("lstm.input_gate could not run: importing lstm.py ended the process with exit code 3 in activations.py, "
            f"which it imports (line {line}); shown in full under lstm.forget_gate.") in shown


def test_a_segfault_at_import_says_it_is_native_code(assignment, tmp_path):
    """A SIGSEGV (ctypes reading address 0) is not told to stop calling os._exit: it is told the crash is
    in native code, at the line that made it."""
    folder = write_submission(tmp_path, {"gru": ("import numpy as np\n",
                                                 "import numpy as np\nimport ctypes\nctypes.string_at(0)\n")})
    shown = check(folder, "gru.update_gate")
    assert "gru.update_gate could not run: importing gru.py was killed by signal SIGSEGV, here:\n" in shown, shown
    assert f"gru.py, line {_line_of(folder / 'gru.py', 'ctypes.string_at(0)')}: ctypes.string_at(0)" in shown
    assert "SIGSEGV is a crash in native code" in shown and "os._exit" not in shown


def _line_of(path: Path, code: str) -> int:
    """The number of the first line of ``path`` that is ``code``."""
    return next(n for n, text in enumerate(path.read_text().splitlines(), 1) if text.strip() == code)


def test_what_did_not_run_is_not_headed_shape_and_dtype(tmp_path):
    """An exception leaves the aspects unjudged: one line says so, no 'shape and dtype:' heading, even verbose."""
    shown = check(COURSE / "exercises", "lstm.forget_gate", "--verbose")
    assert "shape and dtype:" not in shown
    assert "Judged once the values are right: shape and dtype" in shown
    results = grading.grade(config.load(COURSE), COURSE / "exercises",
                            grading.Request(target="lstm.forget_gate", quiz="none"))
    aspect = next(t for t in results.tests if t.case == "shape_and_dtype")
    assert not aspect.judged and "has not returned a result yet" in aspect.feedback


def test_a_misspelt_name_gets_a_suggestion(tmp_path):
    """`def forget_gates` and `grade check LSTM` are named for what they most likely mean."""
    folder = write_submission(tmp_path, {"lstm": ("def forget_gate(", "def forget_gates(")})
    shown = check(folder, "lstm.forget_gate")
    assert "lstm.py defines no function forget_gate(), but there is forget_gates(): a misspelt name?" in shown
    result = CliRunner().invoke(main, ["check", "LSTM", "--assignment", str(COURSE)])
    assert result.exit_code == 2 and "Did you mean 'lstm'?" in result.output
    (folder / "lstm.py").rename(folder / "LSTM.py")
    assert "there is no file lstm.py in the submission, but there is LSTM.py" in check(folder, "lstm.forget_gate")


def test_the_student_release_judges_hidden_aspects_locally(student_release):
    """The release's config keeps every aspect (hidden ones too) and counts only hidden cases as withheld."""
    data = yaml.safe_load((student_release / "grader" / "config.yaml").read_text())
    entry = data["tests"]["gradients.clip_by_value"]
    assert entry["inputs_unchanged"]["visibility"] == "hidden"
    assert all(count["tests"] > 0 for count in data["withheld"].values())


def test_a_derivative_outside_its_possible_range_is_told_so(assignment, tmp_path):
    """sigmoid' can only lie in [0, 0.25]: a result outside says which values are impossible and why."""
    folder = write_submission(tmp_path, {"activations": ("return s * (1.0 - s)", "return s * (1.0 - s) - 0.1")})
    results = grading.grade(assignment, folder,
                            grading.Request(target="activations.sigmoid_derivative", include_hidden=False, quiz="none"))
    feedback = next(t.feedback for t in results.tests if not t.passed)
    assert "outside [0, 0.25]" in feedback and "slope of at most 0.25" in feedback, feedback


def test_a_warning_that_is_not_numeric_is_not_blamed_on_overflow(tmp_path):
    """The contract's ``quiet`` hint explains numeric warnings (overflow in exp); a sigmoid that leaves a file
    open gets a ResourceWarning named as such, not advice about z = +-1000; the naive sigmoid still gets it."""
    right = ("    z = np.asarray(z, dtype=np.float64)\n    e = np.exp(-np.abs(z))\n"
             "    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n")
    leaky = write_submission(tmp_path / "leaky", {"activations": (right, "    open(__file__)\n" + right)})
    said = check(leaky, "activations.sigmoid")
    assert "emitted warnings: ResourceWarning" in said and "without warnings" in said, said
    assert "z = +1000" not in said
    naive = "    return 1.0 / (1.0 + np.exp(-z))\n"
    overflowing = write_submission(tmp_path / "naive", {"activations": (right, naive)})
    assert "z = +1000" in check(overflowing, "activations.sigmoid")


# --- the real cause: float32, differences below the printed precision ------------------------------

def test_a_float32_result_is_named_as_the_whole_mistake(tmp_path):
    """sigmoid_derivative computed from a float32 copy of the sigmoid: the few entries off by float32's
    rounding are said to be the dtype and nothing else, and the blocks print with digits that differ."""
    folder = write_submission(tmp_path, {"activations": ("    s = sigmoid(z)\n",
                                                         "    s = sigmoid(z).astype(np.float32)\n")})
    shown = check(folder, "activations.sigmoid_derivative")
    lead = "Your result is float32, not float64, and every value agrees with the expected one to float32's " \
           "precision (about 7 digits): the dtype is all that is wrong; keep float64 throughout"
    assert lead in shown, shown
    assert shown.index(lead) < shown.index("sigmoid'(z) is wrong in")  # the cause first, then the evidence
    assert "a stray constant factor" not in shown and "tanh where sigmoid" not in shown
    blocks = re.search(r"expected sigmoid'\(z\)[^\n]*:\n(.*?)\n\s+got:\n(.*?)\n\s+(?:Also fails|\n)", shown,
                       re.S)
    assert blocks, shown
    expected, got = blocks.groups()
    assert " ".join(expected.split()) != " ".join(got.split()), shown


def test_a_wrong_dtype_is_said_before_values_that_are_wrong_too(tmp_path):
    """A float32 result whose values are wrong beyond float32's rounding: the dtype is said first, then the
    values and their hints (the dtype does not explain them)."""
    folder = write_submission(tmp_path, {"activations": ("    s = sigmoid(z)\n",
                                                         "    s = sigmoid(z).astype(np.float32) * 1.01\n")})
    shown = check(folder, "activations.sigmoid_derivative")
    lead = "Your result is float32, not float64: keep float64 throughout (no astype, no float32 arrays, no part " \
           "that returns float32). Its values are wrong too:\n"
    assert lead in shown and shown.index(lead) < shown.index("sigmoid'(z) is wrong in 20 of 20 entries"), shown
    assert "the dtype is all that is wrong" not in shown


def test_a_part_that_returns_float32_is_said_to_be_where_the_dtype_comes_from(tmp_path):
    """A sigmoid that computes in float32 is right to float32's precision; each gate built on it is right with
    the grader's sigmoid, and is told that its own sigmoid returns float32."""
    folder = write_submission(tmp_path, {"activations": ("z = np.asarray(z, dtype=np.float64)",
                                                         "z = np.asarray(z, dtype=np.float32)")})
    shown = check(folder, "lstm.forget_gate")
    assert "your own activations.sigmoid is wrong on the inputs it passes (activations.sigmoid returns float32, " \
           "not float64), so fix activations.sigmoid first" in shown, shown


def test_a_composite_off_by_float32_rounding_with_its_own_parts_is_told_so(tmp_path):
    """A sigmoid that computes in float32: gru_forward is right with the grader's cell; with the student's own,
    every value agrees to float32's precision only, and that is what it is told (not to check its parts)."""
    folder = write_submission(tmp_path, {"activations": ("z = np.asarray(z, dtype=np.float64)",
                                                         "z = np.asarray(z, dtype=np.float32)")})
    shown = " ".join(check(folder, "gru.gru_forward").split())
    assert "gru.gru_forward is right with the grader's gru.gru_cell_forward. With your own, every value agrees " \
           "with the expected one to float32's precision (within 1e-5, relative) but not to float64's" in shown, shown
    assert "check how your parts behave" not in shown


def test_a_broadcasting_error_is_said_in_the_contracts_shapes_and_hides_no_other_mistake(tmp_path):
    """The reset gate applied to the whole stack: numpy's shapes are said as the contract writes them, with what
    candidate_hidden takes and returns; the update gate's tanh, in the same file, is still named."""
    folder = write_submission(tmp_path, {"gru": [
        ("    concat = np.concatenate([r * h_prev, x_t], axis=0)\n",
         "    concat = r * np.concatenate([h_prev, x_t], axis=0)\n"),
        ('return sigmoid(params["Wz"] @ concat + params["bz"])',
         'return np.tanh(params["Wz"] @ concat + params["bz"])')]})
    shown = " ".join(check(folder, "gru").split())
    assert "operands could not be broadcast together with shapes (4,5) (7,5)" in shown
    assert "In the contract's terms (n_x=3, n_h=4, m=5 here): (4,5) is (n_h, m), (7,5) is (n_h + n_x, m). " \
           "gru.candidate_hidden takes x_t (n_x, m), h_prev (n_h, m), r (n_h, m), params: Wz, Wr, Wh " \
           "(n_h, n_h + n_x); bz, br, bh (n_h, 1), and returns h_tilde (n_h, m)." in shown, shown
    assert "known mistake gru-update-gate-tanh" in shown


def test_a_batch_first_loop_is_told_which_contract_shape_its_buffer_has(tmp_path):
    """m, n_x, T = x.shape reads the sizes in the wrong order: the state buffer comes out (n_h, n_x)."""
    folder = write_submission(tmp_path, {"rnn": ("    n_h, m = h0.shape\n    T = x.shape[2]\n",
                                                 "    m, n_x, T = x.shape\n    n_h = h0.shape[0]\n")})
    shown = " ".join(check(folder, "rnn.rnn_forward").split())
    assert "(4,5) is (n_h, m), (4,3) is (n_h, n_x). rnn.rnn_forward takes x (n_x, m, T), h0 (n_h, m)" in shown, shown


@pytest.mark.parametrize("module, function, right, wrong, says, never", [
    ("rnn", "rnn.rnn_cell_forward", 'np.tanh(params["Wh"] @ concat + params["bh"])',
     'np.maximum(0, params["Wh"] @ concat + params["bh"])', "Is there a ReLU, max(0, z), where tanh belongs?",
     "sigmoid where tanh belongs"),
    ("lstm", "lstm.forget_gate", 'sigmoid(params["Wf"] @ concat + params["bf"])',
     'np.maximum(0, params["Wf"] @ concat + params["bf"])', "Is there a ReLU, max(0, z), where the sigmoid belongs?",
     "tanh where sigmoid belongs"),
])
def test_a_relu_gets_its_own_hint(tmp_path, module, function, right, wrong, says, never):
    """max(0, z) where tanh or the sigmoid belongs: the hint names what cuts values at 0, not another squashing."""
    folder = write_submission(tmp_path, {module: (right, wrong)})
    shown = " ".join(check(folder, function).split())
    assert "values are exactly 0 and none is negative" in shown and says in shown, shown
    assert never not in shown, shown


def test_differences_below_four_digits_print_with_the_digits_that_show_them():
    """Two arrays that differ in the 7th digit print alike with 4: the feedback prints as many as it takes."""
    import numpy as np

    from gatelab.grading import diagnostics

    expected = np.array([[0.123456789, 0.5], [0.25, 0.75]])
    got = expected + np.array([[3e-7, 0.0], [0.0, 0.0]])
    problems = diagnostics.compare_value("y", expected, got)
    details = next(p for p in problems if p.kind == "values").details
    assert details["expected_slice"] != details["got_slice"]
    assert "0.1234571" in details["got_slice"] and "0.1234568" in details["expected_slice"], details
