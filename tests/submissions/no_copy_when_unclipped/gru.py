"""The GRU cell: two gates and no separate cell state.

The update gate z is the share of new content (lesson notation):
h_next = z * h_tilde + (1 - z) * h_prev.
"""
import numpy as np

from activations import sigmoid


def update_gate(x_t, h_prev, params):
    """Update gate: the share of the new candidate in the next hidden state.

    z = sigmoid(Wz [h_prev; x_t] + bz)

    Shapes: x_t (n_x, m), h_prev (n_h, m), params["Wz"] (n_h, n_h + n_x),
    params["bz"] (n_h, 1). Returns z (n_h, m), every entry in (0, 1).
    """
    concat = np.concatenate([h_prev, x_t], axis=0)
    return sigmoid(params["Wz"] @ concat + params["bz"])


def reset_gate(x_t, h_prev, params):
    """Reset (relevance) gate: how much of h_prev the candidate may look at.

    r = sigmoid(Wr [h_prev; x_t] + br)

    Shapes: x_t (n_x, m), h_prev (n_h, m), params["Wr"] (n_h, n_h + n_x),
    params["br"] (n_h, 1). Returns r (n_h, m), every entry in (0, 1).
    """
    concat = np.concatenate([h_prev, x_t], axis=0)
    return sigmoid(params["Wr"] @ concat + params["br"])


def candidate_hidden(x_t, h_prev, r, params):
    """Candidate hidden state, reading the reset-scaled previous state.

    h_tilde = tanh(Wh [r * h_prev; x_t] + bh)

    Shapes: x_t (n_x, m), h_prev and r (n_h, m), params["Wh"] (n_h, n_h + n_x),
    params["bh"] (n_h, 1). Returns h_tilde (n_h, m).
    """
    concat = np.concatenate([r * h_prev, x_t], axis=0)
    return np.tanh(params["Wh"] @ concat + params["bh"])


def hidden_state(h_prev, z, h_tilde):
    """New hidden state: a z-weighted blend of the candidate and the old state.

    h_next = z * h_tilde + (1 - z) * h_prev

    Shapes: every argument and the result are (n_h, m).
    """
    return z * h_tilde + (1.0 - z) * h_prev


def gru_cell_forward(x_t, h_prev, params):
    """One GRU step, built from the gate functions and the state update.

    Shapes: x_t (n_x, m), h_prev (n_h, m). Returns h_next (n_h, m).
    """
    z = update_gate(x_t, h_prev, params)
    r = reset_gate(x_t, h_prev, params)
    h_tilde = candidate_hidden(x_t, h_prev, r, params)
    return hidden_state(h_prev, z, h_tilde)


def gru_forward(x, h0, params):
    """Run the GRU over a sequence, feeding each state into the next step.

    Shapes: x (n_x, m, T), h0 (n_h, m). Returns h (n_h, m, T).
    """
    n_h, m = h0.shape
    T = x.shape[2]
    h = np.zeros((n_h, m, T))
    h_t = h0
    for t in range(T):
        h_t = gru_cell_forward(x[:, :, t], h_t, params)
        h[:, :, t] = h_t
    return h
