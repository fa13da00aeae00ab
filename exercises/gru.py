"""The GRU cell: two gates and no separate cell state.

The update gate z is the share of new content (lesson notation):
h_next = z * h_tilde + (1 - z) * h_prev.

Notation: lesson -> code: Γu -> z, Γr -> r, c~<t> -> h_tilde, c<t> = a<t> -> h_next,
c<t-1> -> h_prev, x<t> -> x_t. Batches are columns: column j of any (n, m) array is example j.
"""
import numpy as np

from activations import sigmoid


def update_gate(x_t, h_prev, params):
    """Update gate: the share of the new candidate in the next hidden state.

    z = sigmoid(Wz [h_prev; x_t] + bz)        lesson: Γu = σ(Wu [c<t-1>; x<t>] + bu)

    Shapes: x_t (n_x, m), h_prev (n_h, m), params["Wz"] (n_h, n_h + n_x),
    params["bz"] (n_h, 1). Returns z (n_h, m), every entry in (0, 1).
    """
    # TODO: stack h_prev above x_t, apply Wz and bz, squash with sigmoid
    raise NotImplementedError('stack h_prev above x_t, apply Wz and bz, squash with sigmoid')


def reset_gate(x_t, h_prev, params):
    """Reset (relevance) gate: how much of h_prev the candidate may look at.

    r = sigmoid(Wr [h_prev; x_t] + br)        lesson: Γr = σ(Wr [c<t-1>; x<t>] + br)

    Shapes: x_t (n_x, m), h_prev (n_h, m), params["Wr"] (n_h, n_h + n_x),
    params["br"] (n_h, 1). Returns r (n_h, m), every entry in (0, 1).
    """
    # TODO: the same shape of equation as the update gate, with Wr and br
    raise NotImplementedError('the same shape of equation as the update gate, with Wr and br')


def candidate_hidden(x_t, h_prev, r, params):
    """Candidate hidden state, reading the reset-scaled previous state.

    h_tilde = tanh(Wh [r * h_prev; x_t] + bh) lesson: c~<t> = tanh(Wc [Γr * c<t-1>; x<t>] + bc)

    Shapes: x_t (n_x, m), h_prev and r (n_h, m), params["Wh"] (n_h, n_h + n_x),
    params["bh"] (n_h, 1). Returns h_tilde (n_h, m).
    """
    # TODO: apply r to h_prev before stacking it above x_t
    raise NotImplementedError('apply r to h_prev before stacking it above x_t')


def hidden_state(h_prev, z, h_tilde):
    """New hidden state: a z-weighted blend of the candidate and the old state.

    h_next = z * h_tilde + (1 - z) * h_prev   lesson: c<t> = Γu * c~<t> + (1 - Γu) * c<t-1>

    Shapes: every argument and the result are (n_h, m).
    """
    # TODO: z weighs the new candidate; 1 - z weighs the old state
    raise NotImplementedError('z weighs the new candidate; 1 - z weighs the old state')


def gru_cell_forward(x_t, h_prev, params):
    """One GRU step, built from the gate functions and the state update.

    Shapes: x_t (n_x, m), h_prev (n_h, m). Returns h_next (n_h, m), the
    lesson's c<t> = a<t>. For one example j, h_next[:, j] is a vector (n_h,).
    """
    # TODO: update_gate, reset_gate, candidate_hidden, then hidden_state
    raise NotImplementedError('update_gate, reset_gate, candidate_hidden, then hidden_state')


def gru_forward(x, h0, params):
    """Run the GRU over a sequence, feeding each state into the next step.

    lesson: c<t> from (x<t>, c<t-1>) for t = 1..T, with c<0> = h0
    code:   step t = 0..T-1 reads x[:, :, t] and the previous state (h0 for
            t = 0, else h[:, :, t-1])

    Shapes: x (n_x, m, T), h0 (n_h, m). Returns h (n_h, m, T): h[:, :, t] is
    the state after the step that read x[:, :, t] (the lesson's c<t+1>); h0
    is not in h.
    """
    # TODO: loop t over range(T); store every step's state
    raise NotImplementedError("loop t over range(T); store every step's state")


def gru_cell_backward(dh_next, x_t, h_prev, params):
    """Backward pass of one GRU step: from dL/dh_next to the step's inputs and weights.

    Recompute z, r and h_tilde (no cache); h_prev reaches h_next three ways:
    directly (1 - z), through both gates, and through r * h_prev in the candidate.
    dz = dh_next * (h_tilde - h_prev)       dh_tilde = dh_next * z
    da_h = dh_tilde * (1 - h_tilde**2)      dWh = da_h @ [r * h_prev; x_t].T
    [d(r * h_prev); dx_t] = Wh.T @ da_h     so dr = d(r * h_prev) * h_prev
    da_z = dz * z * (1 - z)   da_r = dr * r * (1 - r)   dWz, dWr against [h_prev; x_t]
    dh_prev = dh_next * (1 - z) + d(r * h_prev) * r + rows :n_h of (Wz.T @ da_z + Wr.T @ da_r)

    Shapes: dh_next, h_prev (n_h, m), x_t (n_x, m). Returns a new dict:
    "dx_t" (n_x, m), "dh_prev" (n_h, m), and "dWz", "dbz", "dWr", "dbr",
    "dWh", "dbh", each the shape of its parameter. With z near 0 the term
    dh_next * (1 - z) passes the gradient to h_prev almost unchanged.
    """
    # TODO: the candidate read [r * h_prev; x_t], the gates read [h_prev; x_t]: two stacks, two splits
    raise NotImplementedError('the candidate read [r * h_prev; x_t], the gates read [h_prev; x_t]: two stacks, two splits')


def gru_backward(dh, x, h0, params):
    """Backpropagation through time for the GRU.

    As for the RNN: going backwards from t = T-1, step t gets dh[:, :, t] plus
    the dh_prev of step t+1; the weights act at every step, so their gradients
    are summed over the steps.

    Shapes: dh (n_h, m, T), x (n_x, m, T), h0 (n_h, m). Returns a new dict:
    "dx" (n_x, m, T), "dh0" (n_h, m), and "dWz", "dbz", "dWr", "dbr", "dWh",
    "dbh", each the shape of its parameter.
    """
    # TODO: run gru_forward once; loop t from T-1 down to 0 with gru_cell_backward
    raise NotImplementedError('run gru_forward once; loop t from T-1 down to 0 with gru_cell_backward')
