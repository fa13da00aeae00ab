"""The plain (vanilla) RNN: one tanh layer applied at every time step."""
import numpy as np


def rnn_cell_forward(x_t, h_prev, params):
    """One step of a vanilla RNN.

    h_next = tanh(Wh [h_prev; x_t] + bh)

    Shapes: x_t (n_x, m), h_prev (n_h, m), params["Wh"] (n_h, n_h + n_x),
    params["bh"] (n_h, 1). Returns h_next (n_h, m).
    """
    concat = np.concatenate([h_prev, x_t], axis=0)
    return np.tanh(params["Wh"] @ concat + params["bh"])


def rnn_forward(x, h0, params):
    """Run the RNN over a whole sequence, feeding each state into the next step.

    h<t> = rnn_cell_forward(x<t>, h<t-1>), with h<-1> = h0

    Shapes: x (n_x, m, T), h0 (n_h, m). Returns h (n_h, m, T), where
    h[:, :, t] is the state after step t.
    """
    n_h, m = h0.shape
    T = x.shape[2]
    h = np.zeros((n_h, m, T))
    h_t = h0
    for t in range(T):
        h_t = rnn_cell_forward(x[:, :, t], h_t, params)
        h[:, :, t] = h_t
    return h
