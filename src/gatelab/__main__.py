"""The ``grade`` console script, and ``python -m gatelab``: a check goes to the check server when one answers
(``gatelab.server``, the standard library only), else the command line (``gatelab.cli``) runs here."""
from __future__ import annotations

import sys
from typing import Callable

from gatelab import server


def command() -> None:
    """The ``grade`` console script (and ``python -m gatelab``)."""

    def run_cli() -> None:
        from gatelab.cli import main as cli

        cli(prog_name="grade")

    try:
        launch(run_cli)
    except KeyboardInterrupt:  # Ctrl-C before click took over (while importing): no traceback
        sys.stderr.write("\nAborted!\n")
        sys.exit(130)


def launch(run_cli: Callable[[], None]) -> None:
    """The ``grade`` command: a check goes to the server when one answers; else it runs here (and leaves a
    server for the next check, when wanted)."""
    argv = sys.argv[1:]
    if server.eligible(argv):
        code = server.ask(argv)
        if code is not None:
            sys.exit(code)
    try:
        run_cli()
    finally:
        server.start_later(argv)


if __name__ == "__main__":
    command()
