"""``grade audit``: does the grader grade? Checks an instructor (and CI) can trust.

- the reference gets full marks, and the stubs get zero;
- ``exercises/`` is what ``solutions/`` generates;
- every catalog mistake, planted in a copy of the reference, is caught by a
  public test of its function (a student's check shows it, not only the
  autograder) and named in the feedback;
- two runs with one seed give identical results, on a submission whose
  feedback quotes values drawn from the inputs;
- no work earns nothing: a copy of the reference whose every function returns
  constants, random numbers or an echo of its inputs, in the right
  structure, gets 0 code points;
- every function has a visible case whose answer needs work, so a student's
  local check can pay it.

Each check is a row; a row that fails is a hole.
"""
from __future__ import annotations

import copy
import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from gatelab.authoring import generate
from gatelab.course import catalog
from gatelab.course.case import Case
from gatelab.course.catalog import Mistake
from gatelab.course.config import VALUES, Assignment
from gatelab.course.contract import Contract, Function
from gatelab.grading import diagnostics
from gatelab.grading.cases import make_args
from gatelab.grading.reference import Reference
from gatelab.grading.run import Request, grade
from gatelab.quiz import linting
from gatelab.report.render import Renderer, for_assignment
from gatelab.report.results import Results


@dataclass(frozen=True)
class Check:
    """One audit check: what it checks, whether it holds, and why."""

    name: str
    ok: bool
    detail: str


def _summary(results: Results) -> str:
    return f"{results.score:g}/{results.max_score:g}"


def _plant(assignment: Assignment, mistake: Mistake, folder: Path, renderer: Renderer) -> None:
    """A copy of the reference in ``folder`` whose function behaves like ``mistake``."""
    fn = assignment.contract.lookup(mistake.function)
    for source in assignment.solutions.glob("*.py"):
        shutil.copy(source, folder / source.name)
    shutil.copy(mistake.source, folder / "_gatelab_mistake_formulas.py")
    context = {"module": fn.module, "name": fn.name, "id": mistake.id, "formula": mistake.formula_name,
               "options": mistake.options or {}, "modules": list(assignment.contract.modules)}
    (folder / "_gatelab_mistake_shim.py").write_text(renderer.render("mutant_shim.j2", **context))
    target = folder / f"{fn.module}.py"
    target.write_text(target.read_text() + renderer.render("mutant_tail.j2", **context))


def check_mistake(assignment: Assignment, mistake: Mistake, renderer: Renderer) -> Check:
    """Plant one mistake and grade its function: a public test must catch it (else a student learns of it
    only from the autograder), and it must be named.

    The public tests are graded as a student's check grades them (aspects judged on the public cases only);
    the hidden ones only when the public ones miss or do not name it, to say which hole it is."""
    with tempfile.TemporaryDirectory(prefix="gatelab-audit-") as tmp:
        _plant(assignment, mistake, Path(tmp), renderer)
        public = _caught(grade(assignment, Path(tmp),
                               Request(target=mistake.function, include_hidden=False, quiz="none"),
                               renderer=renderer), mistake)
        if public.caught and public.named:
            return Check(f"mistake {mistake.id}", True,
                       f"caught by {len(public.caught)} public test(s), named in {len(public.named)}")
        full = _caught(grade(assignment, Path(tmp), Request(target=mistake.function, quiz="none"),
                             renderer=renderer), mistake)
    if not full.caught:
        return Check(f"mistake {mistake.id}", False, f"no test of {mistake.function} catches it ({mistake.where})")
    if not public.caught:
        return Check(f"mistake {mistake.id}", False,
                   f"caught only by hidden tests ({', '.join(full.caught[:3])}), so a student's check never shows "
                   f"it ({mistake.where}): make public a case of {mistake.function} that catches it")
    if not full.named:
        return Check(f"mistake {mistake.id}", False, f"caught by {len(full.caught)} test(s) but never named "
                                                   f"({mistake.where}): {full.first_feedback[:120]!r}")
    return Check(f"mistake {mistake.id}", True, f"caught by {len(public.caught)} public test(s), named only "
                                              f"at grading, in {len(full.named)}")


@dataclass(frozen=True)
class _Caught:
    """Which tests of a graded planted mistake failed, and which of those named it."""

    caught: list[str]
    named: list[str]
    first_feedback: str


def _caught(results: Results, mistake: Mistake) -> _Caught:
    failed = [t for t in results.tests if not t.passed]
    return _Caught([t.name for t in failed], [t.name for t in failed if mistake.id in t.mistakes],
                   failed[0].feedback if failed else "")


NO_WORK = {"zeros": "0.0", "halves": "0.5", "random": "", "echo": ""}


def _plant_no_work(assignment: Assignment, kind: str, folder: Path, renderer: Renderer) -> None:
    """A copy of the reference in ``folder`` whose every function returns ``kind`` and does no work."""
    for source in assignment.solutions.glob("*.py"):
        shutil.copy(source, folder / source.name)
    (folder / "_gatelab_no_work.py").write_text(renderer.render("no_work_shim.j2", kind=kind, fill=NO_WORK[kind]))
    for module in assignment.contract.modules:
        names = [f.name for f in assignment.contract.functions_of(module)]
        target = folder / f"{module}.py"
        target.write_text(target.read_text() + renderer.render("no_work_tail.j2", kind=kind, names=names))


def _no_work_results(assignment: Assignment, kind: str, renderer: Renderer) -> Results:
    with tempfile.TemporaryDirectory(prefix="gatelab-audit-") as tmp:
        _plant_no_work(assignment, kind, Path(tmp), renderer)
        return grade(assignment, Path(tmp), Request(quiz="none"), renderer=renderer)


def check_no_work(assignment: Assignment, kind: str, renderer: Renderer) -> Check:
    """A submission that does no work (of one ``kind``) must earn no code point."""
    results = _no_work_results(assignment, kind, renderer)
    paid = [t.name for t in results.tests if t.score > 0]
    detail = f"{results.score:g}/{results.max_score:g}" + (f"; paid: {', '.join(paid[:3])}" if paid else "")
    return Check(f"no work earns nothing ({kind})", not paid, detail)


def check_determinism(assignment: Assignment, renderer: Renderer) -> Check:
    """Two runs on a submission whose feedback shows values drawn from the inputs must agree to the letter.

    A submission that returns random numbers is wrong everywhere, so every
    test's feedback quotes the expected values, which come from the seeded
    inputs: if the inputs of a run were not what the seed makes, the two
    runs would differ.
    """
    runs = [_no_work_results(assignment, "random", renderer) for _ in range(2)]
    first, second = ([(t.name, t.score, t.feedback) for t in r.tests] for r in runs)
    differing = [a[0] for a, b in zip(first, second) if a != b]
    detail = f"seed {assignment.seed}, {len(first)} tests" if first == second and first else \
        f"{len(differing)} test(s) differ, first {differing[0] if differing else 'the number of tests'}"
    return Check("same seed, same results", first == second and bool(first), detail)


def _needs_work(reference: Reference, contract: Contract, fn: Function, case: Case, seed: int) -> bool:
    args = make_args(contract, fn, case, seed)
    return diagnostics.needs_work(reference.function(fn.qualname)(*copy.deepcopy(args)), args)


def check_public_evidence(assignment: Assignment) -> Check:
    """Every function has a visible case whose right answer needs work (else a local check cannot pay it)."""
    contract = assignment.contract
    reference = Reference(assignment.solutions, contract.modules)
    lacking = []
    for fn in contract.functions:
        cases = [s.case for s in assignment.tests if s.function == fn and s.aspect == VALUES
                 and s.visibility == "visible"]
        if not any(_needs_work(reference, contract, fn, case, assignment.seed) for case in cases):
            lacking.append(fn.qualname)
    return Check("each function has a public case needing work", not lacking,
               f"none for {', '.join(lacking)}" if lacking else f"{len(contract.functions)} functions")


@functools.lru_cache(maxsize=1)
def _loaded(root: str) -> tuple[Assignment, Renderer, dict[str, Mistake]]:
    """The assignment at ``root``, its renderer and catalog, loaded once per process of the pool."""
    from gatelab.course import config

    assignment = config.load(Path(root))
    mistakes = catalog.load(assignment.grader / "mistakes", assignment.contract).mistakes
    return assignment, for_assignment(assignment.grader), {m.id: m for m in mistakes}


def _whole_runs(assignment: Assignment, renderer: Renderer) -> dict[str, Callable[[], Check]]:
    """The checks that grade a whole submission (the slow ones), by the name the progress shows."""
    def reference() -> Check:
        results = grade(assignment, assignment.solutions, Request(quiz="none"), renderer=renderer)
        return Check("reference gets full marks", results.full_marks, _summary(results))

    def stubs() -> Check:
        results = grade(assignment, assignment.exercises, Request(quiz="none"), renderer=renderer)
        return Check("stubs get zero", results.score == 0, _summary(results))

    runs: dict[str, Callable[[], Check]] = {"reference": reference, "stubs": stubs,
                                          "determinism": lambda: check_determinism(assignment, renderer)}
    for kind in NO_WORK:
        runs[f"no work ({kind})"] = functools.partial(check_no_work, assignment, kind, renderer)
    return runs


def _pooled_row(root: str, name: str) -> Check:
    """One check in a process of the pool: a mistake's id, or the name of a whole run; only names cross."""
    assignment, renderer, mistakes = _loaded(root)
    if name in mistakes:
        return check_mistake(assignment, mistakes[name], renderer)
    return _whole_runs(assignment, renderer)[name]()


def _rows(assignment: Assignment, renderer: Renderer, names: list[str], mistakes: dict[str, Mistake], jobs: int,
          step: Callable[[str], None]) -> dict[str, Check]:
    """The named checks (whole runs and planted mistakes), ``jobs`` at a time, each in a process of a pool."""
    if jobs <= 1:
        runs = _whole_runs(assignment, renderer)
        done = {}
        for name in names:
            done[name] = check_mistake(assignment, mistakes[name], renderer) if name in mistakes else runs[name]()
            step(name)
        return done
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {name: pool.submit(_pooled_row, str(assignment.root), name) for name in names}
        done = {}
        for name, future in futures.items():
            done[name] = future.result()
            step(name)
        return done


def run(assignment: Assignment, renderer: Renderer, on_step: Callable[[str], None] | None = None,
        jobs: int = 1) -> list[Check]:
    """Every audit check, in order; ``on_step`` hears the name of each slow check as it ends. The whole runs
    (reference, stubs, determinism, no work) and the planted mistakes go ``jobs`` at a time, each in a process
    of one pool: the reference's run is as long as the longest test, and waits for nothing else."""
    step = on_step or (lambda _name: None)
    bank, problems = linting.validate(assignment.grader / "quiz")
    catalogued = catalog.load(assignment.grader / "mistakes", assignment.contract)
    mistakes = {m.id: m for m in catalogued.mistakes}
    whole = list(_whole_runs(assignment, renderer))
    done = _rows(assignment, renderer, whole + list(mistakes), mistakes, jobs, step)
    stale = generate.stale(assignment)
    return [Check("question bank validates", not problems,
                f"{len(problems)} problem(s): {problems[0]}" if problems else f"{len(bank.questions)} questions"),
            done["reference"], done["stubs"],
            Check("generated files are up to date", not stale,
                "in sync" if not stale else f"out of date: {', '.join(p.name for p in stale)}; run grade generate"),
            done["determinism"], check_public_evidence(assignment),
            *(done[f"no work ({kind})"] for kind in NO_WORK),
            Check("catalog loads", True, f"{len(mistakes)} mistakes"),
            *(done[name] for name in mistakes)]


def render(assignment: Assignment, renderer: Renderer, rows: list[Check], style: Callable[..., str]) -> str:
    return renderer.render("audit.j2", title=assignment.title, rows=rows, holes=[r for r in rows if not r.ok],
                           style=style)
