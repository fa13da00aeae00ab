"""The quiz lock (format 2): nothing readable without the answer, sealed feedback, tamper and old-format errors,
and ``quiz.local_feedback`` marked or unmarked, down to `grade check` in a real student release."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from conftest import COURSE, build_release
from gatelab import grading
from gatelab.authoring import generate
from gatelab.course import config
from gatelab.errors import ConfigError
from gatelab.quiz import bank as quiz
from gatelab.quiz import loading, lock, seal, variants
from gatelab.quiz.bank import Templates

BANK = loading.load(COURSE / "grader" / "quiz")
LOCKED_TEXT = (COURSE / "exercises" / lock.LOCK_NAME).read_text(encoding="utf-8")
SHOWN = ("id", "type", "points", "prompt", "hints", "tags", "variables", "choices", "items", "shuffle",
         "tolerance", "regex_accepted")  # what a student must see (or that tells nothing: metadata)


def _strings(node) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in [str(key), *_strings(value)]]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return [str(node)]


def _secrets(question: quiz.Question) -> tuple[list[str], list[str]]:
    """(every feedback text, every answer text) of a question, rendered for each of its variants."""
    templates, feedback, answers = Templates(), [], []
    for values in question.all_values():
        texts = [question.explanation, question.feedback_wrong, *(c.feedback for c in question.choices),
                 *(w.feedback for w in question.wrong)]
        feedback += [templates.render(t, values).strip() for t in texts if t.strip()]
        answers += [templates.render(a.text, values).strip() for a in question.accepted if not a.regex]
        answers += [templates.render(w.answer, values).strip() for w in question.wrong
                    if not w.regex and question.type != "numeric"]
        if question.type == "numeric":
            answers.append(repr(templates.number(question.answer, values)))
    return feedback, answers


@pytest.mark.parametrize("marked", [True, False], ids=["marked", "unmarked"])
def test_the_lock_holds_no_feedback_and_no_answer_in_plain_text(marked):
    """Every feedback text of the bank (each line of it) and every answer is absent from the serialized lock;
    answers are also absent from everything but what the student must be shown."""
    text = LOCKED_TEXT if marked else lock.lock_bank(BANK, "0" * 32, marked=False)
    document = yaml.safe_load(text)
    everything = "\n".join([text, *_strings(document)])
    rest = _strings([{k: list(v.values()) if k == "variants" else v for k, v in q.items() if k not in SHOWN}
                     for q in document["questions"]])  # a variant's key is its variables, shown with the prompt
    hidden = "\n".join(rest)
    for question in BANK.questions:
        feedback, answers = _secrets(question)
        for piece in (line.strip() for text in feedback for line in text.splitlines()):
            assert len(piece) < 12 or piece not in everything, (question.id, piece)
        for answer in answers:
            assert answer not in rest and (len(answer) < 4 or answer not in hidden), (question.id, answer)


def test_the_right_answer_unseals_its_feedback_and_a_wrong_one_does_not():
    """A true/false question: the wrong answer opens the feedback it earns, the right one the explanation, and
    neither key opens the other's box or passes the other's check."""
    question = next(q for q in BANK.questions if q.type == "true_false" and q.feedback_wrong)
    locked = lock.load_locked(COURSE / "exercises" / lock.LOCK_NAME)
    entry = locked.records[question.id]["variants"]["{}"]
    right = locked.keys(question.id, "{}", f"bool:{str(question.answer).lower()}")
    wrong = locked.keys(question.id, "{}", f"bool:{str(not question.answer).lower()}")
    boxes = {b["tag"]: b["box"] for b in entry["sealed"]}
    assert right.check_value in entry["right"] and wrong.check_value not in entry["right"]
    assert seal.unseal(wrong, boxes[wrong.tag]) == question.feedback_wrong
    assert seal.unseal(right, boxes[right.tag]) == question.explanation
    for keys, other in ((wrong, boxes[right.tag]), (right, boxes[wrong.tag])):
        with pytest.raises(seal.Tampered):
            seal.unseal(keys, other)


def test_an_edited_lock_is_detected(tmp_path):
    """A changed byte in a sealed text is named as an edit: by the digest, and by the box itself when the
    digest was recomputed."""
    document = yaml.safe_load(LOCKED_TEXT)
    record = next(q for q in document["questions"] if q["type"] == "true_false")
    box = record["variants"]["{}"]["sealed"][0]
    box["box"] = box["box"][:-6] + ("AAAA" if box["box"][-6:-2] != "AAAA" else "BBBB") + box["box"][-2:]
    path = tmp_path / lock.LOCK_NAME
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(ConfigError, match="changed after it was generated"):
        lock.load_locked(path)
    document["digest"] = lock.digest(document["salt"], document["questions"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    locked = lock.load_locked(path)
    question = BANK.get(record["id"])
    assert question is not None
    shown = variants.variant(locked.bank.get(question.id), "s1")
    with pytest.raises(ConfigError, match="changed after it was generated"):
        for answer in (True, False):
            lock.LockedMarker(locked).mark(shown, answer)


def test_a_format_1_lock_says_to_regenerate(tmp_path):
    """A lock from an older gatelab (no format key: format 1) is refused with what to do, not a traceback."""
    path = tmp_path / lock.LOCK_NAME
    path.write_text("salt: 39a5afdf75cabcbc\nquestions:\n- id: q\n  type: true_false\n  feedback_wrong: A GRU has "
                    "only h.\n  variants: {'{}': {checks: [dda6], sealed: [dQ==]}}\n")
    with pytest.raises(ConfigError, match="format 1.*regenerate it with grade release"):
        lock.load_locked(path)


def test_local_feedback_is_validated_with_its_line(make_assignment):
    root = make_assignment(quiz={"local_feedback": "sometimes"})
    with pytest.raises(ConfigError, match=r"config.yaml:\d+.*local_feedback must be one of unmarked, marked"):
        config.load(root)


def test_unmarked_is_the_default_and_generate_writes_an_unmarked_lock(make_assignment):
    """Without the key, the lock carries no check value and no sealed text; the salt of the existing lock is kept,
    so regenerating is reproducible."""
    data = yaml.safe_load((COURSE / "grader" / "config.yaml").read_text())
    data.pop("quiz")
    data.update(solutions=str(COURSE / "solutions"), exercises=str(COURSE / "exercises"))
    root = make_assignment(yaml.safe_dump(data))
    spec = config.load(root)
    assert spec.local_feedback == "unmarked"
    text = generate.planned(spec)[COURSE / "exercises" / lock.LOCK_NAME]
    document = yaml.safe_load(text)
    assert document["local_feedback"] == "unmarked" and document["salt"] == yaml.safe_load(LOCKED_TEXT)["salt"]
    assert all(q["variants"] == {} for q in document["questions"])
    assert "right:" not in text and "box:" not in text


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return build_release(tmp_path_factory.mktemp("release"))


def _student(release: Path, home: Path, answers: dict) -> Path:
    zipfile.ZipFile(release / "student.zip").extractall(home)
    assert not (home / "solutions").exists() and not (home / "grader" / "quiz").exists()
    assert not list(home.rglob("answers.yaml"))
    (home / "exercises" / "answers.yaml").write_text(yaml.safe_dump({"student": "s1", **answers}))
    return home


def _check(home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gatelab", "check", "quiz"], cwd=home, capture_output=True,
                          text=True, env={**os.environ, "GATELAB_SERVER": "0"}, timeout=300)


def _true_false() -> quiz.Question:
    return next(q for q in BANK.questions if q.type == "true_false" and q.feedback_wrong)


def test_grade_check_in_a_release_marks_only_when_marked(release, tmp_path):
    """In a real student release (no solutions, no bank, no answer key): the marked lock tells right from
    wrong with the feedback the answer earns; the lock an unmarked course ships says "answered, marked at
    grading" for right and wrong alike, and shows no feedback."""
    question = _true_false()
    home = _student(release, tmp_path / "student", {question.id: not question.answer})
    run = _check(home)
    assert run.returncode == 0, run.stderr
    assert "Not right." in run.stdout and question.feedback_wrong.split()[0] in run.stdout, run.stdout
    (home / "exercises" / "answers.yaml").write_text(yaml.safe_dump({"student": "s1", question.id: question.answer}))
    assert "Correct." in _check(home).stdout
    salt = yaml.safe_load((home / "exercises" / lock.LOCK_NAME).read_text())["salt"]
    (home / "exercises" / lock.LOCK_NAME).write_text(lock.lock_bank(BANK, salt, marked=False))
    outputs = []
    for answer in (question.answer, not question.answer):
        (home / "exercises" / "answers.yaml").write_text(yaml.safe_dump({"student": "s1", question.id: answer}))
        run = _check(home)
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout)
        assert "marked at grading" in run.stdout and "Correct." not in run.stdout and "Not right." not in run.stdout
        assert "1 hidden test (" in run.stdout and "run at grading" in run.stdout  # counted as marked at grading
        assert "? 1 answered, marked at grading" in run.stdout  # neither a tick nor a cross
        assert question.feedback_wrong.splitlines()[0] not in run.stdout
    assert outputs[0] == outputs[1]


def test_grade_check_refuses_a_format_1_or_edited_lock_with_a_message(release, tmp_path):
    home = _student(release, tmp_path / "student", {})
    path = home / "exercises" / lock.LOCK_NAME
    path.write_text("salt: 39a5afdf75cabcbc\nquestions: []\n")
    run = _check(home)
    assert "format 1" in run.stdout + run.stderr and "grade release" in run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    path.write_text(LOCKED_TEXT.replace("type: true_false", "type: single", 1))
    run = _check(home)
    assert "changed after it was generated" in run.stdout + run.stderr and "Traceback" not in run.stderr


def test_autograde_marks_the_quiz_alike_marked_or_unmarked(make_assignment, tmp_path):
    """The autograder marks from the full bank: the setting changes no score and no feedback."""
    question = _true_false()
    folder = tmp_path / "submission"
    shutil.copytree(COURSE / "solutions", folder)
    key = yaml.safe_load((folder / "answers.yaml").read_text())
    key[question.id] = not question.answer
    (folder / "answers.yaml").write_text(yaml.safe_dump(key))
    scores, root = [], make_assignment(quiz={"local_feedback": "marked"})
    for setting in ("marked", "unmarked"):
        path = root / "grader" / "config.yaml"
        path.write_text(path.read_text().replace("local_feedback: marked", f"local_feedback: {setting}"))
        spec = config.load(root)
        assert spec.local_feedback == setting
        results = grading.grade(spec, folder, grading.Request(target="quiz"))
        scores.append(json.dumps([(t.name, t.score, t.max_score, t.feedback) for t in results.tests]))
    assert scores[0] == scores[1]
    assert f"quiz.{question.id}" in scores[0] and "Not right." in scores[0]


def test_a_check_shows_the_feedback_of_what_changed_since_the_last_one(release, tmp_path):
    """The whole quiz answered right, in a real student release: the first check explains every answer, the
    next one puts them in one row; a changed answer shows its own feedback, the rest stay folded; --verbose
    shows every explanation again."""
    from gatelab.quiz.marking import right_answer

    templates = quiz.Templates()
    answers = {q.id: right_answer(variants.variant(q, "s1"), templates) for q in BANK.questions}
    home = _student(release, tmp_path / "student", answers)
    first = _check(home).stdout
    count = len(BANK.questions)
    assert first.count("Explanation:") > count // 2 and "as at your last check" not in first
    second = _check(home).stdout
    assert f"✓ {count} right, as at your last check" in second and "Explanation:" not in second, second
    assert len(second.splitlines()) < 12
    question = _true_false()
    (home / "exercises" / "answers.yaml").write_text(
        yaml.safe_dump({"student": "s1", **answers, question.id: not question.answer}))
    third = _check(home).stdout
    assert question.feedback_wrong.split()[0] in third and f"{count - 1} right, as at your last check" in third
    assert "Explanation:" not in third
    assert "As at your last check (grade check --verbose shows its feedback)." in _check(home).stdout
    verbose = subprocess.run([sys.executable, "-m", "gatelab", "check", "quiz", "--verbose"], cwd=home,
                             capture_output=True, text=True, env={**os.environ, "GATELAB_SERVER": "0"}, timeout=300)
    assert verbose.stdout.count("Explanation:") == first.count("Explanation:") - 1
    assert question.feedback_wrong.split()[0] in verbose.stdout
