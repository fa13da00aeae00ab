"""Wrong vanilla-RNN formulas students write: each returns what the mistaken code returns."""
import numpy as np


def _stack(top, bottom):
    return np.concatenate([top, bottom], axis=0)


def concat_x_on_top(ref, x_t, h_prev, params):
    return np.tanh(params["Wh"] @ _stack(x_t, h_prev) + params["bh"])


def missing_bias(ref, x_t, h_prev, params):
    return np.tanh(params["Wh"] @ _stack(h_prev, x_t))


def sigmoid_for_tanh(ref, x_t, h_prev, params):
    return ref.activations.sigmoid(params["Wh"] @ _stack(h_prev, x_t) + params["bh"])


def no_tanh(ref, x_t, h_prev, params):
    return params["Wh"] @ _stack(h_prev, x_t) + params["bh"]


def bias_after_tanh(ref, x_t, h_prev, params):
    return np.tanh(params["Wh"] @ _stack(h_prev, x_t)) + params["bh"]


def last_step_only(ref, x, h0, params):
    h_t = h0
    for t in range(x.shape[2]):
        h_t = ref.rnn.rnn_cell_forward(x[:, :, t], h_t, params)
    return h_t


def h0_every_step(ref, x, h0, params):
    n_h, m = h0.shape
    h = np.zeros((n_h, m, x.shape[2]))
    for t in range(x.shape[2]):
        h[:, :, t] = ref.rnn.rnn_cell_forward(x[:, :, t], h0, params)
    return h


def all_steps_at_index_zero(ref, x, h0, params):
    n_h, m = h0.shape
    h = np.zeros((n_h, m, x.shape[2]))
    h_t = h0
    for t in range(x.shape[2]):
        h_t = ref.rnn.rnn_cell_forward(x[:, :, t], h_t, params)
        h[:, :, 0] = h_t
    return h


def float32_buffer(ref, x, h0, params):
    n_h, m = h0.shape
    h = np.zeros((n_h, m, x.shape[2]), dtype=np.float32)
    h_t = h0
    for t in range(x.shape[2]):
        h_t = ref.rnn.rnn_cell_forward(x[:, :, t], h_t, params)
        h[:, :, t] = h_t
    return h


# --- backward passes ---------------------------------------------------------------------------------------

def _cell_backward(ref, dh_next, x_t, h_prev, params, da_of=None, split=None, keep=True):
    """rnn_cell_backward with one step changed: ``da_of(h_next, a)`` for tanh's factor, ``split`` for the row
    [dh_prev; dx_t] is cut at, ``keep`` False for dbh without keepdims."""
    n_h = h_prev.shape[0]
    concat = _stack(h_prev, x_t)
    a = params["Wh"] @ concat + params["bh"]
    h_next = np.tanh(a)
    da = dh_next * (da_of(h_next, a) if da_of else 1.0 - h_next ** 2)
    dconcat = params["Wh"].T @ da
    cut = n_h if split is None else split
    top, bottom = dconcat[:cut], dconcat[cut:]
    dh_prev, dx_t = (top, bottom) if split is None else (bottom, top)
    return {"dx_t": dx_t, "dh_prev": dh_prev, "dWh": da @ concat.T, "dbh": np.sum(da, axis=1, keepdims=keep)}


def backward_tanh_prime_of_preactivation(ref, dh_next, x_t, h_prev, params):
    return _cell_backward(ref, dh_next, x_t, h_prev, params, da_of=lambda h, a: 1.0 - a ** 2)


def backward_tanh_prime_at_h_prev(ref, dh_next, x_t, h_prev, params):
    return _cell_backward(ref, dh_next, x_t, h_prev, params, da_of=lambda h, a: 1.0 - h_prev ** 2)


def backward_no_tanh_prime(ref, dh_next, x_t, h_prev, params):
    return _cell_backward(ref, dh_next, x_t, h_prev, params, da_of=lambda h, a: 1.0)


def backward_split_x_on_top(ref, dh_next, x_t, h_prev, params):
    return _cell_backward(ref, dh_next, x_t, h_prev, params, split=x_t.shape[0])


def backward_dbh_keepdims_lost(ref, dh_next, x_t, h_prev, params):
    return _cell_backward(ref, dh_next, x_t, h_prev, params, keep=False)


def _through_time(ref, dh, x, h0, params, carry_on=True, summed=True, prev_is_after=False):
    """rnn_backward with one step changed: ``carry_on`` False drops the gradient from later steps, ``summed``
    False keeps the last step's weight gradient (t = 0) instead of the sum, ``prev_is_after`` passes the state
    after the step as h_prev."""
    h = ref.rnn.rnn_forward(x, h0, params)
    T = x.shape[2]
    dx, carry = np.zeros(x.shape), np.zeros(h0.shape)
    dWh, dbh = np.zeros(params["Wh"].shape), np.zeros(params["bh"].shape)
    for t in range(T - 1, -1, -1):
        h_prev = h[:, :, t] if prev_is_after else (h0 if t == 0 else h[:, :, t - 1])
        step = ref.rnn.rnn_cell_backward(dh[:, :, t] + (carry if carry_on else 0.0), x[:, :, t], h_prev, params)
        dx[:, :, t] = step["dx_t"]
        dWh, dbh = (dWh + step["dWh"], dbh + step["dbh"]) if summed else (step["dWh"], step["dbh"])
        carry = step["dh_prev"]
    return {"dx": dx, "dh0": carry, "dWh": dWh, "dbh": dbh}


def through_time_future_dropped(ref, dh, x, h0, params):
    return _through_time(ref, dh, x, h0, params, carry_on=False)


def through_time_not_summed(ref, dh, x, h0, params):
    return _through_time(ref, dh, x, h0, params, summed=False)


def through_time_state_after_the_step(ref, dh, x, h0, params):
    return _through_time(ref, dh, x, h0, params, prev_is_after=True)
