"""Wrong clipping and gradient-flow formulas students write: each returns what the mistaken code returns."""
import numpy as np


def _global_norm(grads):
    return float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))


def _states(ref, x, h0, params):
    """h<0> = h0, then the RNN state after each step."""
    states = [h0]
    for t in range(x.shape[2]):
        states.append(ref.rnn.rnn_cell_forward(x[:, :, t], states[-1], params))
    return states


# clip_by_value

def clip_in_place(ref, grads, max_value):
    return {name: np.clip(g, -max_value, max_value, out=g) for name, g in grads.items()}


def clip_upper_only(ref, grads, max_value):
    return {name: np.minimum(g, max_value) for name, g in grads.items()}


def clip_from_zero(ref, grads, max_value):
    return {name: np.clip(g, 0, max_value) for name, g in grads.items()}


def clip_value_by_array_norm(ref, grads, max_value):
    clipped = {}
    for name, g in grads.items():
        norm = np.linalg.norm(g)
        clipped[name] = g * (max_value / norm) if norm > max_value else g.copy()
    return clipped


# clip_by_global_norm

def per_array_norm(ref, grads, max_norm):
    clipped = {}
    for name, g in grads.items():
        norm = np.sqrt(np.sum(g ** 2))
        clipped[name] = g * (max_norm / norm) if norm > max_norm else g.copy()
    return clipped, _global_norm(grads)


def norm_without_sqrt(ref, grads, max_norm):
    total = float(sum(np.sum(g ** 2) for g in grads.values()))
    scale = max_norm / total if total > max_norm else 1.0
    return {name: g * scale for name, g in grads.items()}, total


def scale_always(ref, grads, max_norm):
    global_norm = _global_norm(grads)
    return {name: g * (max_norm / global_norm) for name, g in grads.items()}, global_norm


def sum_of_array_norms(ref, grads, max_norm):
    total = float(sum(np.linalg.norm(g) for g in grads.values()))
    scale = max_norm / total if total > max_norm else 1.0
    return {name: g * scale for name, g in grads.items()}, total


def norm_after_clipping(ref, grads, max_norm):
    clipped, _ = ref.gradients.clip_by_global_norm(grads, max_norm)
    return clipped, _global_norm(clipped)


def scale_in_place(ref, grads, max_norm):
    global_norm = _global_norm(grads)
    scale = max_norm / global_norm if global_norm > max_norm else 1.0
    for g in grads.values():
        g *= scale
    return grads, global_norm


# rnn_step_jacobian

def jacobian_no_tanh_derivative(ref, h_next, params):
    return params["Wh"][:, :h_next.shape[0]].copy()


def jacobian_tanh_of_state(ref, h_next, params):
    # 1 - tanh(h)**2 on h, which is already tanh's output.
    return (1.0 - np.tanh(h_next) ** 2) * params["Wh"][:, :h_next.shape[0]]


def jacobian_transposed(ref, h_next, params):
    return ((1.0 - h_next ** 2) * params["Wh"][:, :h_next.shape[0]]).T


def jacobian_diag_on_right(ref, h_next, params):
    # Wh[:, :n_h] @ diag(1 - h**2): scales columns instead of rows.
    return params["Wh"][:, :h_next.shape[0]] * (1.0 - h_next ** 2).T


def jacobian_last_columns(ref, h_next, params):
    # the columns of Wh that act on h_prev if x were stacked on top
    return (1.0 - h_next ** 2) * params["Wh"][:, -h_next.shape[0]:]


# gradient_norms_through_time

def norms_reversed(ref, x, h0, params):
    return ref.gradients.gradient_norms_through_time(x, h0, params)[::-1].copy()


def product_wrong_order(ref, x, h0, params):
    states = _states(ref, x, h0, params)
    T = x.shape[2]
    norms, product = np.zeros(T), np.eye(h0.shape[0])
    for k in range(T - 1, -1, -1):
        product = ref.gradients.rnn_step_jacobian(states[k + 1], params) @ product
        norms[k] = np.linalg.norm(product)
    return norms


def jacobian_at_state_before(ref, x, h0, params):
    states = _states(ref, x, h0, params)
    T = x.shape[2]
    norms, product = np.zeros(T), np.eye(h0.shape[0])
    for k in range(T - 1, -1, -1):
        product = product @ ref.gradients.rnn_step_jacobian(states[k], params)
        norms[k] = np.linalg.norm(product)
    return norms


def step_norms_not_chained(ref, x, h0, params):
    states = _states(ref, x, h0, params)
    T = x.shape[2]
    return np.array([np.linalg.norm(ref.gradients.rnn_step_jacobian(states[k + 1], params)) for k in range(T)])


def spectral_norm(ref, x, h0, params):
    states = _states(ref, x, h0, params)
    T = x.shape[2]
    norms, product = np.zeros(T), np.eye(h0.shape[0])
    for k in range(T - 1, -1, -1):
        product = product @ ref.gradients.rnn_step_jacobian(states[k + 1], params)
        norms[k] = np.linalg.norm(product, 2)
    return norms


def ratio_inverted(ref, grads, max_norm):
    global_norm = _global_norm(grads)
    scale = global_norm / max_norm if global_norm > max_norm else 1.0
    return {name: g * scale for name, g in grads.items()}, global_norm


def jacobian_all_columns(ref, h_next, params):
    return (1.0 - h_next ** 2) * params["Wh"]


# --- gradient flow and descent ------------------------------------------------------------------------------

def state_norms_one_step_late(ref, cell, x, h0, params):
    """Entry k holds the norm of dL/dh<k+1>: the norm stored before the step back, not after it."""
    right = ref.gradients.state_gradient_norms(cell, x, h0, params)
    return np.concatenate([right[1:], [np.sqrt(h0.shape[0])]])


def state_norms_reversed(ref, cell, x, h0, params):
    return ref.gradients.state_gradient_norms(cell, x, h0, params)[::-1].copy()


def cell_norms_one_step_late(ref, x, h0, params):
    """Entry k holds the norm of dL/dc<k+1>; dL/dc<T> is dh<T> * o * (1 - tanh(c<T>)**2)."""
    right = ref.gradients.cell_gradient_norms(x, h0, params)
    h, c = ref.lstm.lstm_forward(x, h0, params)
    T = x.shape[2]
    o = ref.lstm.output_gate(x[:, :, T - 1], h0 if T == 1 else h[:, :, T - 2], params)
    last = np.linalg.norm(o * (1.0 - np.tanh(c[:, :, T - 1]) ** 2))
    return np.concatenate([right[1:], [last]])


def sgd_unclipped(ref, params, grads, lr, max_norm):
    return {name: value - lr * grads["d" + name] for name, value in params.items()}


def sgd_ascent(ref, params, grads, lr, max_norm):
    clipped, _ = ref.gradients.clip_by_global_norm(grads, max_norm)
    return {name: value + lr * clipped["d" + name] for name, value in params.items()}
