"""The curriculum (shared/curriculum.md) as data: modules, functions, arguments, results.

Every other part of gatelab reads the contract from here: the case
generator knows what inputs to build from an argument's *kind*, the judge
names results by their quantity, and composite functions list the *parts*
they are built from, so they can be graded on the student's own parts.
"""
from __future__ import annotations

from dataclasses import dataclass

MODULES = ("activations", "rnn", "lstm", "gru", "gradients")

# Argument kinds, and what the case generator builds for each.
ARG_KINDS = {
    "preactivation": "any real array (n_h, m); huge values in the saturated case",
    "input": "one time step of input (n_x, m)",
    "state": "a hidden state (n_h, m), entries in (-1, 1)",
    "cell": "a cell state (n_h, m), any real values",
    "gate": "a gate value (n_h, m), entries in (0, 1)",
    "squashed": "a tanh output (n_h, m), entries in (-1, 1)",
    "sequence": "a whole input sequence (n_x, m, T)",
    "params": "the module's parameter dict",
    "grads": "a dict of gradient arrays",
    "bound": "a positive float bound",
    "state_column": "a hidden state for one example (n_h, 1), entries in (-1, 1)",
    "sequence_column": "a sequence for one example (n_x, 1, T)",
}


@dataclass(frozen=True)
class Function:
    """One function a student implements."""

    module: str
    name: str
    args: tuple[tuple[str, str], ...]  # (argument name, kind)
    returns: tuple[tuple[str, str], ...]  # (quantity, shape in symbols)
    parts: tuple[str, ...] = ()  # qualified names of the contract functions it is built from
    params: tuple[str, ...] = ()  # parameter keys it reads
    range: str = ""  # "gate" (0, 1), "tanh" (-1, 1) or "" for any real output
    warn_free: bool = False  # must not emit warnings (sigmoid at z = +-1000)

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"

    @property
    def arg_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.args)


_STEP = (("x_t", "input"), ("h_prev", "state"), ("params", "params"))
_SEQ = (("x", "sequence"), ("h0", "state"), ("params", "params"))
_SIG = ("activations.sigmoid",)

RNN_PARAMS = ("Wh", "bh")
LSTM_PARAMS = ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo")
GRU_PARAMS = ("Wz", "bz", "Wr", "br", "Wh", "bh")
PARAMS_BY_MODULE = {"rnn": RNN_PARAMS, "lstm": LSTM_PARAMS, "gru": GRU_PARAMS, "gradients": RNN_PARAMS}


def _f(module: str, name: str, args, returns, **kw) -> Function:
    return Function(module, name, tuple(args), tuple(returns), **kw)


FUNCTIONS: tuple[Function, ...] = (
    _f("activations", "sigmoid", [("z", "preactivation")], [("sigmoid(z)", "same as z")], range="gate",
       warn_free=True),
    _f("activations", "sigmoid_derivative", [("z", "preactivation")], [("sigmoid'(z)", "same as z")],
       parts=_SIG),
    _f("activations", "tanh_derivative", [("z", "preactivation")], [("tanh'(z)", "same as z")]),
    _f("rnn", "rnn_cell_forward", _STEP, [("h_next", "(n_h, m)")], params=("Wh", "bh"), range="tanh"),
    _f("rnn", "rnn_forward", _SEQ, [("h", "(n_h, m, T)")], parts=("rnn.rnn_cell_forward",),
       params=("Wh", "bh"), range="tanh"),
    _f("lstm", "forget_gate", _STEP, [("f", "(n_h, m)")], parts=_SIG, params=("Wf", "bf"), range="gate"),
    _f("lstm", "input_gate", _STEP, [("i", "(n_h, m)")], parts=_SIG, params=("Wi", "bi"), range="gate"),
    _f("lstm", "candidate_cell", _STEP, [("c_tilde", "(n_h, m)")], params=("Wc", "bc"), range="tanh"),
    _f("lstm", "output_gate", _STEP, [("o", "(n_h, m)")], parts=_SIG, params=("Wo", "bo"), range="gate"),
    _f("lstm", "cell_state", [("c_prev", "cell"), ("f", "gate"), ("i", "gate"), ("c_tilde", "squashed")],
       [("c_next", "(n_h, m)")]),
    _f("lstm", "hidden_state", [("o", "gate"), ("c_next", "cell")], [("h_next", "(n_h, m)")], range="tanh"),
    _f("lstm", "lstm_cell_forward", [("x_t", "input"), ("h_prev", "state"), ("c_prev", "cell"),
                                     ("params", "params")],
       [("h_next", "(n_h, m)"), ("c_next", "(n_h, m)")],
       parts=("lstm.forget_gate", "lstm.input_gate", "lstm.candidate_cell", "lstm.output_gate",
              "lstm.cell_state", "lstm.hidden_state"), params=LSTM_PARAMS),
    _f("lstm", "lstm_forward", _SEQ, [("h", "(n_h, m, T)"), ("c", "(n_h, m, T)")],
       parts=("lstm.lstm_cell_forward",), params=LSTM_PARAMS),
    _f("gru", "update_gate", _STEP, [("z", "(n_h, m)")], parts=_SIG, params=("Wz", "bz"), range="gate"),
    _f("gru", "reset_gate", _STEP, [("r", "(n_h, m)")], parts=_SIG, params=("Wr", "br"), range="gate"),
    _f("gru", "candidate_hidden", [("x_t", "input"), ("h_prev", "state"), ("r", "gate"), ("params", "params")],
       [("h_tilde", "(n_h, m)")], params=("Wh", "bh"), range="tanh"),
    _f("gru", "hidden_state", [("h_prev", "state"), ("z", "gate"), ("h_tilde", "squashed")],
       [("h_next", "(n_h, m)")]),
    _f("gru", "gru_cell_forward", _STEP, [("h_next", "(n_h, m)")],
       parts=("gru.update_gate", "gru.reset_gate", "gru.candidate_hidden", "gru.hidden_state"),
       params=GRU_PARAMS),
    _f("gru", "gru_forward", _SEQ, [("h", "(n_h, m, T)")], parts=("gru.gru_cell_forward",), params=GRU_PARAMS),
    _f("gradients", "clip_by_value", [("grads", "grads"), ("max_value", "bound")], [("clipped", "dict")]),
    _f("gradients", "clip_by_global_norm", [("grads", "grads"), ("max_norm", "bound")],
       [("clipped", "dict"), ("global_norm", "float")]),
    _f("gradients", "rnn_step_jacobian", [("h_next", "state_column"), ("params", "params")],
       [("dh_next/dh_prev", "(n_h, n_h)")], params=("Wh",)),
    _f("gradients", "gradient_norms_through_time",
       [("x", "sequence_column"), ("h0", "state_column"), ("params", "params")], [("norms", "(T,)")],
       parts=("rnn.rnn_cell_forward", "gradients.rnn_step_jacobian"), params=("Wh", "bh")),
)

BY_NAME: dict[str, Function] = {f.qualname: f for f in FUNCTIONS}


def lookup(qualname: str) -> Function:
    """The contract function with this qualified name (``lstm.forget_gate``)."""
    return BY_NAME[qualname]
