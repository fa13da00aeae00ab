"""Concept questions: every type marked with feedback, variants, the locked bank, answers files, validation."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import COURSE
from gatelab import grading
from gatelab.cli import main
from gatelab.course import config
from gatelab.errors import ConfigError
from gatelab.quiz import answers, asking, identity, linting, loading, lock, variants
from gatelab.quiz import bank as quiz
from gatelab.quiz.bank import Templates
from gatelab.quiz.marking import Marker

ROOT = Path(__file__).resolve().parent.parent

BANK = """\
- id: peak
  type: single
  prompt: Largest value of sigmoid'?
  choices:
    - {text: "0.25", correct: true}
    - {text: "1", feedback: "That is tanh' at 0."}
    - {text: "0.5", feedback: "That is sigmoid(0) itself."}
  explanation: s(1 - s) peaks at s = 1/2.
  hints: [Write it in terms of s.]
- id: causes
  type: multiple
  points: 2
  prompt: What makes a unit saturate?
  choices:
    - {text: big weights, correct: true}
    - {text: big inputs, correct: true}
    - {text: float64, feedback: "Precision does not move z."}
  explanation: Large |z|.
- id: vanish
  type: true_false
  prompt: tanh' is near 0 past |z| = 5.
  answer: true
  feedback_wrong: tanh(5) is 0.9999, so 1 - tanh^2 is tiny.
  explanation: Saturation.
- id: params
  type: numeric
  variables: {n_h: [2, 3], n_x: [4, 5]}
  prompt: Parameters of an LSTM with n_h={{ n_h }}, n_x={{ n_x }}?
  answer: "{{ 4 * (n_h * (n_h + n_x) + n_h) }}"
  tolerance: {abs: 0.5}
  wrong:
    - {answer: "{{ 4 * n_h * (n_h + n_x) }}", feedback: "You left out the biases."}
  feedback_wrong: Four blocks of W and b.
  explanation: 4 (n_h (n_h + n_x) + n_h).
- id: highway
  type: short_text
  prompt: What carries memory across steps in an LSTM?
  accepted: ["cell state", {regex: "(the )?(memory )?cell( state)?", example: "the memory cell"}]
  wrong: [{match: "hidden state", feedback: "h is filtered by the output gate."}]
  feedback_wrong: Think of the highway.
  explanation: The cell state c.
- id: steps
  type: ordering
  prompt: Order one LSTM step.
  items: [gates, cell state, hidden state]
  feedback_wrong: The cell state needs the gates; h needs c.
  explanation: gates, c, h.
"""


@pytest.fixture
def bank(tmp_path) -> quiz.Bank:
    folder = tmp_path / "quiz"
    folder.mkdir()
    (folder / "bank.yaml").write_text(BANK)
    return loading.load(folder)


def answer_for(bank: quiz.Bank, qid: str, student: str, *, right: bool = True):
    """The letters (or value) a student would type for the right or a wrong answer."""
    question = bank.get(qid)
    shown = variants.variant(question, student)
    if question.type == "single":
        index = next(i for i, c in enumerate(question.choices) if c.correct == right)
        return shown.letter_of(index)
    if question.type == "ordering":
        order = list(range(len(question.items)))
        return [shown.letter_of(i) for i in (order if right else order[::-1])]
    raise ValueError(qid)


def mark(bank, qid, raw, student="s1"):
    return Marker().mark(variants.variant(bank.get(qid), student), raw)


def test_single_choice_right_and_wrong_with_choice_feedback(bank):
    """A wrong choice gets its own feedback, the hint and the explanation; the right one full points."""
    assert mark(bank, "peak", answer_for(bank, "peak", "s1")).status == "correct"
    wrong = mark(bank, "peak", answer_for(bank, "peak", "s1", right=False))
    assert wrong.score == 0 and "Hint: Write it in terms of s." in wrong.feedback
    assert "Explanation: s(1 - s) peaks" in wrong.feedback
    assert ("tanh' at 0" in wrong.feedback) or ("sigmoid(0) itself" in wrong.feedback)


def test_multiple_select_partial_credit_rule(bank):
    """Score = points x max(0, (right picks - wrong picks) / right choices)."""
    q = bank.get("causes")
    shown = variants.variant(q, "s1")
    big_w, big_x, f64 = (shown.letter_of(i) for i in range(3))
    assert Marker().mark(shown, [big_w, big_x]).score == 2
    half = Marker().mark(shown, [big_w])
    assert half.score == 1 and half.status == "partial" and "1 right choice(s) not selected" in half.feedback
    assert Marker().mark(shown, f"{big_w}, {f64}").score == 0
    assert "Precision does not move z." in Marker().mark(shown, [big_w, big_x, f64]).feedback


@pytest.mark.parametrize("raw, status", [(True, "correct"), ("yes", "correct"), ("False", "wrong"),
                                         ("maybe", "invalid"), (None, "unanswered")])
def test_true_false_forms(bank, raw, status):
    """true/false accept booleans and yes/no words; anything else cannot be read."""
    assert mark(bank, "vanish", raw).status == status


def test_numeric_with_tolerance_and_a_known_wrong_value(bank):
    """A parametrized numeric answer within tolerance is right; a known wrong value gets its feedback."""
    q = bank.get("params")
    shown = variants.variant(q, "s7")
    n_h, n_x = shown.values["n_h"], shown.values["n_x"]
    right = 4 * (n_h * (n_h + n_x) + n_h)
    assert Marker().mark(shown, right + 0.4).status == "correct"
    assert Marker().mark(shown, str(right)).status == "correct"
    no_bias = Marker().mark(shown, 4 * n_h * (n_h + n_x))
    assert no_bias.status == "wrong" and "You left out the biases." in no_bias.feedback
    assert "Four blocks" in Marker().mark(shown, 1).feedback
    assert Marker().mark(shown, "twelve").status == "invalid"


@pytest.mark.parametrize("raw, status, says", [
    ("Cell State", "correct", ""), ("  the   memory cell. ", "correct", ""),
    ("hidden state", "wrong", "filtered by the output gate"), ("weights", "wrong", "highway"),
])
def test_short_text_case_whitespace_regex_and_wrong_feedback(bank, raw, status, says):
    """Short answers match case- and whitespace-insensitively, by text or regex."""
    result = mark(bank, "highway", raw)
    assert result.status == status and says in result.feedback


def test_ordering_full_and_partial(bank):
    """The exact order gets full points; others get the share of pairs in the right order."""
    assert mark(bank, "steps", answer_for(bank, "steps", "s1")).score == 1
    reversed_ = mark(bank, "steps", answer_for(bank, "steps", "s1", right=False))
    assert reversed_.score == 0 and "needs the gates" in reversed_.feedback
    assert mark(bank, "steps", ["a", "a", "b"]).status == "invalid"


def test_a_random_order_earns_no_more_than_luck():
    """Pairs count beyond chance: over every order of four items the average is 0.19 (pair counting paid 0.5),
    one swap of neighbours keeps 2/3, and an order with as many pairs wrong as right earns 0."""
    from itertools import permutations

    from gatelab.quiz.marking import _ordering_score

    scores = [_ordering_score(list(order)) for order in permutations(range(4))]
    assert abs(sum(scores) / len(scores) - 14 / 72) < 1e-12
    assert _ordering_score([1, 0, 2, 3]) == 2 / 3 and _ordering_score([1, 0, 3, 2]) == 1 / 3
    assert _ordering_score([3, 2, 1, 0]) == 0 and _ordering_score([2, 3, 0, 1]) == 0


def test_variants_are_per_student_and_stable(bank):
    """The same student always gets the same variant and order; students differ."""
    q = bank.get("params")
    assert all(variants.variant(q, "s42").values == variants.variant(q, "s42").values for _ in range(5))
    assert len({tuple(sorted(variants.variant(q, f"s{n}").values.items())) for n in range(40)}) > 1
    peak = bank.get("peak")
    assert len({tuple(variants.variant(peak, f"s{n}").order) for n in range(40)}) > 1


def test_locked_bank_has_no_plaintext_answers_yet_marks_alike(bank):
    """The locked copy holds no correct flags, explanations or answers, and agrees with the full bank."""
    text = lock.lock_bank(bank, "salt")
    for secret in ("correct", "explanation", "You left out the biases", "s(1 - s) peaks", "(memory )?cell",
                   "tanh' at 0", "filtered by the output gate"):
        assert secret not in text
    path = Path(bank.questions[0].where.split(":")[0]).parent / lock.LOCK_NAME
    path.write_text(text)
    locked = lock.load_locked(path)
    marker = lock.LockedMarker(locked)
    for student in ("s1", "s2", "s3"):
        for qid in ("peak", "steps"):
            shown = variants.variant(locked.bank.get(qid), student)
            assert marker.mark(shown, answer_for(bank, qid, student)).status == "correct"
            assert marker.mark(shown, answer_for(bank, qid, student, right=False)).status == "wrong"
        params = variants.variant(locked.bank.get("params"), student)
        n_h, n_x = params.values["n_h"], params.values["n_x"]
        assert marker.mark(params, 4 * (n_h * (n_h + n_x) + n_h)).status == "correct"
        assert "You left out the biases." in marker.mark(params, 4 * n_h * (n_h + n_x)).feedback
    highway = variants.variant(locked.bank.get("highway"), "s1")
    assert marker.mark(highway, "cell state").status == "correct"
    assert marker.mark(highway, "memory cell").status == "correct"  # a pattern's few strings count as at grading
    assert "Explanation: s(1 - s)" in marker.mark(variants.variant(locked.bank.get("peak"), "s1"),
                                                  answer_for(bank, "peak", "s1")).feedback


def test_shipped_locked_bank_agrees_with_full_bank_on_right_answers():
    """For every shipped question and a few students, the locked copy accepts the right answer."""
    full = loading.load(COURSE / "grader" / "quiz")
    locked = lock.load_locked(COURSE / "exercises" / lock.LOCK_NAME)
    templates = Templates()
    for question in full.questions:
        for student in ("s1", "s2"):
            shown = variants.variant(question, student)
            locked_shown = variants.variant(locked.bank.get(question.id), student)
            raw = _right(question, shown, templates)
            assert Marker().mark(shown, raw).status == "correct", question.id
            assert lock.LockedMarker(locked).mark(locked_shown, raw).status == "correct", question.id


def _right(question, shown, templates):
    if question.type == "single":
        return shown.letter_of(next(i for i, c in enumerate(question.choices) if c.correct))
    if question.type == "multiple":
        return [shown.letter_of(i) for i, c in enumerate(question.choices) if c.correct]
    if question.type == "ordering":
        return [shown.letter_of(i) for i in range(len(question.items))]
    if question.type == "true_false":
        return question.answer
    if question.type == "numeric":
        return templates.number(question.answer, shown.values)
    first = question.accepted[0]
    return first.example if first.regex else templates.render(first.text, shown.values)


def test_shipped_bank_is_large_uses_every_type_and_validates():
    """At least 40 questions, every type used, and `grade validate` finds nothing but the bank-wide giveaways of
    this frozen copy (fixed in the shipped bank since): one right-option count, always/never only in what is
    wrong, false statements two to one, and ids that name their answer."""
    from gatelab.quiz import giveaways

    bank, problems = linting.validate(COURSE / "grader" / "quiz")
    tells = giveaways.tells(bank)
    assert problems == tells
    assert [t.split(": ", 1)[1][:34] for t in tells[:3]] == ["all 7 multiple-select questions ha",
                                                          "8 of 12 true/false statements are ",
                                                          "absolute words (always, never) app"]
    assert sorted(t.split("'")[1] for t in tells[3:]) == ["clipping-name", "jacobian-tanh-factor",
                                                         "rnn-bias-broadcast", "saturation-term"]
    assert len(bank.questions) >= 40
    assert {q.type for q in bank.questions} == set(quiz.TYPES)
    assert any(q.variables for q in bank.questions)


@pytest.mark.parametrize("text, message", [
    (BANK + BANK.split("- id: causes")[0], "duplicate question id 'peak'"),
    (BANK.replace('    - {text: "0.25", correct: true}\n', '    - {text: "0.25", feedback: x}\n'),
     "exactly one correct choice"),
    (BANK.replace("type: single", "type: singel"), "Did you mean 'single'"),
    (BANK.replace('example: "the memory cell"', 'example: "the brain"'), "does not match its own example"),
    (BANK.replace("{{ 4 * n_h * (n_h + n_x) }}", "{{ 4 * n_h // (n_h - 2) }}"), "template fails"),
    (BANK.replace("prompt: What carries", "promt: What carries"), "Did you mean 'prompt'"),
    (BANK.replace("  feedback_wrong: Think of the highway.\n", "  explanation: again\n  explanation: x\n")
     .replace("id: highway", "id: Highway"), "kebab-case"),
    (BANK.replace('{text: "0.25", correct: true}', '{text: "0.25, since s(1 - s) peaks where s = 1/2", '
                                                    'correct: true}'), "length gives the answer away"),
    (BANK.replace("answer: \"{{ 4 * (n_h * (n_h + n_x) + n_h) }}\"", "answer: \"{{ n_h / 7 }}\""),
     "does not say how precisely"),
    (BANK.replace("answer: \"{{ 4 * (n_h * (n_h + n_x) + n_h) }}\"", "answer: \"{{ n_h / 7 }}\"")
     .replace("Parameters of an LSTM", "(3 significant figures) Parameters of an LSTM")
     .replace("tolerance: {abs: 0.5}", "tolerance: {abs: 0.0001}"), "does not accept"),
])
def test_validation_problems_cite_file_line_and_id(tmp_path, text, message):
    """`grade validate` reports each problem with file:line and the question id: schema slips, length tells,
    numeric precision not stated or not accepted."""
    folder = tmp_path / "quiz"
    folder.mkdir()
    (folder / "bank.yaml").write_text(text)
    _, problems = linting.validate(folder)
    assert any(message in p and "bank.yaml:" in p for p in problems), problems


def test_answers_file_problems_are_reported_and_the_code_is_still_graded(assignment, tmp_path):
    """A broken answers file gets a message with file and line; the exercises are graded regardless."""
    (tmp_path / "answers.yaml").write_text("vanishing: [unclosed\n")
    results = grading.grade(assignment, COURSE / "solutions", grading.Request(target=None, include_hidden=False))
    assert results.notices == []
    from conftest import write_submission

    folder = write_submission(tmp_path / "sub", {})
    (folder / "answers.yaml").write_text("student: s1\nsigmoid-derivative-peak: [a\n")
    results = grading.grade(assignment, folder, grading.Request(include_hidden=False))
    assert any("answers.yaml:" in n and "not valid YAML" in n for n in results.notices)
    code = [t for t in results.tests if not t.function.startswith("quiz.")]
    assert code and all(t.passed for t in code)
    quiz_tests = [t for t in results.tests if t.function.startswith("quiz.")]
    assert quiz_tests and all(t.mark == "unreadable" and "could not be read" in t.feedback
                              and "answers.yaml:3" in t.feedback for t in quiz_tests)  # YAML: where it gave up


def test_unknown_id_and_unreadable_answer_cite_lines(assignment, tmp_path):
    """An unknown id is a notice with a suggestion; an unreadable answer fails with its line."""
    (tmp_path / "answers.yaml").write_text(
        "student: s1\nsigmoid-derivative-peek: a\nsigmoid-derivative-peak: zz\n")
    results = grading.grade(assignment, tmp_path, grading.Request(target="quiz"))
    assert any(":2: there is no question 'sigmoid-derivative-peek'" in n and "Did you mean" in n
               for n in results.notices)
    peak = next(t for t in results.tests if t.name == "quiz.sigmoid-derivative-peak")
    assert peak.mark == "invalid" and "answers.yaml:3:" in peak.feedback


def test_quiz_results_are_named_quiz_dot_id_in_autograde(tmp_path):
    """Each question is a test named quiz.<id> in the Gradescope results."""
    out = tmp_path / "results.json"
    result = CliRunner().invoke(main, ["autograde", "--submission", str(COURSE / "solutions"), "--output", str(out),
                                       "--assignment", str(COURSE)])
    assert result.exit_code == 0, result.output
    import json

    names = {t["name"] for t in json.loads(out.read_text())["tests"]}
    assert {f"quiz.{q.id}" for q in loading.load(COURSE / "grader" / "quiz").questions} <= names


def test_answers_writer_keeps_comments_and_other_answers(tmp_path):
    """Writing one answer leaves the rest of the file, comments included, as it was."""
    path = tmp_path / "answers.yaml"
    path.write_text("# mine\nstudent: s1\npeak: c  # unsure\nsteps:\n  - a\n  - b\nvanish: true\n")
    answers.write(path, "steps", ["c", "a", "b"])
    answers.write(path, "params", 12)
    text = path.read_text()
    assert text == "# mine\nstudent: s1\npeak: c  # unsure\nsteps: [c, a, b]\nvanish: true\nparams: 12\n"


def test_interactive_quiz_saves_as_it_goes_and_resumes(tmp_path, make_assignment):
    """`grade quiz` writes each answer at once; a second run asks only the open questions."""
    root = make_assignment()
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "answers.yaml").write_text("# keep me\nstudent: s9\n")
    bank = loading.load(root / "grader" / "quiz")
    first, second = bank.questions[0], bank.questions[1]
    letters_first = _typed(first, variants.variant(first, "s9"))
    run = CliRunner().invoke(main, ["quiz", "--assignment", str(root), "--submission", str(folder)],
                             input=f"{letters_first}\nquit\n")
    assert run.exit_code == 0, run.output
    assert "Correct." in run.output
    saved = answers.read(folder / "answers.yaml", bank.ids)
    assert list(saved.values) == [first.id] and "# keep me" in (folder / "answers.yaml").read_text()
    again = CliRunner().invoke(main, ["quiz", "--assignment", str(root), "--submission", str(folder)],
                               input="skip\nquit\n")
    assert f"{first.id} (" not in again.output and f"{second.id} (" in again.output
    graded = grading.grade(config.load(root), folder, grading.Request(target=f"quiz.{first.id}"))
    points = next(t.max_score for t in graded.tests if t.name == f"quiz.{first.id}")
    assert points != first.points  # the quiz share scales it
    assert f"{first.id} ({round(points, 2):g} points," in run.output  # the header shows the points as graded


def _typed(question, shown):
    raw = _right(question, shown, Templates())
    return " ".join(raw) if isinstance(raw, list) else str(raw)


def test_interactive_quiz_reasks_an_unreadable_answer(tmp_path, make_assignment):
    """A malformed answer is explained and asked again, not saved."""
    root = make_assignment()
    (tmp_path / "answers.yaml").write_text("student: s9\n")
    bank = loading.load(root / "grader" / "quiz")
    target = next(q for q in bank.questions if q.type == "true_false")
    run = CliRunner().invoke(main, ["quiz", target.id, "--assignment", str(root), "--submission", str(tmp_path)],
                             input="perhaps\ntrue\n")
    assert "cannot be read" in run.output
    assert answers.read(tmp_path / "answers.yaml", bank.ids).values == {target.id: True}


def test_quiz_config_error_in_bank_is_a_config_error(tmp_path):
    """Loading (not validating) a broken bank raises with file:line."""
    folder = tmp_path / "quiz"
    folder.mkdir()
    (folder / "b.yaml").write_text(textwrap.dedent("""\
        - id: x
          type: numeric
          prompt: p
          explanation: e
          answer: 1
    """))
    with pytest.raises(ConfigError, match="lacks tolerance") as caught:
        loading.load(folder)
    assert "b.yaml:1" in str(caught.value)


def test_broken_bank_costs_its_question_not_the_run(make_assignment, tmp_path):
    """A broken question is a note for the instructor with file:line; the code and the other questions are graded."""
    from gatelab.course import config

    root = make_assignment()
    (root / "grader" / "quiz" / "zz_broken.yaml").write_text("- id: broken\n  type: single\n  prompt: p\n")
    spec = config.load(root)
    results = grading.grade(spec, COURSE / "solutions", grading.Request(include_hidden=False))
    assert any("zz_broken.yaml:1" in n and "broken" in n for n in results.instructor_notes)
    assert not results.notices
    assert all(t.passed for t in results.tests)
    assert any(t.function.startswith("quiz.") for t in results.tests)


@pytest.mark.parametrize("text, says", [
    ("a: &x [1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: &y [*x, *x, *x, *x, *x, *x, *x, *x, *x]\n", "aliases"),
    ("x: " + "y" * (300 * 1024) + "\n", "over 256 KB"),
    ("- just\n- a list\n", "must map question ids"),
    ("# deep\nq: " + "[" * 3000 + "]" * 3000 + "\n", "answers.yaml:2: nesting deeper than 20 levels"),
    ("q: a\nstudent: \"s\\ud800\"\n", "answers.yaml:2: a surrogate escape"),
    ("q: [\"\\udfff\"]\n", "answers.yaml:1: a surrogate escape"),
])
def test_hostile_answers_files_are_refused_with_a_message(tmp_path, text, says):
    """Alias bombs, deep nesting, surrogate escapes, huge files and the wrong shape are reported with file and
    line, never expanded or crashed on."""
    path = tmp_path / "answers.yaml"
    path.write_text(text)
    read = answers.read(path, ["q"])
    assert read.values == {} and any(says in p for p in read.problems)


@pytest.mark.parametrize("typed", ["d", "D", "d)", "(d)", "d.", " (D) "])
def test_natural_letter_forms_are_accepted(typed):
    """A choice answer may be written as people write letters: d, D, d), (d), d."""
    question = quiz.Question(id="q", type="single", prompt="p", explanation="e", where="w", shuffle=False,
                             choices=tuple(quiz.Choice(t, t == "four", "no") for t in ("one", "two", "three", "four")))
    shown = variants.variant(question, "s1")
    assert Marker().mark(shown, typed).status == "correct"
    assert asking._value(question, typed) == "d"


def test_multiple_letters_with_brackets_and_dots(bank):
    """[a, c], "(a) (c)" and "a. c." name the same picks."""
    shown = variants.variant(bank.get("causes"), "s1")
    marks = {Marker().mark(shown, raw).score for raw in (["a", "c"], "(a) (c)", "a. c.", ["(A)", "c)"])}
    assert len(marks) == 1


def _quiz(root, folder, *args, text="quit\n"):
    return CliRunner().invoke(main, ["quiz", "--assignment", str(root), "--submission", str(folder), *args],
                              input=text)


def test_quiz_takes_no_id_at_a_prompt_and_shows_its_default(tmp_path, make_assignment, monkeypatch):
    """`echo quit | grade quiz` quits: the id is the login name, shown and saved, never the first line typed."""
    monkeypatch.setattr(identity.getpass, "getuser", lambda: "ada")
    root = make_assignment()
    run = _quiz(root, tmp_path)
    assert run.exit_code == 0, run.output
    assert "Student id: ada (from your login name" in run.output
    assert answers.read(tmp_path / "answers.yaml", []).student == "ada"
    assert "Student id: ada (from answers.yaml)" in _quiz(root, tmp_path).output
    assert "on Gradescope your account's email, on GitHub Classroom your GitHub username" in run.output
    assert "grade quiz --student THAT-ID" in run.output


def test_case_does_not_change_a_students_numbers():
    """GitHub spells a username JSmith, a student types jsmith; an email may come in any case: one student."""
    bank = loading.load(COURSE / "grader" / "quiz")
    for question in bank.questions:
        for typed, graded in (("jsmith", " JSmith"), ("ada@uni.edu", "Ada@Uni.EDU")):
            mine, theirs = variants.variant(question, typed), variants.variant(question, graded)
            assert (mine.values, mine.order) == (theirs.values, theirs.order), question.id
    assert any(variants.variant(q, "jsmith").values != variants.variant(q, "jsmith2").values for q in bank.questions)


def test_hint_is_offered_only_where_there_is_one_and_resumed_numbers_hold(tmp_path, make_assignment):
    """The command line lists hint only for a question with hints; a resumed quiz says where it is."""
    root = make_assignment()
    bank = loading.load(root / "grader" / "quiz")
    (tmp_path / "answers.yaml").write_text(f"student: s9\n{bank.questions[0].id}: true\n")
    run = _quiz(root, tmp_path, text="hint\nquit\n")
    second = bank.questions[1]
    assert f"[2/{len(bank.questions)}] {second.id}" in run.output
    assert f"{len(bank.questions) - 1} of {len(bank.questions)} questions open" in run.output
    assert ("hint = show a hint" in run.output) == bool(second.hints)
    assert ("This question has no hint." in run.output) == (not second.hints)


def test_broken_answers_file_is_said_not_counted_as_unanswered(tmp_path, make_assignment):
    """grade quiz refuses to write into a broken file; grade check says the answers could not be read."""
    root = make_assignment()
    broken = "student: s1\nsigmoid-derivative-peak: [a\n"
    (tmp_path / "answers.yaml").write_text(broken)
    run = _quiz(root, tmp_path)
    assert run.exit_code == 2 and "answers could not be read: answers.yaml:3" in run.output.replace(
        str(tmp_path / "answers.yaml"), "answers.yaml")
    assert (tmp_path / "answers.yaml").read_text() == broken
    check = CliRunner().invoke(main, ["check", "quiz", "--assignment", str(root), "--submission", str(tmp_path)])
    assert "67 questions: answers could not be read" in check.output
    assert "not answered yet" not in check.output


def _right_answers(bank, student):
    """answers.yaml text with every right answer as ``student`` is shown them."""
    from gatelab.quiz.marking import right_answer

    templates = Templates()
    rows = {q.id: right_answer(variants.variant(q, student), templates) for q in bank.questions}
    return "\n".join([f"student: {student}", *(f"{k}: {answers.dump_value(v)}" for k, v in rows.items())]) + "\n"


def test_answers_under_another_id_keep_their_meaning(assignment, tmp_path):
    """Graded as the LMS's id, letters are read as the answering id saw them; changed numbers are said."""
    bank = loading.load(COURSE / "grader" / "quiz")
    (tmp_path / "answers.yaml").write_text(_right_answers(bank, "alice"))
    own = grading.grade(assignment, tmp_path, grading.Request(target="quiz"))
    lms = grading.grade(assignment, tmp_path, grading.Request(target="quiz", student="12345"))
    assert own.score == own.max_score and lms.student == "12345"
    renumbered = {q.id for q in bank.questions if q.variables and
                  variants.variant(q, "alice").values != variants.variant(q, "12345").values}
    for test in lms.tests:
        qid = test.name.removeprefix("quiz.")
        if qid not in renumbered:
            assert test.passed, (qid, test.feedback)
        elif not test.passed:
            assert "grade quiz --student 12345 --redo " + qid in test.feedback
    assert any("written for student id 'alice'" in n and "graded as '12345'" in n for n in lms.notices)
    choice = [q for q in bank.questions if q.type == "single"]
    assert any(variants.variant(q, "alice").order != variants.variant(q, "12345").order for q in choice)


def test_grade_quiz_with_a_new_id_rewrites_letters_and_reasks_changed_numbers(tmp_path, make_assignment):
    """Switching ids keeps every choice's meaning; only answers whose numbers changed are asked again."""
    root = make_assignment()
    bank = loading.load(root / "grader" / "quiz")
    (tmp_path / "answers.yaml").write_text(_right_answers(bank, "alice"))
    run = _quiz(root, tmp_path, "--student", "bob")
    assert "Student id: bob (was alice" in run.output
    stale = {q.id for q in bank.questions if q.variables and
             variants.variant(q, "alice").values != variants.variant(q, "bob").values}
    saved = answers.read(tmp_path / "answers.yaml", bank.ids)
    assert saved.student == "bob"
    for question in bank.questions:
        if question.id not in stale:
            assert Marker().mark(variants.variant(question, "bob"), saved.values[question.id]).status == "correct"
    assert stale and f"{len(stale)} answer(s) with numbers that changed are asked again" in run.output


def test_shipped_questions_give_nothing_away():
    """Shipped course: length tells nowhere, the right choice longest in at most a quarter of the single-choice
    questions, and no id word that appears in the right choice only."""
    shipped = ROOT / "grader" / "quiz"
    bank, problems = linting.validate(shipped)
    assert problems == []
    singles = [q for q in bank.questions if q.type == "single"]
    longest = [q.id for q in singles if max(q.choices, key=lambda c: len(c.text)).correct]
    assert 4 * len(longest) <= len(singles), longest
    for question in (q for q in bank.questions if q.type in ("single", "multiple")):
        right = " ".join(c.text.lower() for c in question.choices if c.correct)
        wrong = " ".join(c.text.lower() for c in question.choices if not c.correct)
        telling = [w for w in question.id.split("-") if len(w) > 4 and w in right and w not in wrong]
        assert not telling, (question.id, telling)
    _, attention = linting.validate(ROOT / "examples" / "attention" / "grader" / "quiz")
    assert attention == []


def test_quiz_share_weighs_every_output_alike_and_nothing_earns_nothing(assignment, tmp_path):
    """The quiz is quiz.share of code + quiz points; unanswered earns 0; Gradescope's total is the terminal's."""
    import json

    from gatelab.report.exporters import gradescope

    full = grading.grade(assignment, COURSE / "solutions", grading.Request(include_hidden=True))
    quiz_max = sum(t.max_score for t in full.tests if t.function.startswith("quiz."))
    code_max = full.max_score - quiz_max
    assert quiz_max == pytest.approx(assignment.quiz_share * (code_max + quiz_max), rel=0.02)  # own tests aside
    assert quiz_max < code_max
    document = json.loads(json.dumps(gradescope.render(full)))
    assert document["score"] == pytest.approx(full.score)
    assert sum(t["max_score"] for t in document["tests"]) == pytest.approx(full.max_score)
    nothing = grading.grade(assignment, tmp_path, grading.Request(target="quiz"))
    assert nothing.score == 0 and nothing.max_score == pytest.approx(quiz_max)


def test_scaled_quiz_points_add_up_exactly_in_any_order():
    """The share's points lie on a 1/1024 grid and add up to the quiz total exactly, whatever the order."""
    import math
    import random

    from gatelab.report.results import GRID, quiz_points

    raw = {f"q{n}": (1.0 if n % 3 else 2.0) for n in range(67)}
    scaled = quiz_points(0.25, 141.0, raw)
    values = list(scaled.values())
    assert sum(values) == math.fsum(values) == 47.0
    shuffled = values[:]
    random.Random(3).shuffle(shuffled)
    assert sum(shuffled) == 47.0
    assert all((v * GRID).is_integer() for v in values)
    assert scaled["q0"] > scaled["q1"]  # a 2-point question stays worth about twice a 1-point one
    assert abs(scaled["q0"] - 2 * scaled["q1"]) <= 1 / GRID
    assert quiz_points(0.25, 0.0, raw) == raw  # no code points: nothing to weigh against


def _every_answer(question, shown, templates):
    """Answers a student may give, in answers.yaml form: every accepted text (each string a listable pattern
    matches, each known wrong one), every subset of a multiple-select's choices, every ordering, both truth
    values, the right number and a known wrong one."""
    import itertools

    from gatelab.quiz.patterns import expand

    letters = [shown.letter_of(i) for i in range(len(question.choices or question.items))]
    if question.type == "single":
        return letters
    if question.type == "multiple":
        return [list(s) for n in range(1, len(letters) + 1) for s in itertools.combinations(letters, n)]
    if question.type == "ordering":
        return [list(p) for p in itertools.permutations(letters)]
    if question.type == "true_false":
        return [True, False]
    if question.type == "numeric":
        return [templates.number(a, shown.values) for a in [question.answer, *(w.answer for w in question.wrong)]]
    texts = [templates.render(a.text, shown.values) for a in question.accepted if not a.regex]
    for pattern in [a.text for a in question.accepted if a.regex] + [w.answer for w in question.wrong if w.regex]:
        texts += expand(templates.render(pattern, shown.values)) or []
    return texts + [templates.render(w.answer, shown.values) for w in question.wrong if not w.regex]


def test_a_marked_lock_scores_every_answer_as_grading_does():
    """Over the whole bank of the tests' course (its lock is marked), for two students: every answer in every
    accepted form ("norm clipping", "f"), every subset of choices and every ordering earns at home exactly
    the points grading gives it (partial credit by the same rules), and says it is right or partly right
    as grading does."""
    full = loading.load(COURSE / "grader" / "quiz")
    locked = lock.load_locked(COURSE / "exercises" / lock.LOCK_NAME)
    assert locked.marked
    templates, grading_marker, home_marker = Templates(), Marker(), lock.LockedMarker(locked)
    checked = 0
    for question in full.questions:
        for student in ("s1", "s2"):
            shown = variants.variant(question, student)
            at_home = variants.variant(locked.bank.get(question.id), student)
            for raw in _every_answer(question, shown, templates):
                graded, home = grading_marker.mark(shown, raw), home_marker.mark(at_home, raw)
                assert home.score == pytest.approx(graded.score), (question.id, raw, graded.feedback, home.feedback)
                assert (home.status == graded.status) or graded.status == "wrong" and home.status == "unknown", \
                    (question.id, raw, graded.status, home.status)
                checked += 1
    assert checked > 1000
    clipping = variants.variant(locked.bank.get("clipping-name"), "s1")
    assert home_marker.mark(clipping, "norm clipping").status == "correct"
