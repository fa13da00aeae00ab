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
