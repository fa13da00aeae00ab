"""``python -m gatelab`` is the ``grade`` command."""
from gatelab.cli import main

main(prog_name="grade")
