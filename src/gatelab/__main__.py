"""``python -m gatelab`` is the ``grade`` command (a check goes to the check server when one answers)."""
from gatelab.server import command

command()
