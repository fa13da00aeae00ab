"""Bank-wide giveaways that grade validate reports: each tell fires on a bank that shows it, and not otherwise."""
from __future__ import annotations

from gatelab.quiz import giveaways
from gatelab.quiz.bank import Choice, Question


def _multiple(qid: str, right: int) -> Question:
    choices = tuple(Choice(f"option {n} of {qid}", correct=n < right) for n in range(5))
    return Question(qid, "multiple", "Pick.", "", f"q.yaml:{len(qid)}", choices=choices)


def _statement(qid: str, answer: bool, prompt: str = "True or false: a claim.") -> Question:
    return Question(qid, "true_false", prompt, "", "q.yaml:1", answer=answer)


def test_one_right_count_for_every_multiple_select_question_is_a_tell():
    same = [_multiple(f"m{n}", 3) for n in range(4)]
    assert "all 4 multiple-select questions have exactly 3 of 5" in giveaways.right_counts(same)[0]
    assert giveaways.right_counts(same[:3] + [_multiple("m9", 2)]) == []


def test_true_false_answers_mostly_one_way_are_a_tell():
    lopsided = [_statement(f"t{n}", n < 4) for n in range(12)]
    assert "8 of 12 true/false statements are false" in giveaways.true_false_balance(lopsided)[0]
    assert giveaways.true_false_balance([_statement(f"t{n}", n < 5) for n in range(12)]) == []  # 7 of 12


def test_always_and_never_only_in_what_is_wrong_are_a_tell():
    wrong = [Question(f"s{n}", "single", "Pick.", "", "q.yaml:3",
                      choices=(Choice("It is right", True), Choice("It always works"))) for n in range(4)]
    assert "only in wrong options" in giveaways.absolutes(wrong)[0]
    fair = wrong + [_statement("t", True, "True or false: sigmoid'(z) never exceeds 0.25.")]
    assert giveaways.absolutes(fair) == []


def test_an_id_that_names_its_answer_is_a_tell():
    named = Question("clipping-name", "single", "What is rescaling the gradient called?", "", "q.yaml:7",
                     choices=(Choice("Gradient clipping", True), Choice("Weight decay"), Choice("Dropout")))
    neutral = Question("rescale-before-update", "single", named.prompt, "", "q.yaml:7", choices=named.choices)
    said = giveaways.ids_naming_answers([named])
    assert said and "q.yaml:7" in said[0] and "'clipping-name'" in said[0]
    assert giveaways.ids_naming_answers([neutral]) == []

