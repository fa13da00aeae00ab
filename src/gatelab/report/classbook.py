"""A class's results: the gradebook Canvas imports, and the summary page an instructor reads.

``grades.csv`` follows Canvas's gradebook export (Student, ID, SIS User ID,
SIS Login ID, Section, then a column per assignment, and the Points Possible
row), which Canvas's importer reads back: it finds each student by ID (their
Canvas user id), else SIS User ID, else SIS Login ID, else name. A student of
a Canvas download is their Canvas id (from the download's file names); a
folder maps to the roster: with ``--roster`` (a Canvas gradebook export), a
folder named by a student's SIS User ID, SIS Login ID, Canvas ID or name
("Last, First" as the roster has it, or "First Last", accents kept) takes
that student's row; without one, the folder name is the student, the SIS
User ID and the SIS Login ID.

``summary.html`` aggregates the rows: a score histogram, the pass rate per
function, the most frequent named mistakes per function, the hardest
questions, and why submissions lost their points wholesale: every zero with
its reasons (``reasons``), and the submissions that hit limits or could not be
graded.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from gatelab.report import folding, reasons
from gatelab.report.render import Renderer
from gatelab.report.results import QUIZ

COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def read_roster(path: Path) -> list[dict[str, str]]:
    """The students of a Canvas gradebook export (its Points Possible row left out)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return [row for row in csv.DictReader(handle) if row.get("Student", "").strip()
                and "Points Possible" not in row.get("Student", "")]


KEYS = ("SIS User ID", "SIS Login ID", "ID", "Student")  # what a folder may be named by, preferred first
FORMULA = ("=", "+", "-", "@", "\t", "\r")  # how a cell a spreadsheet would run as a formula begins


@dataclass
class Gradebook:
    """grades.csv, and what an instructor must see to before importing it."""

    text: str
    unmatched: list[str] = field(default_factory=list)  # not in the roster: written under their folder's name
    unresolved: list[str] = field(default_factory=list)  # submissions that take no row, and why


def cell(value: str | float) -> str:
    """A CSV cell no spreadsheet runs: a number as a number (a negative score stays one, for the LMS to
    read); text that begins like a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return) after a single
    quote, OWASP's rule. Canvas shows the quote in a name; an id so escaped matches no one, and is reported."""
    if isinstance(value, (int, float)):
        return f"{round(value, 2):g}"
    return "'" + value if value.startswith(FORMULA) else value


def _same(text: str) -> str:
    """A name or id as compared: NFC (a Mac's names are decomposed), trimmed, case folded; accents stay."""
    return unicodedata.normalize("NFC", text).strip().casefold()


def _first_last(sortable: str) -> str:
    """"Last, First" as "First Last" (the display name Canvas shows); a name without a comma as it is."""
    last, comma, first = sortable.partition(",")
    return f"{first.strip()} {last.strip()}" if comma and first.strip() else sortable


def _label(row: Any) -> str:
    """What a submission calls itself: its folder's name, or its zip's without .zip, as written."""
    path = Path(row.source)
    return path.stem if path.suffix.lower() == ".zip" else path.name


def _canvas(row: Any) -> tuple[str, str]:
    """(name, Canvas id) of a student of a Canvas download; ("", "") for a folder (or a row without them)."""
    return getattr(row, "canvas_name", ""), getattr(row, "canvas_id", "")


def _matches(row: Any, roster: list[dict[str, str]]) -> list[dict[str, str]]:
    """The roster's students that ``row`` names. A student of a Canvas download: the one with their Canvas
    id, never guessed from their name. A folder: by the first key of :data:`KEYS` that names any, its name
    as written or as cleaned up, then by name ("Last, First" or "First Last")."""
    name, canvas_id = _canvas(row)
    if name:
        return [p for p in roster if canvas_id and (p.get("ID") or "").strip() == canvas_id]
    wanted = {_same(_label(row)), _same(row.student)} - {""}
    for key in KEYS:
        found = [person for person in roster if _same(person.get(key) or "") in wanted]
        if found:
            return found
    return [person for person in roster if _same(_first_last(person.get("Student") or "")) in wanted]


def _folder(row: Any) -> str:
    return repr(Path(row.source).name)


def canvas_csv(rows: list[Any], column: str, roster: list[dict[str, str]] | None = None) -> Gradebook:
    """grades.csv for ``rows``. A submission takes a roster row only when it names one student and no other
    submission names the same one: two folders of one student, or a name shared in the roster, take none
    (nothing is decided by order), and the gradebook says which and why."""
    book = Gradebook("")
    named = {id(row): _matches(row, roster) if roster else [] for row in rows}
    by_person: dict[int, list[Any]] = {}
    for row in rows:
        people = named[id(row)]
        if row.unclear:
            book.unresolved.append(row.error)
        elif len(people) > 1:
            book.unresolved.append(f"the folder {_folder(row)} names {len(people)} students of the roster ("
                                  + "; ".join(p.get("Student", "") for p in people)
                                  + "): it takes no row; rename it to one of their SIS User IDs")
        elif people:
            by_person.setdefault(id(people[0]), []).append(row)
    for group in by_person.values():
        if len(group) > 1:
            book.unresolved.append(f"the folders {', '.join(_folder(row) for row in group)} all name "
                                  f"{named[id(group[0])][0].get('Student', '')} of the roster: none of them "
                                  "takes the row; remove all but one and grade again")
    takes = {id(group[0]): named[id(group[0])][0] for group in by_person.values() if len(group) == 1}
    book.unresolved = list(dict.fromkeys(book.unresolved))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180's; and a cell holding a lone \r is quoted
    writer.writerow([cell(c) for c in (*COLUMNS, column)])
    possible = max((row.max_score for row in rows if not row.unclear), default=0.0)
    # nothing graded: an empty cell, which Canvas's importer leaves alone (0 would become the assignment's points)
    writer.writerow([cell("    Points Possible"), "", "", "", "", cell(possible) if possible > 0 else ""])
    for row in rows:
        if row.unclear or (named[id(row)] and id(row) not in takes):
            continue
        person = takes.get(id(row))
        if roster and person is None:
            book.unmatched.append(row.student)
        person = person or _unrostered(row)
        writer.writerow([cell(person.get(c, "")) for c in COLUMNS] + [cell(row.score)])
    book.text = out.getvalue()
    return book


def _unrostered(row: Any) -> dict[str, str]:
    """The row of a student the roster does not give: a Canvas download's by Canvas id (Canvas's importer
    looks for it first), a folder's by its name: cleaned up as SIS User ID and SIS Login ID, as written as
    the Student (Canvas's importer, finding no id, takes a student whose name or "Last, First" it is)."""
    name, canvas_id = _canvas(row)
    if name:
        return {"Student": name, "ID": canvas_id, "SIS User ID": "", "SIS Login ID": "", "Section": ""}
    label = unicodedata.normalize("NFC", _label(row)).strip() or row.student  # "Müller, Zoë": Canvas's name
    return {"Student": label, "ID": "", "SIS User ID": row.student, "SIS Login ID": row.student, "Section": ""}


def digest(results: dict[str, Any]) -> dict[str, Any]:
    """What the class summary needs of one submission's results (gatelab's JSON): per function its points,
    what is possible and the mistakes named; per answered question the share earned; the limits hit; the
    reasons it lost points wholesale (:func:`reasons.findings`); per function its own wrong values on each
    case, as digests (``case=digest``), and the aspects it failed once judged (``aspect=failed``): what a
    similarity check compares. A batch keeps this, not the results (written
    to results/), so its memory does not grow with every test's feedback."""
    functions: dict[str, list[Any]] = {}
    questions: dict[str, float] = {}
    wrong: dict[str, list[str]] = {}
    for test in results.get("tests", []):
        if test.get("kind") == "question":
            if test["max_score"] > 0 and test.get("mark") != "unanswered":
                questions[test["function"].removeprefix(f"{QUIZ}.")] = test["score"] / test["max_score"]
            continue
        if test.get("kind") == "aspect" and test.get("judged", True) and test["score"] < test["max_score"]:
            wrong.setdefault(test["function"], []).append(f"{test.get('case', '')}=failed")
        entry = functions.setdefault(test["function"], [0.0, 0.0, []])
        entry[0] += test["score"]
        entry[1] += test["max_score"]
        entry[2].extend(m for m in test.get("mistakes", []) if m not in entry[2])
        if test.get("wrong_output"):
            wrong.setdefault(test["function"], []).append(f"{test.get('case', '')}={test['wrong_output']}")
    return {"functions": functions, "questions": questions, "limits_hit": list(results.get("limits_hit", [])),
            "findings": reasons.findings(results), "wrong": {f: sorted(set(v)) for f, v in wrong.items()}}


def _histogram(rows: list[Any], bins: int = 10) -> list[dict[str, Any]]:
    graded = [row for row in rows if row.max_score > 0]
    top = max((row.max_score for row in graded), default=1.0)
    counts = [0] * bins
    for row in graded:
        counts[min(bins - 1, int(bins * row.score / top))] += 1
    return [{"low": top * i / bins, "high": top * (i + 1) / bins, "count": n} for i, n in enumerate(counts)]


def aggregate(rows: list[Any]) -> dict[str, Any]:
    """The numbers the summary shows, from each row's ``digest``."""
    passed: Counter[str] = Counter()
    graded: Counter[str] = Counter()
    mistakes: dict[str, Counter[str]] = {}
    questions: dict[str, list[float]] = {}
    for row in rows:
        for function, (score, possible, named) in row.digest.get("functions", {}).items():
            graded[function] += 1
            passed[function] += score >= possible > 0
            mistakes.setdefault(function, Counter()).update(named)  # once per submission
        for question, share in row.digest.get("questions", {}).items():
            questions.setdefault(question, []).append(share)
    table = [{"function": name, "pass_rate": passed[name] / graded[name], "graded": graded[name],
              "mistakes": mistakes[name].most_common(3)} for name in graded]
    means = sorted((sum(v) / len(v), q, len(v)) for q, v in questions.items())
    hardest = [{"question": q, "mean": mean, "answers": n} for mean, q, n in means[:5]]
    scores = [row.score for row in rows if not row.error]
    return {"count": len(rows), "graded": len(scores), "mean": sum(scores) / len(scores) if scores else 0.0,
            "max_score": max((row.max_score for row in rows), default=0.0), "histogram": _histogram(rows),
            "functions": table, "hardest": hardest}


def summary_html(rows: list[Any], title: str, renderer: Renderer, explained: reasons.Explained | None = None,
                 unresolved: Sequence[str] = (), similarity: Any = None) -> str:
    """The class summary page; ``explained``: why submissions lost points (default: from the rows alone,
    without who came late or matches no one in the roster); ``similarity``: the class compared
    (``similarity.compare.Comparison``), for its section."""
    return renderer.render("summary.html.j2", title=title, data=aggregate(rows), unresolved=list(unresolved),
                           explained=explained or reasons.explain(rows), similarity=similarity)


def feedback_html(results: dict[str, Any], renderer: Renderer) -> str:
    """One student's feedback as a page: per-function table, failures (each message once), passes."""
    return renderer.render("feedback.html.j2", results=results, page=folding.sections(results))
