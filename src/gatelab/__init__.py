"""gatelab: an exercise engine and autograder for numpy assignments, with feedback that names the mistake."""

__version__ = "0.1.0"
