"""The whole assignment as archive entries, for every place that carries it elsewhere (a release's bundles,
a Dask cluster's workers): grader/, solutions/ and exercises/ side by side, its config pointing at them and
recording the title and checksum it has here, so it grades the same wherever it is unpacked."""
from __future__ import annotations

import yaml

from gatelab.archive import folder_entries
from gatelab.course.config import CONFIG_NAME, Assignment


def assignment_entries(assignment: Assignment, prefix: str = "") -> dict[str, bytes]:
    """Every file of ``assignment`` under ``prefix`` (``grader/``, ``solutions/``, ``exercises/``), its config
    rewritten to point at the folders beside it, with the title and checksum it has here."""
    entries = folder_entries(assignment.grader, prefix + "grader/")
    entries.update(folder_entries(assignment.solutions, prefix + "solutions/"))
    entries.update(folder_entries(assignment.exercises, prefix + "exercises/"))
    data = yaml.safe_load((assignment.root / CONFIG_NAME).read_text(encoding="utf-8"))
    data.update(title=assignment.title, solutions="../solutions", exercises="../exercises",
                checksum=assignment.checksum)
    entries[prefix + "grader/config.yaml"] = yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()
    return entries
