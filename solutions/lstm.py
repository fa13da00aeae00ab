"""The LSTM cell: three sigmoid gates steer a cell state that carries memory.

Notation: lesson -> code: Γf -> f, Γu (update gate) -> i, Γo -> o, c~<t> -> c_tilde,
c<t> -> c_next, c<t-1> -> c_prev, a<t> -> h_next, a<t-1> -> h_prev, x<t> -> x_t.
Batches are columns: column j of any (n, m) array is example j.
"""
import numpy as np

from activations import sigmoid


def forget_gate(x_t, h_prev, params):
    """Forget gate: how much of each cell-state entry to keep (1) or drop (0).

    f = sigmoid(Wf [h_prev; x_t] + bf)        lesson: Γf = σ(Wf [a<t-1>; x<t>] + bf)

    Shapes: x_t (n_x, m), h_prev (n_h, m), params["Wf"] (n_h, n_h + n_x),
    params["bf"] (n_h, 1). Returns f (n_h, m), every entry in (0, 1).
    """
    # BEGIN SOLUTION (hint: stack h_prev above x_t, apply Wf and bf, squash with sigmoid)
    concat = np.concatenate([h_prev, x_t], axis=0)
    return sigmoid(params["Wf"] @ concat + params["bf"])
    # END SOLUTION


def input_gate(x_t, h_prev, params):
    """Input (update) gate: how much of the candidate to write into the cell.

    i = sigmoid(Wi [h_prev; x_t] + bi)        lesson: Γu = σ(Wu [a<t-1>; x<t>] + bu)

    Shapes: x_t (n_x, m), h_prev (n_h, m), params["Wi"] (n_h, n_h + n_x),
    params["bi"] (n_h, 1). Returns i (n_h, m), every entry in (0, 1).
    """
    # BEGIN SOLUTION (hint: the same shape of equation as the forget gate, with Wi and bi)
    concat = np.concatenate([h_prev, x_t], axis=0)
    return sigmoid(params["Wi"] @ concat + params["bi"])
    # END SOLUTION


def candidate_cell(x_t, h_prev, params):
    """Candidate cell state: the new content the input gate may write.

    c_tilde = tanh(Wc [h_prev; x_t] + bc)     lesson: c~<t> = tanh(Wc [a<t-1>; x<t>] + bc)

    Shapes: x_t (n_x, m), h_prev (n_h, m), params["Wc"] (n_h, n_h + n_x),
    params["bc"] (n_h, 1). Returns c_tilde (n_h, m), every entry in (-1, 1).
    """
    # BEGIN SOLUTION (hint: like a gate, but squash with tanh so content can be negative)
    concat = np.concatenate([h_prev, x_t], axis=0)
    return np.tanh(params["Wc"] @ concat + params["bc"])
    # END SOLUTION


def output_gate(x_t, h_prev, params):
    """Output gate: how much of the (squashed) cell state to show as h.

    o = sigmoid(Wo [h_prev; x_t] + bo)        lesson: Γo = σ(Wo [a<t-1>; x<t>] + bo)

    Shapes: x_t (n_x, m), h_prev (n_h, m), params["Wo"] (n_h, n_h + n_x),
    params["bo"] (n_h, 1). Returns o (n_h, m), every entry in (0, 1).
    """
    # BEGIN SOLUTION (hint: the same shape of equation as the forget gate, with Wo and bo)
    concat = np.concatenate([h_prev, x_t], axis=0)
    return sigmoid(params["Wo"] @ concat + params["bo"])
    # END SOLUTION


def cell_state(c_prev, f, i, c_tilde):
    """New cell state: keep part of the old memory, add part of the candidate.

    c_next = f * c_prev + i * c_tilde         lesson: c<t> = Γf * c<t-1> + Γu * c~<t>

    Shapes: every argument and the result are (n_h, m). Along the cell state a
    step multiplies the gradient only by f, elementwise (dc_prev = f * dc_next):
    no weight matrix and no squashing derivative on that path, so with f near 1
    it carries the gradient across many steps: the "highway".
    """
    # BEGIN SOLUTION (hint: elementwise products, then a sum; no matrix multiply here)
    return f * c_prev + i * c_tilde
    # END SOLUTION


def hidden_state(o, c_next):
    """New hidden state: the output gate applied to the squashed new cell state.

    h_next = o * tanh(c_next)                 lesson: a<t> = Γo * tanh(c<t>)

    Shapes: o and c_next are (n_h, m); the result is (n_h, m).
    """
    # BEGIN SOLUTION (hint: use the new cell state c_next, squashed with tanh)
    return o * np.tanh(c_next)
    # END SOLUTION


def lstm_cell_forward(x_t, h_prev, c_prev, params):
    """One LSTM step, built from the four gate functions and the two state updates.

    Shapes: x_t (n_x, m), h_prev and c_prev (n_h, m). Returns (h_next, c_next),
    each (n_h, m): the lesson's (a<t>, c<t>). For one example j, h_next[:, j]
    and c_next[:, j] are vectors (n_h,).
    """
    # BEGIN SOLUTION (hint: call forget_gate, input_gate, candidate_cell, output_gate, then cell_state and hidden_state)
    f = forget_gate(x_t, h_prev, params)
    i = input_gate(x_t, h_prev, params)
    c_tilde = candidate_cell(x_t, h_prev, params)
    o = output_gate(x_t, h_prev, params)
    c_next = cell_state(c_prev, f, i, c_tilde)
    h_next = hidden_state(o, c_next)
    return h_next, c_next
    # END SOLUTION


def lstm_forward(x, h0, params):
    """Run the LSTM over a sequence; the first cell state is zeros.

    lesson: (a<t>, c<t>) from (x<t>, a<t-1>, c<t-1>) for t = 1..T, a<0> = h0, c<0> = 0
    code:   step t = 0..T-1 reads x[:, :, t] and the previous states (h0 and
            zeros for t = 0, else h[:, :, t-1] and c[:, :, t-1])

    Shapes: x (n_x, m, T), h0 (n_h, m). Returns (h, c), each (n_h, m, T):
    h[:, :, t] and c[:, :, t] are the states after the step that read
    x[:, :, t] (the lesson's a<t+1>, c<t+1>); h0 and the zero cell state are
    not in them.
    """
    # BEGIN SOLUTION (hint: start from c = zeros like h0; feed each step's h and c into the next)
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
    # END SOLUTION


def lstm_cell_backward(dh_next, dc_next, x_t, h_prev, c_prev, params):
    """Backward pass of one LSTM step: from dL/dh_next and dL/dc_next to the step's inputs and weights.

    Recompute f, i, c_tilde, o and c_next (no cache). Then, with tc = tanh(c_next):
    do = dh_next * tc
    dc = dc_next + dh_next * o * (1 - tc**2)     c_next reaches the loss both ways
    df = dc * c_prev    di = dc * c_tilde    dc_tilde = dc * i
    dc_prev = dc * f                             the cell-state path: one elementwise gate
    through each gate's squashing: da_f = df * f * (1 - f), da_i, da_o alike,
    da_c = dc_tilde * (1 - c_tilde**2)
    dW* = da_* @ [h_prev; x_t].T, db* = da_* summed over the batch, as a column
    [dh_prev; dx_t] = Wf.T @ da_f + Wi.T @ da_i + Wc.T @ da_c + Wo.T @ da_o

    Shapes: dh_next, dc_next, h_prev, c_prev (n_h, m), x_t (n_x, m). Returns a
    new dict: "dx_t" (n_x, m), "dh_prev" and "dc_prev" (n_h, m), and "dWf",
    "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo", each the shape of its
    parameter.
    """
    # BEGIN SOLUTION (hint: the cell state gets dc_next plus the part of dh_next that went through tanh(c_next))
    n_h = h_prev.shape[0]
    concat = np.concatenate([h_prev, x_t], axis=0)
    f = forget_gate(x_t, h_prev, params)
    i = input_gate(x_t, h_prev, params)
    c_tilde = candidate_cell(x_t, h_prev, params)
    o = output_gate(x_t, h_prev, params)
    tc = np.tanh(cell_state(c_prev, f, i, c_tilde))
    dc = dc_next + dh_next * o * (1.0 - tc ** 2)
    pre = {"f": dc * c_prev * f * (1.0 - f), "i": dc * c_tilde * i * (1.0 - i),
           "c": dc * i * (1.0 - c_tilde ** 2), "o": dh_next * tc * o * (1.0 - o)}
    grads = {}
    dconcat = np.zeros_like(concat)
    for gate, da in pre.items():
        grads["dW" + gate] = da @ concat.T
        grads["db" + gate] = np.sum(da, axis=1, keepdims=True)
        dconcat += params["W" + gate].T @ da
    return {"dx_t": dconcat[n_h:], "dh_prev": dconcat[:n_h], "dc_prev": dc * f, **grads}
    # END SOLUTION


def lstm_backward(dh, x, h0, params):
    """Backpropagation through time for the LSTM.

    dh[:, :, t] is the loss's direct gradient on the hidden state after step t
    (the loss reads only hidden states, so nothing reaches the cell states
    directly). Going backwards from t = T-1, step t gets dh[:, :, t] plus the
    dh_prev of step t+1, and the dc_prev of step t+1 as its dc_next (zeros for
    t = T-1). The weights act at every step, so their gradients are summed. The
    first cell state is zeros, not an input: it has no gradient here.

    Shapes: dh (n_h, m, T), x (n_x, m, T), h0 (n_h, m). Returns a new dict:
    "dx" (n_x, m, T), "dh0" (n_h, m), and "dWf", "dbf", "dWi", "dbi", "dWc",
    "dbc", "dWo", "dbo", each the shape of its parameter.
    """
    # BEGIN SOLUTION (hint: run lstm_forward once; carry both dh_prev and dc_prev back, step by step)
    h, c = lstm_forward(x, h0, params)
    T = x.shape[2]
    dx = np.zeros_like(x, dtype=np.float64)
    grads = {"d" + key: np.zeros_like(params[key], dtype=np.float64)
             for key in ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo")}
    dh_carry = np.zeros_like(h0, dtype=np.float64)
    dc_carry = np.zeros_like(h0, dtype=np.float64)
    for t in range(T - 1, -1, -1):
        h_prev = h0 if t == 0 else h[:, :, t - 1]
        c_prev = np.zeros_like(h0, dtype=np.float64) if t == 0 else c[:, :, t - 1]
        step = lstm_cell_backward(dh[:, :, t] + dh_carry, dc_carry, x[:, :, t], h_prev, c_prev, params)
        dx[:, :, t] = step["dx_t"]
        for key in grads:
            grads[key] += step[key]
        dh_carry, dc_carry = step["dh_prev"], step["dc_prev"]
    return {"dx": dx, "dh0": dh_carry, **grads}
    # END SOLUTION
