"""gradients: gradient clipping and the RNN step Jacobian, on the cases of grader/config.yaml."""
import pytest


@pytest.mark.grades("gradients")
def test_gradients(contract_test, grade):
    grade(contract_test)
