"""`grade audit`'s own checks can fail: each is shown catching the hole it guards against."""
from __future__ import annotations

from gatelab.authoring import audit
from gatelab.course import config
from gatelab.grading import diagnostics
from gatelab.report.render import Renderer


def test_no_work_check_catches_a_rule_that_pays_for_echoes(assignment, monkeypatch):
    """Were every case to count as needing work, echoing already-small gradients would be paid: the audit
    row for echoes then fails and names the paid test."""
    monkeypatch.setattr(diagnostics, "needs_work", lambda expected, args: True)
    row = audit.check_no_work(assignment, "echo", Renderer())
    assert not row.ok and "gradients.clip_by_value: gradients already small" in row.detail


def test_public_evidence_check_catches_a_function_with_no_public_case_that_needs_work(make_assignment):
    """A function whose only visible case has an answer that needs no work cannot be paid locally: a hole."""
    root = make_assignment(tests={"gradients.clip_by_value": {"small": None, "small_gradients": {
        "visibility": "visible"}}})
    row = audit.check_public_evidence(config.load(root))
    assert not row.ok and row.detail == "none for gradients.clip_by_value"


def test_determinism_check_catches_broken_seeding(assignment, monkeypatch):
    """Were inputs drawn afresh on every call instead of from the seed, the two runs would differ: the
    determinism row fails."""
    import itertools

    from gatelab.grading import cases

    counter = itertools.count()
    monkeypatch.setattr(cases, "seed_for", lambda base, qualname, case: next(counter))
    row = audit.check_determinism(assignment, Renderer())
    assert not row.ok and "differ" in row.detail


def test_determinism_check_holds_on_the_shipped_assignment(assignment):
    """With seeding as it is, two runs agree to the letter."""
    assert audit.check_determinism(assignment, Renderer()).ok


def test_an_instructors_wording_for_mistakes_opens_no_hole(make_assignment):
    """The audit reads which mistake a test named from the results, not from the words: an instructor's
    feedback template that words mistakes differently keeps every catalog row green."""
    import shutil
    from pathlib import Path

    from gatelab.course import catalog

    root = make_assignment()
    templates = root / "grader" / "templates"
    templates.mkdir()
    package = Path(audit.__file__).parents[1] / "templates" / "feedback.j2"
    text = package.read_text().replace("(Lesson: {{ lesson }}; known mistake {{ id }}.)", "(See: {{ lesson }}.)")
    assert text != package.read_text()
    (templates / "feedback.j2").write_text(text)
    spec = config.load(root)
    mistakes = catalog.load(spec.grader / "mistakes", spec.contract).mistakes
    mistake = next(m for m in mistakes if m.id == "lstm-forget-gate-tanh")
    row = audit.check_mistake(spec, mistake, Renderer(spec.grader / "templates"))
    assert row.ok, row.detail
    shutil.rmtree(templates)


def _mistake_row(root, mistake_id: str) -> audit.Check:
    from gatelab.course import catalog

    spec = config.load(root)
    mistake = next(m for m in catalog.load(spec.grader / "mistakes", spec.contract).mistakes if m.id == mistake_id)
    return audit.check_mistake(spec, mistake, Renderer(spec.grader / "templates"))


def test_a_mistake_only_hidden_cases_catch_is_a_hole(make_assignment):
    """clip_by_global_norm that rescales even below max_norm is wrong only where the norm is below it: with
    that case hidden, a student's check gives it full marks and only the autograder finds it, so the audit
    fails, names the hidden test that caught it and says what to make public."""
    root = make_assignment(tests={"gradients.clip_by_global_norm": {
        "small": {"visibility": "visible"}, "wide_input": None, "small_gradients": None}})
    row = _mistake_row(root, "gradients-clip-by-global-norm-scale-always")
    assert not row.ok
    assert "caught only by hidden tests (gradients.clip_by_global_norm: gradients already small)" in row.detail
    assert "make public a case of gradients.clip_by_global_norm that catches it" in row.detail


def test_the_same_mistake_with_its_case_public_holds(make_assignment):
    """The shipped course makes that case public: the mistake is caught and named by the student's check."""
    row = _mistake_row(make_assignment(), "gradients-clip-by-global-norm-scale-always")
    assert row.ok and row.detail.startswith("caught by 1 public test(s), named in 1"), row.detail
