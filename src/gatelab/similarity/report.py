"""A comparison written out: ``similarity.csv`` (every flagged pair, and who is close to the reference) and
the page section (``similarity.j2``: the summary's, and ``similarity.html`` of ``grade similarity``).

The words are neutral on purpose: a score is how much two submissions share beyond what is expected,
evidence for a person to read, never a finding of misconduct.
"""
from __future__ import annotations

import csv
import io

from gatelab.report.classbook import cell
from gatelab.report.render import Renderer
from gatelab.similarity.compare import Comparison

COLUMNS = ("kind", "first", "second", "score", "code", "mistakes", "first_share", "second_share",
           "shared_fingerprints", "shared_mistakes")


def csv_text(comparison: Comparison) -> str:
    """similarity.csv: a row per flagged pair (highest score first), then one per submission close to the
    reference (its score: the share of its code that is the reference's)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for pair in comparison.pairs:
        mistakes = "; ".join(f"{s.outcome} ({s.held_by} in the class)" for s in pair.shared)
        writer.writerow([cell("pair"), cell(pair.first), cell(pair.second), _number(pair.score),
                         _number(pair.code), _number(pair.mistakes), _number(pair.first_share),
                         _number(pair.second_share), pair.shared_prints, cell(mistakes)])
    for close in comparison.close:
        writer.writerow([cell("close to the reference"), cell(close.student), cell("reference"),
                         _number(close.share), "", "", "", "", "", ""])
    return out.getvalue()


def _number(value: float) -> str:
    return f"{value:.3f}"


def page(comparison: Comparison, title: str, renderer: Renderer) -> str:
    """similarity.html: the section alone, as a page (``grade similarity``)."""
    return renderer.render("similarity.html.j2", title=title, similarity=comparison)
