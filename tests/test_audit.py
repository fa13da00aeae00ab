"""`grade audit`'s own checks can fail: each is shown catching the hole it guards against."""
from __future__ import annotations

from gatelab import audit, config, diagnostics
from gatelab.render import Renderer


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
