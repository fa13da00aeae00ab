"""Wrong LSTM formulas students write: each returns what the mistaken code returns."""
import numpy as np


def _stack(top, bottom):
    return np.concatenate([top, bottom], axis=0)


def _pre(params, w, b, x_t, h_prev):
    """W [h_prev; x_t] + b, the contract's pre-activation with the named weights."""
    return params[w] @ _stack(h_prev, x_t) + params[b]


def _gates(ref, x_t, h_prev, params):
    lstm = ref.lstm
    return (lstm.forget_gate(x_t, h_prev, params), lstm.input_gate(x_t, h_prev, params),
            lstm.candidate_cell(x_t, h_prev, params), lstm.output_gate(x_t, h_prev, params))


# forget_gate

def forget_gate_tanh(ref, x_t, h_prev, params):
    return np.tanh(_pre(params, "Wf", "bf", x_t, h_prev))


def forget_gate_missing_bias(ref, x_t, h_prev, params):
    return ref.activations.sigmoid(params["Wf"] @ _stack(h_prev, x_t))


def forget_gate_concat_x_on_top(ref, x_t, h_prev, params):
    return ref.activations.sigmoid(params["Wf"] @ _stack(x_t, h_prev) + params["bf"])


# input_gate

def input_gate_forget_weights(ref, x_t, h_prev, params):
    return ref.activations.sigmoid(_pre(params, "Wf", "bf", x_t, h_prev))


def input_gate_tanh(ref, x_t, h_prev, params):
    return np.tanh(_pre(params, "Wi", "bi", x_t, h_prev))


# candidate_cell

def candidate_cell_sigmoid(ref, x_t, h_prev, params):
    return ref.activations.sigmoid(_pre(params, "Wc", "bc", x_t, h_prev))


def candidate_cell_input_weights(ref, x_t, h_prev, params):
    return np.tanh(_pre(params, "Wi", "bi", x_t, h_prev))


def candidate_cell_missing_bias(ref, x_t, h_prev, params):
    return np.tanh(params["Wc"] @ _stack(h_prev, x_t))


def candidate_cell_concat_x_on_top(ref, x_t, h_prev, params):
    return np.tanh(params["Wc"] @ _stack(x_t, h_prev) + params["bc"])


# output_gate

def output_gate_tanh(ref, x_t, h_prev, params):
    return np.tanh(_pre(params, "Wo", "bo", x_t, h_prev))


def output_gate_forget_weights(ref, x_t, h_prev, params):
    return ref.activations.sigmoid(_pre(params, "Wf", "bf", x_t, h_prev))


# cell_state

def cell_state_no_input_gate(ref, c_prev, f, i, c_tilde):
    return f * c_prev + c_tilde


def cell_state_product(ref, c_prev, f, i, c_tilde):
    return f * c_prev * i * c_tilde


def cell_state_gates_swapped(ref, c_prev, f, i, c_tilde):
    return i * c_prev + f * c_tilde


def cell_state_f_as_input(ref, c_prev, f, i, c_tilde):
    return f * c_prev + f * c_tilde


def cell_state_i_as_forget(ref, c_prev, f, i, c_tilde):
    return i * c_prev + i * c_tilde


def cell_state_squashed(ref, c_prev, f, i, c_tilde):
    return np.tanh(f * c_prev + i * c_tilde)


def cell_state_float32(ref, c_prev, f, i, c_tilde):
    return (f * c_prev + i * c_tilde).astype(np.float32)


# hidden_state

def hidden_state_no_tanh(ref, o, c_next):
    return o * c_next


def hidden_state_tanh_outside(ref, o, c_next):
    return np.tanh(o * c_next)


def hidden_state_sigmoid(ref, o, c_next):
    return o * ref.activations.sigmoid(c_next)


# lstm_cell_forward

def c_prev_in_hidden_state(ref, x_t, h_prev, c_prev, params):
    f, i, c_tilde, o = _gates(ref, x_t, h_prev, params)
    c_next = ref.lstm.cell_state(c_prev, f, i, c_tilde)
    return ref.lstm.hidden_state(o, c_prev), c_next


def cell_returns_c_h(ref, x_t, h_prev, c_prev, params):
    h_next, c_next = ref.lstm.lstm_cell_forward(x_t, h_prev, c_prev, params)
    return c_next, h_next


def h_prev_as_c_prev(ref, x_t, h_prev, c_prev, params):
    f, i, c_tilde, o = _gates(ref, x_t, h_prev, params)
    c_next = ref.lstm.cell_state(h_prev, f, i, c_tilde)
    return ref.lstm.hidden_state(o, c_next), c_next


def f_and_i_swapped_in_call(ref, x_t, h_prev, c_prev, params):
    f, i, c_tilde, o = _gates(ref, x_t, h_prev, params)
    c_next = ref.lstm.cell_state(c_prev, i, f, c_tilde)
    return ref.lstm.hidden_state(o, c_next), c_next


# lstm_forward

def _buffers(h0, T):
    return np.zeros(h0.shape + (T,)), np.zeros(h0.shape + (T,))


def forward_c_from_h0(ref, x, h0, params):
    h, c = _buffers(h0, x.shape[2])
    h_t, c_t = h0, h0
    for t in range(x.shape[2]):
        h_t, c_t = ref.lstm.lstm_cell_forward(x[:, :, t], h_t, c_t, params)
        h[:, :, t], c[:, :, t] = h_t, c_t
    return h, c


def forward_returns_c_h(ref, x, h0, params):
    h, c = ref.lstm.lstm_forward(x, h0, params)
    return c, h


def forward_last_step_only(ref, x, h0, params):
    h_t, c_t = h0, np.zeros_like(h0)
    for t in range(x.shape[2]):
        h_t, c_t = ref.lstm.lstm_cell_forward(x[:, :, t], h_t, c_t, params)
    return h_t, c_t


def forward_h0_every_step(ref, x, h0, params):
    h, c = _buffers(h0, x.shape[2])
    for t in range(x.shape[2]):
        h[:, :, t], c[:, :, t] = ref.lstm.lstm_cell_forward(x[:, :, t], h0, np.zeros_like(h0), params)
    return h, c


def forward_cell_not_fed_back(ref, x, h0, params):
    h, c = _buffers(h0, x.shape[2])
    h_t, c0 = h0, np.zeros_like(h0)
    for t in range(x.shape[2]):
        h_t, c_t = ref.lstm.lstm_cell_forward(x[:, :, t], h_t, c0, params)
        h[:, :, t], c[:, :, t] = h_t, c_t
    return h, c


# added for the cell update and the hidden state: sums where products belong, a gate on the wrong term

def cell_state_input_gate_added(ref, c_prev, f, i, c_tilde):
    return f * c_prev + i + c_tilde


def cell_state_forget_gate_added(ref, c_prev, f, i, c_tilde):
    return f + c_prev + i * c_tilde


def cell_state_forget_gate_on_both_terms(ref, c_prev, f, i, c_tilde):
    return f * (c_prev + i * c_tilde)


def hidden_state_gate_added(ref, o, c_next):
    return o + np.tanh(c_next)


def o_as_candidate(ref, x_t, h_prev, c_prev, params):
    f, i, _, o = _gates(ref, x_t, h_prev, params)
    c_next = ref.lstm.cell_state(c_prev, f, i, o)
    return ref.lstm.hidden_state(o, c_next), c_next


def forward_h_and_c_one_buffer(ref, x, h0, params):
    _, c = ref.lstm.lstm_forward(x, h0, params)
    return c, c


# --- backward passes ---------------------------------------------------------------------------------------

def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def _cell_backward(ref, dh_next, dc_next, x_t, h_prev, c_prev, params, highway=True, gated=True,
                   through_tanh=True, gate_prime=None):
    """lstm_cell_backward with one step changed: ``highway`` False leaves dc_next out of dc, ``gated`` False
    passes dc back without the forget gate, ``through_tanh`` False drops tanh'(c_next) on the path from h,
    ``gate_prime(s)`` the derivative a sigmoid gate's output s is multiplied by."""
    n_h = h_prev.shape[0]
    concat = _stack(h_prev, x_t)
    f, i = _sig(_pre(params, "Wf", "bf", x_t, h_prev)), _sig(_pre(params, "Wi", "bi", x_t, h_prev))
    o, c_tilde = _sig(_pre(params, "Wo", "bo", x_t, h_prev)), np.tanh(_pre(params, "Wc", "bc", x_t, h_prev))
    tc = np.tanh(f * c_prev + i * c_tilde)
    prime = gate_prime or (lambda s: s * (1.0 - s))
    dc = (dc_next if highway else 0.0) + dh_next * o * ((1.0 - tc ** 2) if through_tanh else 1.0)
    pre = {"f": dc * c_prev * prime(f), "i": dc * c_tilde * prime(i), "c": dc * i * (1.0 - c_tilde ** 2),
           "o": dh_next * tc * prime(o)}
    grads, dconcat = {}, np.zeros(concat.shape)
    for gate, da in pre.items():
        grads["dW" + gate] = da @ concat.T
        grads["db" + gate] = np.sum(da, axis=1, keepdims=True)
        dconcat = dconcat + params["W" + gate].T @ da
    return {"dx_t": dconcat[n_h:], "dh_prev": dconcat[:n_h], "dc_prev": dc * f if gated else dc, **grads}


def backward_highway_cut(ref, dh_next, dc_next, x_t, h_prev, c_prev, params):
    return _cell_backward(ref, dh_next, dc_next, x_t, h_prev, c_prev, params, highway=False)


def backward_dc_prev_not_gated(ref, dh_next, dc_next, x_t, h_prev, c_prev, params):
    return _cell_backward(ref, dh_next, dc_next, x_t, h_prev, c_prev, params, gated=False)


def backward_no_tanh_prime_of_c(ref, dh_next, dc_next, x_t, h_prev, c_prev, params):
    return _cell_backward(ref, dh_next, dc_next, x_t, h_prev, c_prev, params, through_tanh=False)


def backward_gate_prime_as_tanh(ref, dh_next, dc_next, x_t, h_prev, c_prev, params):
    return _cell_backward(ref, dh_next, dc_next, x_t, h_prev, c_prev, params, gate_prime=lambda s: 1.0 - s ** 2)


def _through_time(ref, dh, x, h0, params, dh_on=True, dc_on=True):
    """lstm_backward with the gradient from later steps dropped on h (``dh_on`` False) or on c (``dc_on`` False)."""
    h, c = ref.lstm.lstm_forward(x, h0, params)
    zeros = np.zeros(h0.shape)
    dx = np.zeros(x.shape)
    grads = {"d" + key: np.zeros(params[key].shape) for key in ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo")}
    dh_carry, dc_carry = zeros, zeros
    for t in range(x.shape[2] - 1, -1, -1):
        h_prev, c_prev = (h0, zeros) if t == 0 else (h[:, :, t - 1], c[:, :, t - 1])
        step = ref.lstm.lstm_cell_backward(dh[:, :, t] + (dh_carry if dh_on else 0.0), dc_carry if dc_on else zeros,
                                           x[:, :, t], h_prev, c_prev, params)
        dx[:, :, t] = step["dx_t"]
        grads = {key: grads[key] + step[key] for key in grads}
        dh_carry, dc_carry = step["dh_prev"], step["dc_prev"]
    return {"dx": dx, "dh0": dh_carry, **grads}


def through_time_cell_gradient_dropped(ref, dh, x, h0, params):
    return _through_time(ref, dh, x, h0, params, dc_on=False)


def through_time_hidden_gradient_dropped(ref, dh, x, h0, params):
    return _through_time(ref, dh, x, h0, params, dh_on=False)
