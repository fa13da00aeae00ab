"""Results as Markdown: a CI job summary (GitHub's $GITHUB_STEP_SUMMARY, GitLab's job page, a PR comment)."""
from __future__ import annotations

from gatelab.report.exporters import facts, text_of
from gatelab.report.fences import fenced
from gatelab.report.render import Renderer
from gatelab.report.results import Results


def render(results: Results, renderer: Renderer | None = None) -> str:
    """The summary: the score, a table per function, and what each failing test said."""
    renderer = renderer or Renderer()
    groups = [{"function": name, "score": sum(t.score for t in tests), "max_score": sum(t.max_score for t in tests),
               "failing": [{"name": t.name, "text": text_of(t)} for t in tests if not t.passed]}
              for name, tests in results.by_function().items()]
    return renderer.render("summary.md.j2", results=results, groups=groups, facts=facts(results))


def failure(message: str) -> str:
    """The summary when grading could not run: the reason, fenced (it may quote the submission)."""
    return f"# The autograder could not grade this submission\n\n{fenced(message)}\n"
