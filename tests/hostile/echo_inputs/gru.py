import numpy as np

def update_gate(x_t, h_prev, params):
    return h_prev


def reset_gate(x_t, h_prev, params):
    return h_prev


def gru_cell_forward(x_t, h_prev, params):
    return h_prev


def candidate_hidden(x_t, h_prev, r, params):
    return h_prev


def hidden_state(h_prev, z, h_tilde):
    return h_prev


def gru_forward(x, h0, params):
    return x
