"""Results as Markdown: a CI job summary (GitHub's $GITHUB_STEP_SUMMARY, GitLab's job page, a PR comment)."""
from __future__ import annotations

from gatelab.report import folding
from gatelab.report.exporters import facts, text_of
from gatelab.report.fences import fenced
from gatelab.report.render import Renderer
from gatelab.report.results import Results


def render(results: Results, renderer: Renderer | None = None) -> str:
    """The summary: the score, a table per function, and what the failing tests said, each message once (the
    tests that said the same counted under it; an aspect judged only once the values are right, one line)."""
    renderer = renderer or Renderer()
    by_function = results.by_function()
    failing = {name: [t for t in tests if not t.passed] for name, tests in by_function.items()}
    judged = {name: [t for t in tests if t.judged] or tests for name, tests in failing.items() if tests}
    folded = folding.fold({name: [{"name": t.name, "text": text_of(t)} for t in tests]
                           for name, tests in judged.items()}, lambda item: item["text"])
    groups = [{"function": name, "score": sum(t.score for t in tests), "max_score": sum(t.max_score for t in tests),
               "failing": failing[name], "folds": folded.get(name, []),
               "unjudged": [t.name.split(": ", 1)[-1] for t in failing[name] if t not in judged.get(name, [])]}
              for name, tests in by_function.items()]
    return renderer.render("summary.md.j2", results=results, groups=groups, facts=facts(results))


def failure(message: str) -> str:
    """The summary when grading could not run: the reason, fenced (it may quote the submission)."""
    return f"# The autograder could not grade this submission\n\n{fenced(message)}\n"
