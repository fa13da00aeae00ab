"""Scaled dot-product attention and one attention head, for a batch of sequences.

Conventions: arrays are (m, T, d): m examples, T positions, d features. Queries have
T_q positions, keys and values T_k. A mask (m, T_q, T_k) holds 1.0 where a query may
attend to a key and 0.0 where it may not. numpy, float64; no function changes its inputs.
"""
import numpy as np


def attention_scores(Q, K):
    """How well each query matches each key: scores = Q K^T / sqrt(d_k).

    Shapes: Q (m, T_q, d_k), K (m, T_k, d_k). Returns scores (m, T_q, T_k).
    """
    # TODO: Q @ K with its last two axes swapped, divided by sqrt(d_k)
    raise NotImplementedError('Q @ K with its last two axes swapped, divided by sqrt(d_k)')


def masked_softmax(scores, mask):
    """Softmax over the keys (the last axis), where a masked key (mask == 0) gets weight 0.

    Shapes: scores and mask (m, T_q, T_k). Returns weights (m, T_q, T_k): each row sums
    to 1 over its unmasked keys (a row whose keys are all masked is all zeros). Must not
    warn for scores of +-1000.
    """
    # TODO: leave masked keys out, subtract each row's largest kept score, then exp and normalise
    raise NotImplementedError("leave masked keys out, subtract each row's largest kept score, then exp and normalise")


def scaled_dot_product_attention(Q, K, V, mask):
    """Each query's mix of the values: weights = masked_softmax(attention_scores(Q, K), mask), output = weights V.

    Shapes: Q (m, T_q, d_k), K (m, T_k, d_k), V (m, T_k, d_v), mask (m, T_q, T_k).
    Returns (output, weights): output (m, T_q, d_v), weights (m, T_q, T_k).
    """
    # TODO: scores, then weights from masked_softmax, then weights @ V; return both
    raise NotImplementedError('scores, then weights from masked_softmax, then weights @ V; return both')


def attention_head(x_q, x_kv, params, mask):
    """One attention head: Q = x_q Wq, K = x_kv Wk, V = x_kv Wv, then scaled dot-product attention.

    Shapes: x_q (m, T_q, d_model), x_kv (m, T_k, d_model), params["Wq"] and params["Wk"]
    (d_model, d_k), params["Wv"] (d_model, d_v), mask (m, T_q, T_k). Returns output (m, T_q, d_v).
    """
    # TODO: three projections, then scaled_dot_product_attention; return its output only
    raise NotImplementedError('three projections, then scaled_dot_product_attention; return its output only')
