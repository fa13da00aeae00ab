"""Similarity across a class: which pairs of submissions are more alike than independent work would be.

Evidence for a person to read, never a verdict: nothing here touches a grade. Two signals, each weighted by
how rare it is in the class:

- **code** (``tokens``, ``prints``): each submission's source as tokens normalised for names, comments,
  layout and function order; fingerprints of its token k-grams chosen by winnowing; the released stubs and
  the reference as boilerplate (shared starter code and the canonical lines count for nothing);
- **outcomes** (``outcomes``): the same uncommon mistake, as grading named it (a catalog id) or as the
  function's own wrong values (their digest, ``grading.likeness``).

``compare`` indexes the fingerprints (an inverted index: only pairs that share something are ever looked
at), scores the pairs and finds who is close to the reference; ``evidence`` lines up a pair's matching
regions; ``report`` writes similarity.csv and the summary's section.
"""
