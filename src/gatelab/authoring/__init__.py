"""Authoring: what an instructor makes from the course's data by running grading on it (the exercises'
stubs, the locked bank, the student notebook, the release and its bundles, the audit). It sits above
grading; ``gatelab.course`` (the data model) sits below it."""
