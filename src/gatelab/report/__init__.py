"""What grading produced, and how it is shown: the results model, the one renderer, the exporters."""
