"""Every `dynamo` command is documented on docs/cli.md (sqlite-utils' rule).

The page has a `## dynamo NAME` section for each subcommand the parser really has,
and a `<!-- dynamo-help: NAME -->` marker that the docs build replaces by the
command's generated usage; commands of commands (`dynamo course grade`) are named
in their section's prose. A command the page documents must exist.
"""

from __future__ import annotations

import argparse
import re

from dynamo.cli.main import build_parser
from dynamo.course import course_root

PAGE = (course_root() / "docs" / "cli.md").read_text(encoding="utf-8")
SECTION = re.compile(r"^## dynamo (?P<name>[a-z0-9-]+)\n(?P<body>.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


def sections() -> dict[str, str]:
    return {match["name"]: match["body"] for match in SECTION.finditer(PAGE)}


def test_every_subcommand_has_a_section_with_its_generated_usage():
    documented = sections()
    for name, parser in subcommands(build_parser()).items():
        assert name in documented, f"docs/cli.md has no '## dynamo {name}' section"
        body = documented[name]
        assert f"<!-- dynamo-help: {name} -->" in body, f"the {name} section lacks its usage marker"
        for child in subcommands(parser):
            assert f"`{child}`" in body, f"the {name} section does not mention `{child}`"


def test_the_page_documents_only_commands_that_exist():
    commands = set(subcommands(build_parser()))
    assert set(sections()) <= commands, f"documented but missing: {set(sections()) - commands}"

