"""lstm: the LSTM gates, state updates and forward pass, on the cases of grader/config.yaml."""
import pytest


@pytest.mark.grades("lstm")
def test_lstm(contract_test, grade):
    grade(contract_test)
