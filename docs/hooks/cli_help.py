"""MkDocs hook: the command reference (docs/reference/cli.md) is click's own `--help`, generated at build time.

Where a page holds the line `<!-- cli-help -->`, it is replaced by one section per command of
`gatelab.cli:main` (subcommands of a group too), each holding exactly what `grade COMMAND --help` prints,
as a code block: nothing in a docstring is read as Markdown or HTML, and the page cannot fall behind the code.
"""
from __future__ import annotations

import re
from typing import Any

import click

MARKER = "<!-- cli-help -->"
WIDTH = 100


def _sections(command: click.Command, name: str, parent: click.Context | None) -> list[str]:
    settings = {**command.context_settings, "terminal_width": WIDTH, "max_content_width": WIDTH}
    context = click.Context(command, info_name=name, parent=parent, **settings)  # -h too, as the CLI has it
    help_text = command.get_help(context)
    fence = "`" * max(3, 1 + max(map(len, re.findall("`+", help_text)), default=0))  # longer than any run inside
    sections = [f"## {context.command_path}\n\n{fence}text\n{help_text}\n{fence}\n"]
    if isinstance(command, click.Group):
        for sub in command.list_commands(context):
            sections += _sections(command.get_command(context, sub), sub, context)
    return sections


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKER not in markdown:
        return markdown
    from gatelab.cli import main

    return markdown.replace(MARKER, "\n".join(_sections(main, "grade", None)))
