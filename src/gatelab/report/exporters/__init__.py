"""Results -> a format: one module per format, none of them known to the Results model."""
