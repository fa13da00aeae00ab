"""rnn: the vanilla RNN cell and its forward pass, on the cases of grader/config.yaml."""
import pytest


@pytest.mark.grades("rnn")
def test_rnn(contract_test, grade):
    grade(contract_test)
