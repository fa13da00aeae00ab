"""The plain (vanilla) RNN: one tanh layer applied at every time step."""
import numpy as np


def rnn_cell_forward(x_t, h_prev, params):
    """One step of a vanilla RNN.

    h_next = tanh(Wh [h_prev; x_t] + bh)

    Shapes: x_t (n_x, m), h_prev (n_h, m), params["Wh"] (n_h, n_h + n_x),
    params["bh"] (n_h, 1). Returns h_next (n_h, m).
    """
    # TODO: np.concatenate([h_prev, x_t], axis=0), hidden state on top
    raise NotImplementedError('np.concatenate([h_prev, x_t], axis=0), hidden state on top')


def rnn_forward(x, h0, params):
    """Run the RNN over a whole sequence, feeding each state into the next step.

    h<t> = rnn_cell_forward(x<t>, h<t-1>), with h<-1> = h0

    Shapes: x (n_x, m, T), h0 (n_h, m). Returns h (n_h, m, T), where
    h[:, :, t] is the state after step t.
    """
    # TODO: loop t over range(T); store every step's state, not just the last
    raise NotImplementedError("loop t over range(T); store every step's state, not just the last")
