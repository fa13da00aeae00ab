"""Hostile code costs only its own tests: the rest of the submission is graded and the run finishes."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import values_tests, write_submission
from gatelab import config, grading

ROOT = Path(__file__).resolve().parent.parent

# (module, text to replace, replacement, functions that must lose points, phrase in their feedback)
HOSTILE = {
    "infinite_loop": ("gradients", "    return {name: np.clip(g, -max_value, max_value) for name, g in grads.items()}",
                      "    while True:\n        pass", ["gradients.clip_by_value"], "time limit"),
    "exit_at_import": ("gradients", "import numpy as np\n", "import numpy as np\nimport sys\nsys.exit(0)\n",
                       ["gradients.clip_by_value", "gradients.clip_by_global_norm", "gradients.rnn_step_jacobian",
                        "gradients.gradient_norms_through_time"], "could not be imported"),
    "os_exit_in_function": ("activations", "    return 1.0 - np.tanh(z) ** 2", "    import os\n    os._exit(0)",
                            ["activations.tanh_derivative"], "exit code 0"),
    "syntax_error": ("lstm", "def lstm_forward(x, h0, params):", "def lstm_forward(x, h0, params)",
                     [f"lstm.{name}" for name in ("forget_gate", "input_gate", "candidate_cell", "output_gate",
                                                  "cell_state", "hidden_state", "lstm_cell_forward", "lstm_forward")],
                     "SyntaxError"),
    "memory_bomb": ("gru", "    n_h, m = h0.shape\n", "    n_h, m = h0.shape\n    np.ones(4 * 1024**3 // 8)\n",
                    ["gru.gru_forward"], "MemoryError"),
}


@pytest.fixture(scope="module")
def fast_assignment(tmp_path_factory) -> config.Assignment:
    """The real assignment with a 1-second call limit, so hangs cost little test time."""
    root = tmp_path_factory.mktemp("assignment")
    shutil.copytree(ROOT / "grader", root / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    path = root / "grader" / "config.yaml"
    text = path.read_text().replace("timeout: 5 ", "timeout: 1 ")
    text = text.replace("solutions: ../solutions", f"solutions: {ROOT / 'solutions'}")
    path.write_text(text)
    loaded = config.load(root)
    assert loaded.limits.timeout == 1
    return loaded


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_code_costs_only_its_tests(fast_assignment, tmp_path, name):
    """Each hostile submission loses exactly the affected functions, with feedback saying what happened."""
    module, old, new, affected, phrase = HOSTILE[name]
    write_submission(tmp_path, {module: (old, new)})
    results = grading.grade(fast_assignment, tmp_path, quiz="none")
    lost = sorted({t.function for t in results.tests if not t.passed})
    assert lost == sorted(affected)
    assert all(t.status == "failed" for t in results.tests if not t.passed)
    assert all(phrase in t.feedback for t in values_tests(results) if not t.passed), \
        [t.feedback for t in values_tests(results) if not t.passed]
    assert results.score == results.max_score - sum(t.max_score for t in results.tests if not t.passed)
