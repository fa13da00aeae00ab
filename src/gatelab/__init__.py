"""gatelab: learn and grade recurrent networks (RNN, LSTM, GRU) with feedback that names the mistake."""

__version__ = "0.1.0"
