"""attention: scores, masked softmax, scaled dot-product attention and one head, on the cases of config.yaml."""
import pytest


@pytest.mark.grades("attention")
def test_attention(contract_test, grade):
    grade(contract_test)
