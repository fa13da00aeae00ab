"""The plain (vanilla) RNN: one tanh layer applied at every time step.

Notation: the lesson's a<t> is h in code, x<t> is x_t; the lesson's steps t = 1..T are the code's
t = 0..T-1 (x[:, :, t] is x<t+1>). Batches are columns: column j of any (n, m) array is example j.
"""
import numpy as np


def rnn_cell_forward(x_t, h_prev, params):
    """One step of a vanilla RNN.

    h_next = tanh(Wh [h_prev; x_t] + bh)        lesson: a<t> = tanh(Wa [a<t-1>; x<t>] + ba)

    Shapes: x_t (n_x, m), h_prev (n_h, m), params["Wh"] (n_h, n_h + n_x),
    params["bh"] (n_h, 1). Returns h_next (n_h, m). For one example j the
    vectors are x_t[:, j] (n_x,), h_prev[:, j] and h_next[:, j] (n_h,).
    """
    # TODO: np.concatenate([h_prev, x_t], axis=0), hidden state on top
    raise NotImplementedError('np.concatenate([h_prev, x_t], axis=0), hidden state on top')


def rnn_forward(x, h0, params):
    """Run the RNN over a whole sequence, feeding each state into the next step.

    lesson: a<t> = rnn_cell_forward(x<t>, a<t-1>) for t = 1..T, with a<0> = h0
    code:   h[:, :, t] = rnn_cell_forward(x[:, :, t], previous state), t = 0..T-1,
            where the previous state is h0 for t = 0 and h[:, :, t-1] after that

    Shapes: x (n_x, m, T), h0 (n_h, m). Returns h (n_h, m, T): h[:, :, t] is
    the state after the step that read x[:, :, t] (the lesson's a<t+1>);
    h0 itself is not in h. For one example j, h[:, j, t] is a vector (n_h,).
    """
    # TODO: loop t over range(T); store every step's state, not just the last
    raise NotImplementedError("loop t over range(T); store every step's state, not just the last")


def rnn_cell_backward(dh_next, x_t, h_prev, params):
    """Backward pass of one RNN step: from dL/dh_next to the step's inputs and weights.

    With a = Wh [h_prev; x_t] + bh and h_next = tanh(a) (recomputed here, no cache):
    da = dh_next * (1 - h_next**2)          tanh'(a), written with the output h_next
    dWh = da @ [h_prev; x_t].T              summed over the batch by the product
    dbh = da summed over the batch (axis 1), kept as a column (n_h, 1)
    [dh_prev; dx_t] = Wh.T @ da             split at row n_h, as [h_prev; x_t] was stacked

    Shapes: dh_next and h_prev (n_h, m), x_t (n_x, m). Returns a new dict:
    "dx_t" (n_x, m), "dh_prev" (n_h, m), "dWh" (n_h, n_h + n_x), "dbh" (n_h, 1).
    Along the state the gradient is multiplied by Wh[:, :n_h].T and by tanh',
    once per step: that product, repeated, is what vanishes or explodes.
    """
    # TODO: recompute h_next with rnn_cell_forward; da = dh_next * (1 - h_next**2)
    raise NotImplementedError('recompute h_next with rnn_cell_forward; da = dh_next * (1 - h_next**2)')


def rnn_backward(dh, x, h0, params):
    """Backpropagation through time for the RNN: every step's gradient, summed.

    dh[:, :, t] is the loss's direct gradient on the state after step t (the
    lesson's a<t+1>), not through later steps. Going backwards from t = T-1,
    the gradient on that state is dh[:, :, t] plus what flows back from step
    t+1 (nothing for t = T-1); rnn_cell_backward turns it into the step's
    gradients. The same Wh and bh act at every step, so dWh and dbh are the
    sums over all steps.

    Shapes: dh (n_h, m, T), x (n_x, m, T), h0 (n_h, m). Returns a new dict:
    "dx" (n_x, m, T), "dh0" (n_h, m), "dWh" (n_h, n_h + n_x), "dbh" (n_h, 1).
    """
    # TODO: run rnn_forward once; loop t from T-1 down to 0, adding the step's weight gradients
    raise NotImplementedError("run rnn_forward once; loop t from T-1 down to 0, adding the step's weight gradients")
