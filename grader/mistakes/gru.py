"""Wrong GRU formulas students write: each returns what the mistaken code returns."""
import numpy as np


def _stack(top, bottom):
    return np.concatenate([top, bottom], axis=0)


def _pre(params, w, b, x_t, h_prev):
    """W [h_prev; x_t] + b, the contract's pre-activation with the named weights."""
    return params[w] @ _stack(h_prev, x_t) + params[b]


# update_gate

def update_gate_tanh(ref, x_t, h_prev, params):
    return np.tanh(_pre(params, "Wz", "bz", x_t, h_prev))


def update_gate_missing_bias(ref, x_t, h_prev, params):
    return ref.activations.sigmoid(params["Wz"] @ _stack(h_prev, x_t))


def update_gate_reset_weights(ref, x_t, h_prev, params):
    return ref.activations.sigmoid(_pre(params, "Wr", "br", x_t, h_prev))


# reset_gate

def reset_gate_tanh(ref, x_t, h_prev, params):
    return np.tanh(_pre(params, "Wr", "br", x_t, h_prev))


def reset_gate_update_weights(ref, x_t, h_prev, params):
    return ref.activations.sigmoid(_pre(params, "Wz", "bz", x_t, h_prev))


# candidate_hidden

def reset_after_matmul(ref, x_t, h_prev, r, params):
    n_h = h_prev.shape[0]
    Wh = params["Wh"]
    return np.tanh(Wh[:, :n_h] @ h_prev * r + Wh[:, n_h:] @ x_t + params["bh"])


def candidate_no_reset(ref, x_t, h_prev, r, params):
    return np.tanh(_pre(params, "Wh", "bh", x_t, h_prev))


def reset_outside_tanh(ref, x_t, h_prev, r, params):
    return r * np.tanh(_pre(params, "Wh", "bh", x_t, h_prev))


def candidate_sigmoid(ref, x_t, h_prev, r, params):
    return ref.activations.sigmoid(_pre(params, "Wh", "bh", x_t, r * h_prev))


def candidate_concat_x_on_top(ref, x_t, h_prev, r, params):
    return np.tanh(params["Wh"] @ _stack(x_t, r * h_prev) + params["bh"])


# hidden_state

def other_convention(ref, h_prev, z, h_tilde):
    return z * h_prev + (1.0 - z) * h_tilde


def old_state_not_weighted(ref, h_prev, z, h_tilde):
    return z * h_tilde + h_prev


def precedence_one_minus_z(ref, h_prev, z, h_tilde):
    # z * h_tilde + 1 - z * h_prev: the parentheses around (1 - z) are missing.
    return z * h_tilde + 1 - z * h_prev


# gru_cell_forward

def z_as_reset(ref, x_t, h_prev, params):
    z = ref.gru.update_gate(x_t, h_prev, params)
    h_tilde = ref.gru.candidate_hidden(x_t, h_prev, z, params)
    return ref.gru.hidden_state(h_prev, z, h_tilde)


def r_as_update(ref, x_t, h_prev, params):
    r = ref.gru.reset_gate(x_t, h_prev, params)
    h_tilde = ref.gru.candidate_hidden(x_t, h_prev, r, params)
    return ref.gru.hidden_state(h_prev, r, h_tilde)


def hidden_state_args_swapped(ref, x_t, h_prev, params):
    z = ref.gru.update_gate(x_t, h_prev, params)
    r = ref.gru.reset_gate(x_t, h_prev, params)
    h_tilde = ref.gru.candidate_hidden(x_t, h_prev, r, params)
    return ref.gru.hidden_state(h_tilde, z, h_prev)


# gru_forward

def forward_last_step_only(ref, x, h0, params):
    h_t = h0
    for t in range(x.shape[2]):
        h_t = ref.gru.gru_cell_forward(x[:, :, t], h_t, params)
    return h_t


def forward_h0_every_step(ref, x, h0, params):
    h = np.zeros(h0.shape + (x.shape[2],))
    for t in range(x.shape[2]):
        h[:, :, t] = ref.gru.gru_cell_forward(x[:, :, t], h0, params)
    return h


def one_minus_z_added(ref, h_prev, z, h_tilde):
    return z * h_tilde + (1.0 - z) + h_prev


def z_added(ref, h_prev, z, h_tilde):
    return z + h_tilde + (1.0 - z) * h_prev


# --- backward passes ---------------------------------------------------------------------------------------

def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def _cell_backward(ref, dh_next, x_t, h_prev, params, other_convention=False, direct=True, through_reset=True):
    """gru_cell_backward with one step changed: ``other_convention`` takes dz as if h_next = z * h_prev +
    (1 - z) * h_tilde, ``direct`` False drops dh_next * (1 - z), ``through_reset`` False drops the path from
    h_prev through r * h_prev."""
    n_h = h_prev.shape[0]
    concat = _stack(h_prev, x_t)
    z, r = _sig(_pre(params, "Wz", "bz", x_t, h_prev)), _sig(_pre(params, "Wr", "br", x_t, h_prev))
    reset = _stack(r * h_prev, x_t)
    h_tilde = np.tanh(params["Wh"] @ reset + params["bh"])
    da_h = dh_next * z * (1.0 - h_tilde ** 2)
    dreset = params["Wh"].T @ da_h
    drh = dreset[:n_h]
    dz = dh_next * ((h_prev - h_tilde) if other_convention else (h_tilde - h_prev))
    da_z, da_r = dz * z * (1.0 - z), drh * h_prev * r * (1.0 - r)
    dconcat = params["Wz"].T @ da_z + params["Wr"].T @ da_r
    dh_prev = (dh_next * (1.0 - z) if direct else 0.0) + (drh * r if through_reset else 0.0) + dconcat[:n_h]
    return {"dx_t": dreset[n_h:] + dconcat[n_h:], "dh_prev": dh_prev,
            "dWz": da_z @ concat.T, "dbz": np.sum(da_z, axis=1, keepdims=True),
            "dWr": da_r @ concat.T, "dbr": np.sum(da_r, axis=1, keepdims=True),
            "dWh": da_h @ reset.T, "dbh": np.sum(da_h, axis=1, keepdims=True)}


def backward_dz_other_convention(ref, dh_next, x_t, h_prev, params):
    return _cell_backward(ref, dh_next, x_t, h_prev, params, other_convention=True)


def backward_direct_path_dropped(ref, dh_next, x_t, h_prev, params):
    return _cell_backward(ref, dh_next, x_t, h_prev, params, direct=False)


def backward_reset_path_dropped(ref, dh_next, x_t, h_prev, params):
    return _cell_backward(ref, dh_next, x_t, h_prev, params, through_reset=False)


def through_time_future_dropped(ref, dh, x, h0, params):
    h = ref.gru.gru_forward(x, h0, params)
    dx = np.zeros(x.shape)
    grads = {"d" + key: np.zeros(params[key].shape) for key in ("Wz", "bz", "Wr", "br", "Wh", "bh")}
    carry = np.zeros(h0.shape)
    for t in range(x.shape[2] - 1, -1, -1):
        step = ref.gru.gru_cell_backward(dh[:, :, t], x[:, :, t], h0 if t == 0 else h[:, :, t - 1], params)
        dx[:, :, t] = step["dx_t"]
        grads = {key: grads[key] + step[key] for key in grads}
        carry = step["dh_prev"]
    return {"dx": dx, "dh0": carry, **grads}
