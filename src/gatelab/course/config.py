"""``grader/config.yaml`` as frozen dataclasses, validated with file:line messages.

The file says where the reference and the exercises are, the seed, the
limits of one call, the named input cases, and for every contract function
which cases it is tested on. Each function's points are split over aspects,
so one bug does not zero a function: the values on each of its cases, plus
``shape_and_dtype`` and ``inputs_unchanged`` judged over all its cases.
"""
from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from gatelab import archive
from gatelab.course import contract as contracts
from gatelab.course.case import Case
from gatelab.course.contract import Contract, Function, choice_index
from gatelab.course.limits import POLICIES, STRICT, Limits
from gatelab.errors import ConfigError, UsageError, did_you_mean
from gatelab.yamlsource import YamlSource

CONFIG_NAME = Path("grader") / "config.yaml"
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
VALUES = "values"
ASPECTS = {"shape_and_dtype": "shape and dtype", "inputs_unchanged": "inputs left unchanged"}
ASPECT_ORDER = (VALUES, "shape_and_dtype", "inputs_unchanged")  # values first: their feedback leads


@dataclass(frozen=True)
class TestSpec:
    """One graded test: an aspect of a function, on one case (values) or on all its cases."""

    __test__ = False  # not a pytest test class

    function: Function
    aspect: str
    cases: tuple[Case, ...]
    points: float
    visibility: str
    title: str = ""  # the case's title as this function's test shows it (Case.label_for); default its label

    @property
    def case(self) -> Case:
        """The case of a values test (the first case for an aspect over several)."""
        return self.cases[0]

    @property
    def name(self) -> str:
        detail = (self.title or self.case.label) if self.aspect == VALUES else ASPECTS[self.aspect]
        return f"{self.function.qualname}: {detail}"

    @property
    def key(self) -> str:
        """Short id: ``module.function-case`` or ``module.function-shape_and_dtype``."""
        return f"{self.function.qualname}-{self.case.name if self.aspect == VALUES else self.aspect}"


QUIZ_FEEDBACK = ("verdict", "full")
LOCAL_FEEDBACK = ("unmarked", "marked")  # quiz.local_feedback: whether a student's own check tells right from wrong


@dataclass(frozen=True)
class QuizFeedback:
    """What a student sees of the quiz in an LMS: ``now`` (the verdict, or the full feedback), and when the full
    feedback (explanations, right answers) shows, as a visibility."""

    now: str = "verdict"
    later: str = "after_due_date"


# A Docker image reference (Docker's own grammar, simplified): [registry[:port]/]path[:tag][@sha256:digest]
IMAGE = re.compile(r"(?:[a-zA-Z0-9.-]+(?::\d+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
                   r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::\w[\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?")
DEFAULT_QUIZ_SHARE = 0.25  # the quiz is a quarter of the points: it never outweighs the code by default


def _quiz_share(doc: YamlSource, node: yaml.Node | None) -> float:
    """``quiz.share``: the quiz's part of the assignment's points (this file's code tests + quiz), in (0, 1)."""
    entries = doc.mapping(node, "quiz")
    if "share" not in entries:
        return DEFAULT_QUIZ_SHARE
    share: float = doc.typed(entries["share"], float, "quiz.share")
    if not 0 < share < 1:
        raise ConfigError(f"quiz.share must be a fraction between 0 and 1 (0.25: a quarter of the points), "
                          f"not {share:g}", doc.where(entries["share"]))
    return share


def _quiz_feedback(doc: YamlSource, node: yaml.Node | None) -> QuizFeedback:
    entries = doc.mapping(node, "quiz")
    doc.check_keys(entries, ("feedback", "explanations", "share", "local_feedback"), "quiz")
    now = doc.value(entries["feedback"]) if "feedback" in entries else "verdict"
    if now not in QUIZ_FEEDBACK:
        raise ConfigError(f"quiz.feedback must be one of {', '.join(QUIZ_FEEDBACK)}, not {now!r}",
                          doc.where(entries["feedback"]))
    later = doc.value(entries["explanations"]) if "explanations" in entries else "after_due_date"
    if later not in VISIBILITIES:
        raise ConfigError(f"quiz.explanations must be one of {', '.join(VISIBILITIES)}, not {later!r}",
                          doc.where(entries["explanations"]))
    return QuizFeedback(now, later)


def _local_feedback(doc: YamlSource, node: yaml.Node | None) -> str:
    """``quiz.local_feedback``: ``unmarked`` (the default: the student's lock cannot tell right from wrong, so a
    graded quiz is not free points) or ``marked`` (a practice quiz: the lock checks answers at home)."""
    entries = doc.mapping(node, "quiz")
    if "local_feedback" not in entries:
        return LOCAL_FEEDBACK[0]
    value = doc.value(entries["local_feedback"])
    if value not in LOCAL_FEEDBACK:
        raise ConfigError(f"quiz.local_feedback must be one of {', '.join(LOCAL_FEEDBACK)}, not {value!r}",
                          doc.where(entries["local_feedback"]))
    return str(value)


@dataclass(frozen=True)
class Assignment:
    """Everything the grader needs to know about one assignment folder."""

    root: Path
    title: str
    contract: Contract
    solutions: Path
    exercises: Path
    seed: int
    limits: Limits
    cases: dict[str, Case]
    tests: tuple[TestSpec, ...]
    recorded_checksum: str = ""
    quiz: QuizFeedback = QuizFeedback()
    recorded: Path | None = None  # a student release: the recorded answers for the public cases, no reference
    withheld: dict[str, tuple[int, float]] = field(default_factory=dict)  # a release: function -> (tests, points)
    #                                                                      run only at grading
    quiz_share: float = DEFAULT_QUIZ_SHARE  # the quiz's part of code + quiz points (quiz.share)
    local_feedback: str = LOCAL_FEEDBACK[0]  # quiz.local_feedback: does the student's lock mark answers
    isolation: str = "strict"  # strict: autograde and batch refuse where the kernel's wall cannot be built; weak
    prairielearn_image: str = ""  # prairielearn.image: the grading image a PrairieLearn question names

    @property
    def grader(self) -> Path:
        return self.root / "grader"

    @property
    def code_points(self) -> float:
        """The points of the tests in config.yaml, hidden ones included (a release counts them as withheld).

        The same in the repository and in a release, so the quiz weighs the same everywhere.
        """
        return sum(t.points for t in self.tests) + sum(points for _, points in self.withheld.values())

    @functools.cached_property
    def checksum(self) -> str:
        """A fingerprint of what grades: the grader's files and the reference (or the one a release recorded),
        read once per loaded assignment (a batch's process asks for it for every submission)."""
        return self.recorded_checksum or fingerprint([self.grader, self.solutions], self.root)


def fingerprint(folders: list[Path], root: Path) -> str:
    """sha256 over every file under ``folders`` (name and bytes, in a fixed order), caches left out."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in archive.files(folder):
            name = path.relative_to(root) if path.is_relative_to(root) else path.relative_to(folder.parent)
            digest.update(str(name).replace("\\", "/").encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` that holds ``grader/config.yaml``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise UsageError(f"no {CONFIG_NAME} in {start} or any folder above it; "
                     "run inside an assignment or pass --assignment DIR")


def _limits(doc: YamlSource, node: yaml.Node | None) -> Limits:
    entries = doc.mapping(node, "limits")
    doc.check_keys(entries, tuple(f.name for f in fields(Limits)), "limits")
    values = {}
    for f in fields(Limits):
        if f.name in entries:
            kind = float if f.type in ("float", float) else int
            values[f.name] = doc.typed(entries[f.name], kind, f"limits.{f.name}")
            if values[f.name] <= 0:
                raise ConfigError(f"limits.{f.name} must be positive", doc.where(entries[f.name]))
    return Limits(**values)


def _cases(doc: YamlSource, node: yaml.Node | None, contract: Contract) -> dict[str, Case]:
    """Named cases: a value for every dimension of the contract, and for any of its variables."""
    dimensions = [d.name for d in contract.dimensions]
    defaults = dict(contract.variables)
    cases = {}
    for name, case_node in doc.mapping(node, "cases").items():
        if name in ASPECTS:
            raise ConfigError(f"{name!r} names an aspect; give the case another name", doc.where(case_node))
        entries = doc.mapping(case_node, f"cases.{name}")
        doc.check_keys(entries, (*dimensions, *defaults, "title"), f"cases.{name}")
        missing = [d for d in dimensions if d not in entries]
        if missing:
            raise ConfigError(f"cases.{name} gives no value for {', '.join(missing)} (every dimension of the "
                              "contract needs one)", doc.where(case_node))
        values: dict[str, float] = dict(defaults)
        for key, value_node in entries.items():
            if key == "title":
                continue
            values[key] = doc.typed(value_node, int if key in dimensions else float, f"cases.{name}.{key}")
            if key in dimensions and values[key] <= 0:
                raise ConfigError(f"cases.{name}.{key} must be positive", doc.where(value_node))
            for kind in (k for k in contract.kinds.values() if k.by == key):
                try:
                    choice_index(kind, values)
                except ConfigError as exc:
                    raise ConfigError(f"cases.{name}.{key}: {exc.args[0]}", doc.where(value_node)) from None
        title = doc.typed(entries["title"], str, f"cases.{name}.title") if "title" in entries else ""
        ordered = tuple((k, values[k]) for k in (*dimensions, *defaults))
        cases[name] = Case(name=name, values=ordered, title=title)
    if not cases:
        raise ConfigError("no cases are defined", str(doc.path))
    return cases


def _settings(doc: YamlSource, node: yaml.Node | None, what: str,
              default: tuple[float, str]) -> tuple[float, str]:
    """(points, visibility) from ``{points: 2, visibility: visible}``, falling back to ``default``."""
    entries = doc.mapping(node, what)
    doc.check_keys(entries, ("points", "visibility"), what)
    points, visibility = default
    if "points" in entries:
        points = doc.typed(entries["points"], float, f"{what}.points")
        if points <= 0:
            raise ConfigError("points must be positive", doc.where(entries["points"]))
    if "visibility" in entries:
        visibility = doc.value(entries["visibility"])
        if visibility not in VISIBILITIES:
            raise ConfigError(f"visibility must be one of {', '.join(VISIBILITIES)}, not {visibility!r}",
                              doc.where(entries["visibility"]))
    return points, visibility


def _is_off(doc: YamlSource, node: yaml.Node | None) -> bool:
    """``false`` where an aspect's settings go: that aspect is not tested (a release leaves hidden ones out)."""
    return isinstance(node, yaml.ScalarNode) and doc.value(node) is False


def _function_tests(doc: YamlSource, contract: Contract, fn: Function, node: yaml.Node, cases: dict[str, Case],
                    aspect_defaults: dict[str, tuple[float, str] | None]) -> list[TestSpec]:
    entries = doc.mapping(node, f"tests.{fn.qualname}")
    names = [*cases, *ASPECTS]
    for key, entry in entries.items():
        if key not in names:
            raise ConfigError(f"unknown case {key!r} for {fn.qualname}.{did_you_mean(key, names)}", doc.where(entry))
    own_cases = tuple(cases[k] for k in entries if k in cases)
    if not own_cases:
        raise ConfigError(f"{fn.qualname} is tested on no case", doc.where(node))
    dimensions, used = {d.name for d in contract.dimensions}, contract.dimensions_used(fn)
    specs = [TestSpec(fn, VALUES, (case,), *_settings(doc, entries[case.name], f"tests.{fn.qualname}.{case.name}",
                                                        (1.0, "hidden")), title=case.label_for(dimensions, used))
             for case in own_cases]
    for aspect, default in aspect_defaults.items():
        setting = entries.get(aspect)
        if _is_off(doc, setting) or (default is None and setting is None):
            continue
        points, visibility = _settings(doc, setting, f"tests.{fn.qualname}.{aspect}", default or (1.0, "visible"))
        specs.append(TestSpec(fn, aspect, own_cases, points, visibility))
    return sorted(specs, key=lambda s: ASPECT_ORDER.index(s.aspect))


def _tests(doc: YamlSource, node: yaml.Node | None, cases: dict[str, Case],
           aspects: yaml.Node | None, contract: Contract) -> tuple[TestSpec, ...]:
    aspect_entries = doc.mapping(aspects, "aspects")
    doc.check_keys(aspect_entries, tuple(ASPECTS), "aspects")
    aspect_defaults: dict[str, tuple[float, str] | None] = {
        name: None if _is_off(doc, aspect_entries.get(name)) else
        _settings(doc, aspect_entries.get(name), f"aspects.{name}", (1.0, "visible")) for name in ASPECTS}
    specs: list[TestSpec] = []
    seen = set()
    for qualname, per_function in doc.mapping(node, "tests").items():
        if qualname not in contract.by_name:
            raise ConfigError(f"{qualname!r} is not a function of the contract."
                              f"{did_you_mean(qualname, contract.by_name)}", doc.where(per_function))
        seen.add(qualname)
        specs.extend(_function_tests(doc, contract, contract.lookup(qualname), per_function, cases, aspect_defaults))
    untested = [f.qualname for f in contract.functions if f.qualname not in seen]
    if untested:
        raise ConfigError(f"no tests for {', '.join(untested)}: every function of the contract needs some",
                          str(doc.path))
    return tuple(specs)


def load(root: Path) -> Assignment:
    """Read and validate ``root/grader/config.yaml``."""
    path = Path(root).resolve() / CONFIG_NAME
    doc = YamlSource(path)
    top = doc.mapping(doc.root, "the file")
    doc.check_keys(top, ("title", "solutions", "exercises", "seed", "limits", "isolation", "cases", "aspects",
                         "tests", "quiz", "checksum", "recorded", "withheld", "prairielearn"), "the file")

    def folder_of(key: str, default: str) -> Path:
        return (path.parent / (doc.typed(top[key], str, key) if key in top else default)).resolve()

    contract = contracts.load(path.parent)
    cases = _cases(doc, top.get("cases"), contract)
    return Assignment(
        root=path.parent.parent,
        title=doc.typed(top["title"], str, "title") if "title" in top else path.parent.parent.name,
        contract=contract,
        solutions=folder_of("solutions", "../solutions"),
        exercises=folder_of("exercises", "../exercises"),
        seed=doc.typed(top["seed"], int, "seed") if "seed" in top else 0,
        limits=_limits(doc, top.get("limits")),
        cases=cases,
        tests=_tests(doc, top.get("tests"), cases, top.get("aspects"), contract),
        recorded_checksum=doc.typed(top["checksum"], str, "checksum") if "checksum" in top else "",
        quiz=_quiz_feedback(doc, top.get("quiz")),
        quiz_share=_quiz_share(doc, top.get("quiz")),
        local_feedback=_local_feedback(doc, top.get("quiz")),
        recorded=path.parent / doc.typed(top["recorded"], str, "recorded") if "recorded" in top else None,
        withheld=_withheld(doc, top.get("withheld")),
        isolation=_isolation(doc, top.get("isolation")),
        prairielearn_image=_prairielearn_image(doc, top.get("prairielearn")),
    )


def _prairielearn_image(doc: YamlSource, node: yaml.Node | None) -> str:
    """``prairielearn.image``: the Docker image a PrairieLearn question is graded in (``""`` when not set)."""
    entries = doc.mapping(node, "prairielearn")
    doc.check_keys(entries, ("image",), "prairielearn")
    if "image" not in entries:
        return ""
    image: str = doc.typed(entries["image"], str, "prairielearn.image")
    if not IMAGE.fullmatch(image):
        raise ConfigError(f"prairielearn.image must be a Docker image name like yourname/gatelab:1.0, not {image!r}",
                          doc.where(entries["image"]))
    return image


def _isolation(doc: YamlSource, node: yaml.Node | None) -> str:
    """``isolation``: strict (the default) or weak."""
    if node is None:
        return STRICT
    value: str = doc.typed(node, str, "isolation")
    if value not in POLICIES:
        raise ConfigError(f"isolation must be one of {', '.join(POLICIES)}, not {value!r}", doc.where(node))
    return value


def _withheld(doc: YamlSource, node: yaml.Node | None) -> dict[str, tuple[int, float]]:
    """A release's tests that run only at grading, per function: (how many, their points)."""
    withheld = {}
    for qualname, entry_node in doc.mapping(node, "withheld").items():
        entry = doc.mapping(entry_node, f"withheld.{qualname}")
        doc.check_keys(entry, ("tests", "points"), f"withheld.{qualname}")
        withheld[qualname] = (doc.typed(entry["tests"], int, "tests") if "tests" in entry else 0,
                              doc.typed(entry["points"], float, "points") if "points" in entry else 0.0)
    return withheld
