"""Wrong attention formulas students write: each returns what the mistaken code returns."""
import numpy as np


def scores_unscaled(ref, Q, K):
    return Q @ np.swapaxes(K, -1, -2)


def scores_scaled_by_d_k(ref, Q, K):
    return Q @ np.swapaxes(K, -1, -2) / Q.shape[-1]


def _softmax(scores, axis):
    shifted = scores - np.max(scores, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def softmax_ignores_mask(ref, scores, mask):
    return _softmax(scores, -1)


def softmax_masks_by_multiplying(ref, scores, mask):
    # scores * mask: a masked key gets score 0, not -inf, so it still gets weight.
    return _softmax(scores * mask, -1)


def softmax_over_queries(ref, scores, mask):
    return ref.attention.masked_softmax(np.swapaxes(scores, -1, -2), np.swapaxes(mask, -1, -2)).swapaxes(-1, -2)


def attention_forgets_mask(ref, Q, K, V, mask):
    weights = ref.attention.masked_softmax(ref.attention.attention_scores(Q, K), np.ones_like(mask))
    return weights @ V, weights


def head_query_weights_for_keys(ref, x_q, x_kv, params, mask):
    # Wq copied where Wk belongs.
    Q = x_q @ params["Wq"]
    K = x_kv @ params["Wq"]
    V = x_kv @ params["Wv"]
    return ref.attention.scaled_dot_product_attention(Q, K, V, mask)[0]


def head_returns_weights_too(ref, x_q, x_kv, params, mask):
    Q = x_q @ params["Wq"]
    K = x_kv @ params["Wk"]
    V = x_kv @ params["Wv"]
    return ref.attention.scaled_dot_product_attention(Q, K, V, mask)
