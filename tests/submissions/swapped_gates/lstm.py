"""The LSTM cell: three sigmoid gates steer a cell state that carries memory."""
import numpy as np

from activations import sigmoid


def forget_gate(x_t, h_prev, params):
    """Forget gate: how much of each cell-state entry to keep (1) or drop (0).

    f = sigmoid(Wf [h_prev; x_t] + bf)

    Shapes: x_t (n_x, m), h_prev (n_h, m), params["Wf"] (n_h, n_h + n_x),
    params["bf"] (n_h, 1). Returns f (n_h, m), every entry in (0, 1).
    """
    concat = np.concatenate([h_prev, x_t], axis=0)
    return sigmoid(params["Wf"] @ concat + params["bf"])


def input_gate(x_t, h_prev, params):
    """Input (update) gate: how much of the candidate to write into the cell.

    i = sigmoid(Wi [h_prev; x_t] + bi)

    Shapes: x_t (n_x, m), h_prev (n_h, m), params["Wi"] (n_h, n_h + n_x),
    params["bi"] (n_h, 1). Returns i (n_h, m), every entry in (0, 1).
    """
    concat = np.concatenate([h_prev, x_t], axis=0)
    return sigmoid(params["Wf"] @ concat + params["bf"])


def candidate_cell(x_t, h_prev, params):
    """Candidate cell state: the new content the input gate may write.

    c_tilde = tanh(Wc [h_prev; x_t] + bc)

    Shapes: x_t (n_x, m), h_prev (n_h, m), params["Wc"] (n_h, n_h + n_x),
    params["bc"] (n_h, 1). Returns c_tilde (n_h, m), every entry in (-1, 1).
    """
    concat = np.concatenate([h_prev, x_t], axis=0)
    return np.tanh(params["Wc"] @ concat + params["bc"])


def output_gate(x_t, h_prev, params):
    """Output gate: how much of the (squashed) cell state to show as h.

    o = sigmoid(Wo [h_prev; x_t] + bo)

    Shapes: x_t (n_x, m), h_prev (n_h, m), params["Wo"] (n_h, n_h + n_x),
    params["bo"] (n_h, 1). Returns o (n_h, m), every entry in (0, 1).
    """
    concat = np.concatenate([h_prev, x_t], axis=0)
    return sigmoid(params["Wo"] @ concat + params["bo"])


def cell_state(c_prev, f, i, c_tilde):
    """New cell state: keep part of the old memory, add part of the candidate.

    c_next = f * c_prev + i * c_tilde

    Shapes: every argument and the result are (n_h, m). The sum (not a
    product) is why gradients flow along the cell state: the "highway".
    """
    return f * c_prev + i * c_tilde


def hidden_state(o, c_next):
    """New hidden state: the output gate applied to the squashed new cell state.

    h_next = o * tanh(c_next)

    Shapes: o and c_next are (n_h, m); the result is (n_h, m).
    """
    return o * np.tanh(c_next)


def lstm_cell_forward(x_t, h_prev, c_prev, params):
    """One LSTM step, built from the four gate functions and the two state updates.

    Shapes: x_t (n_x, m), h_prev and c_prev (n_h, m). Returns (h_next, c_next),
    each (n_h, m).
    """
    f = forget_gate(x_t, h_prev, params)
    i = input_gate(x_t, h_prev, params)
    c_tilde = candidate_cell(x_t, h_prev, params)
    o = output_gate(x_t, h_prev, params)
    c_next = cell_state(c_prev, f, i, c_tilde)
    h_next = hidden_state(o, c_next)
    return h_next, c_next


def lstm_forward(x, h0, params):
    """Run the LSTM over a sequence; the first cell state is zeros.

    Shapes: x (n_x, m, T), h0 (n_h, m). Returns (h, c), each (n_h, m, T):
    h[:, :, t] and c[:, :, t] are the states after step t.
    """
    n_h, m = h0.shape
    T = x.shape[2]
    h = np.zeros((n_h, m, T))
    c = np.zeros((n_h, m, T))
    h_t = h0
    c_t = np.zeros_like(h0)
    for t in range(T):
        h_t, c_t = lstm_cell_forward(x[:, :, t], h_t, c_t, params)
        h[:, :, t] = h_t
        c[:, :, t] = c_t
    return h, c
