"""MkDocs hook: a snippet include must sit inside a fenced code block.

Lessons show code by including it from the tested source (`pymdownx.snippets`):

    ```python title="dynamo/paxos/lease.py"
    --8<-- "dynamo/paxos/lease.py:grantor"
    ```

An include written without the fence still builds, but the code is pasted into the
page as Markdown: its lines run together into paragraphs, `#` comments turn into
headings, and nothing warns. (Chapter 03's lesson shipped like that.) This hook warns
on every include line outside a fenced block, so `mkdocs build --strict` fails and
names the page and the line. It runs before snippets are expanded, on the page's own
Markdown; an include written as inline code (`` `--8<-- "..."` ``) is text, not an
include, and is left alone.
"""

from __future__ import annotations

import logging
import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.snippet_fences")

FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})")
# pymdownx.snippets' block syntax: --8<-- "file[:section]", or a bare --8<-- opening a list.
INCLUDE = re.compile(r"^[ \t]*-+8<-+[ \t]*(?:(?:\"[^\"]*\"|'[^']*')[ \t]*)?$")


def unfenced_includes(markdown: str) -> list[tuple[int, str]]:
    """(line number, line) of every snippet include that is not inside a fenced block."""
    found: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(markdown.splitlines(), start=1):
        match = FENCE.match(line)
        if fence is None:
            if match is not None:
                fence = match["fence"]
            elif INCLUDE.match(line):
                found.append((number, line.strip()))
        elif match is not None and _closes(fence, match["fence"], line):
            fence = None
    return found


def _closes(opened: str, candidate: str, line: str) -> bool:
    """A closing fence: the same character, at least as long, and nothing after it."""
    return candidate[0] == opened[0] and len(candidate) >= len(opened) and line.strip() == candidate


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    for number, line in unfenced_includes(markdown):
        log.warning(
            "%s:%d includes a snippet outside a fenced code block (%s): the code would render as "
            "paragraphs; put it between ```python and ```",
            page.file.src_uri,
            number,
            line,
        )
    return markdown
