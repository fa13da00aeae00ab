"""Concept questions: the bank, per-student variants, marking, the locked copy, answers.yaml and `grade quiz`."""
