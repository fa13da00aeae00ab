"""Authoring: the assignment as data (config, contract, catalog) and what is made from it (stubs, generate, audit)."""
