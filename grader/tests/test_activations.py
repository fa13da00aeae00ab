"""activations.sigmoid, sigmoid_derivative and tanh_derivative on the cases of grader/config.yaml."""
import pytest


@pytest.mark.grades("activations")
def test_activations(contract_test, grade):
    grade(contract_test)
