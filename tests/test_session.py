"""The pytest session over the grader's tests: contract tests judged directly, and a session kept open."""
from __future__ import annotations

import pytest

from conftest import COURSE, write_submission
from gatelab import grading
from gatelab.course import config
from gatelab.errors import ConfigError
from gatelab.grading.plugin import GradingPlugin, Job
from gatelab.grading.run import Warm, forbidden, load_oracle
from gatelab.grading.sandbox import Sandbox
from gatelab.grading.session import Resident
from gatelab.report.render import Renderer
from gatelab.report.results import Results

BUGS = {"rnn": ("return np.tanh(params[\"Wh\"] @ concat + params[\"bh\"])", "return np.tanh(params[\"Wh\"] @ concat)")}
SHIM = "import pytest\n\n\n@pytest.mark.grades('rnn')\n{decorators}def test_rnn({arguments}):\n{body}"
CANONICAL = {"decorators": "", "arguments": "contract_test, grade", "body": "    grade(contract_test)\n"}


def _facts(results: Results) -> list[tuple]:
    return [(t.name, t.status, t.score, t.max_score, t.visibility, t.feedback, t.mistakes, t.judged, t.output)
            for t in results.tests]


def _direct_calls(monkeypatch) -> list[str]:
    calls: list[str] = []
    original = GradingPlugin._judge_directly

    def counted(self, job, item):
        calls.append(item.nodeid)
        return original(self, job, item)

    monkeypatch.setattr(GradingPlugin, "_judge_directly", counted)
    return calls


def _with_shim(make_assignment, **shim: str) -> config.Assignment:
    root = make_assignment()
    (root / "grader" / "tests" / "test_rnn.py").write_text(SHIM.format(**{**CANONICAL, **shim}))
    return config.load(root)


@pytest.mark.parametrize("shim", [
    {"body": "    \"\"\"Grades rnn.\"\"\"\n    grade(contract_test)\n"},
    {"decorators": "@pytest.mark.points(1)\n", "arguments": "grade, contract_test"},
], ids=["docstring", "marker-and-order"])
def test_a_test_that_only_grades_is_judged_directly(make_assignment, tmp_path, monkeypatch, shim):
    calls = _direct_calls(monkeypatch)
    assignment = _with_shim(make_assignment, **shim)
    results = grading.grade(assignment, write_submission(tmp_path / "s", BUGS),
                            grading.Request(target="rnn", quiz="none"))
    assert len(calls) == len(results.tests) > 0


@pytest.mark.parametrize("shim", [
    {"body": "    assert contract_test.points > 0\n    grade(contract_test)\n"},
    {"arguments": "contract_test, grade, tmp_path"},
    {"decorators": "@pytest.mark.filterwarnings('error')\n"},
    {"decorators": "@__import__('functools').lru_cache()\n"},
], ids=["another-statement", "another-fixture", "another-marker", "a-decorator"])
def test_anything_more_runs_through_pytest_with_the_same_results(assignment, make_assignment, tmp_path,
                                                                monkeypatch, shim):
    """The protocol path and the direct path grade alike; only a test that does nothing but grade is direct."""
    submission = write_submission(tmp_path / "s", BUGS)
    direct = grading.grade(assignment, submission,
                           grading.Request(target="rnn", quiz="none"))  # its test_rnn.py only grades
    calls = _direct_calls(monkeypatch)
    other = _with_shim(make_assignment, **shim)
    through_pytest = grading.grade(other, submission, grading.Request(target="rnn", quiz="none"))
    assert calls == [] and _facts(through_pytest) == _facts(direct)
    assert any(t.status == "failed" for t in direct.tests) and any(t.passed for t in direct.tests)


def test_the_instructors_own_code_in_a_contract_test_runs(make_assignment, tmp_path):
    assignment = _with_shim(make_assignment, body="    grade(contract_test)\n    assert False, 'also this'\n")
    results = grading.grade(assignment, COURSE / "solutions", grading.Request(target="rnn", quiz="none"))
    assert results.tests and all("also this" in t.feedback and t.score == 0 for t in results.tests)


def test_a_resident_session_grades_one_submission_after_another_as_single_runs_do(assignment, tmp_path):
    """What a batch's process keeps (the session, the remembering oracle, the worker template) changes no grade."""
    submissions = [COURSE / "solutions", COURSE / "exercises", write_submission(tmp_path / "bug", BUGS)]
    warm = Warm.start(assignment)
    try:
        kept = [grading.grade(assignment, s, grading.Request(quiz="none"), warm=warm) for s in submissions]
    finally:
        warm.close()
    alone = [grading.grade(assignment, s, grading.Request(quiz="none")) for s in submissions]
    for resident, single in zip(kept, alone):
        assert _facts(resident) == _facts(single)
        assert (resident.hidden_count, resident.faults) == (single.hidden_count, single.faults)
    assert kept[0].score == kept[0].max_score > 0 and kept[1].score == 0


def test_calls_made_ahead_grade_as_calls_made_test_by_test(make_assignment, tmp_path, monkeypatch):
    """The judge's trials make each lane's calls ahead, together (``Trials.prefetch``); the grades, feedback, outputs
    and limits hit are those of calls made one test at a time, also where a part hangs and a module breaks."""
    from gatelab.grading.trials import Trials

    assignment = config.load(make_assignment(limits={"timeout": 1.0, "strikes": 1}))
    submissions = [
        write_submission(tmp_path / "bug", {**BUGS, "lstm": ("c_next = f * c_prev + i * c_tilde",
                                                             "c_prev *= f\n    c_next = c_prev + i * c_tilde")}),
        write_submission(tmp_path / "hang", {"activations": ("def tanh_derivative(z):\n",
                                                             "def tanh_derivative(z):\n    while True: pass\n"),
                                             "gru": ("import numpy as np", "import numpy as np\nprint('gru!')\n"
                                                                          "from nowhere import nothing")}),
    ]
    ahead = [grading.grade(assignment, s, grading.Request(quiz="none")) for s in submissions]
    monkeypatch.setattr(Trials, "prefetch", lambda self, functions: None)
    one_by_one = [grading.grade(assignment, s, grading.Request(quiz="none")) for s in submissions]
    for made_ahead, alone in zip(ahead, one_by_one):
        assert _facts(made_ahead) == _facts(alone)
        assert made_ahead.limits_hit == alone.limits_hit and made_ahead.notices == alone.notices
    assert ahead[1].limits_hit and any("gru!" in t.output for t in ahead[1].tests)
    assert any(t.status == "failed" for t in ahead[0].tests) and any(t.passed for t in ahead[0].tests)


def test_a_session_whose_tests_cannot_be_collected_says_so_to_every_job(make_assignment):
    root = make_assignment()
    (root / "grader" / "tests" / "test_broken.py").write_text("def test_x(:\n")
    assignment = config.load(root)
    renderer = Renderer(assignment.grader / "templates")
    session = Resident(assignment, renderer)
    try:
        for _ in range(2):
            results = Results(title="", submission="")
            with Sandbox(COURSE / "solutions", assignment.limits, forbid=forbidden(assignment)) as sandbox:
                from gatelab.grading.judge import Judge

                job = Job(Judge(sandbox, load_oracle(assignment, results), renderer, assignment), results)
                session.run(job)
            assert isinstance(job.error, ConfigError) and "test_broken.py" in str(job.error)
    finally:
        session.close()
