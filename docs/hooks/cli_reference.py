"""MkDocs hook: the `dynamo` command reference, generated from its argparse parsers.

Like sqlite-utils' cog-generated CLI reference, the usage text on docs/cli.md is never
typed by hand: each line `<!-- dynamo-help: NAME -->` is replaced by the `--help` of
`dynamo NAME` and of each of its own subcommands. Two kinds of drift are warnings, so
`mkdocs build --strict` fails on them: a marker for a command that does not exist, and
a command that has no marker (an undocumented command).
"""

from __future__ import annotations

import argparse
import logging
import os
import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from dynamo.cli.main import build_parser

log = logging.getLogger("mkdocs.hooks.cli_reference")

PAGE = "cli.md"
MARKER = re.compile(r"^<!-- dynamo-help: (?P<name>[a-z0-9-]+) -->$", re.MULTILINE)
WIDTH = "88"  # fixed, so the page does not depend on the terminal that built it


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    commands = subcommands(build_parser())
    documented = {match["name"] for match in MARKER.finditer(markdown)}
    for name in sorted(set(commands) - documented):
        log.warning("%s does not document `dynamo %s` (add '<!-- dynamo-help: %s -->')", PAGE, name, name)

    def render(match: re.Match[str]) -> str:
        parser = commands.get(match["name"])
        if parser is None:
            log.warning("%s documents `dynamo %s`, which does not exist", PAGE, match["name"])
            return ""
        return "\n\n".join(_help_block(sub) for sub in _with_children(parser))

    return MARKER.sub(render, markdown)


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parsers of a parser's subcommands, by name (aliases left out)."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            seen: set[int] = set()
            for name, sub in action.choices.items():
                if id(sub) not in seen:
                    seen.add(id(sub))
                    found[name] = sub
    return found


def _with_children(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    return [parser, *(child for sub in subcommands(parser).values() for child in _with_children(sub))]


def _help_block(parser: argparse.ArgumentParser) -> str:
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        text = parser.format_help().rstrip()
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous
    return f"```text\n$ {parser.prog} --help\n{text}\n```"
