"""gru: the GRU gates, state update and forward pass, on the cases of grader/config.yaml."""
import pytest


@pytest.mark.grades("gru")
def test_gru(contract_test, grade):
    grade(contract_test)
