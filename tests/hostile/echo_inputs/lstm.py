import numpy as np

def forget_gate(x_t, h_prev, params):
    return h_prev


def input_gate(x_t, h_prev, params):
    return h_prev


def candidate_cell(x_t, h_prev, params):
    return h_prev


def output_gate(x_t, h_prev, params):
    return h_prev


def cell_state(c_prev, f, i, c_tilde):
    return c_prev


def hidden_state(o, c_next):
    return c_next


def lstm_cell_forward(x_t, h_prev, c_prev, params):
    return h_prev, c_prev


def lstm_forward(x, h0, params):
    return x, x
