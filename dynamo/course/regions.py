"""Assignment regions: the marked parts of the reference code a student writes.

One source serves as reference and starter code. A region is a whole function body
(or whole statements) between two comment lines:

    def recover_tail(segment: Segment) -> int:
        \"\"\"The docstring stays in the handout.\"\"\"
        # BEGIN ASSIGNMENT ch02-recovery: truncate a torn tail, refuse on corruption before it
        ...reference code...
        # END ASSIGNMENT

A handout replaces everything from BEGIN to END, both lines included, by one line at
the BEGIN line's indentation,

        raise NotImplementedError("ch02-recovery: truncate a torn tail, refuse on corruption before it")

so the student's copy still imports and every use of the region fails with a message
saying which assignment to write. Regions do not nest. Markers are found among the
file's comment tokens only, so a docstring that shows a marker (like this one) is not
a region.
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from collections.abc import Collection, Mapping
from dataclasses import dataclass

BEGIN = re.compile(
    r"^(?P<indent>[ \t]*)# BEGIN ASSIGNMENT (?P<id>[A-Za-z0-9_.-]+)(?::[ \t]*(?P<hint>.*?))?[ \t]*$"
)
END = re.compile(r"^[ \t]*# END ASSIGNMENT[ \t]*$")
MARKER = "# BEGIN ASSIGNMENT"


class RegionError(ValueError):
    """Assignment markers that do not pair up, or a region whose stub would not parse."""


@dataclass(frozen=True)
class Region:
    """One BEGIN/END ASSIGNMENT region in a source file (line numbers count from 1)."""

    path: str
    id: str
    hint: str
    indent: str
    begin: int
    end: int

    def stub(self, default_hint: str = "") -> str:
        """The line that replaces the region in a handout."""
        hint = self.hint or default_hint or "implement this part of the layer"
        message = json.dumps(f"{self.id}: {hint}", ensure_ascii=False)
        return f"{self.indent}raise NotImplementedError({message})"


def find_regions(text: str, path: str = "<text>") -> list[Region]:
    """Every region in `text`, checking that markers pair up and do not nest."""
    regions: list[Region] = []
    open_at: tuple[int, re.Match[str]] | None = None
    for number, line in _comment_lines(text, path):
        begin = BEGIN.match(line)
        if begin is not None:
            if open_at is not None:
                raise RegionError(f"{path}:{number}: BEGIN ASSIGNMENT inside the region opened at line {open_at[0]}")
            open_at = (number, begin)
        elif END.match(line) is not None:
            if open_at is None:
                raise RegionError(f"{path}:{number}: END ASSIGNMENT without a BEGIN ASSIGNMENT")
            regions.append(_region(path, open_at, number))
            open_at = None
        elif line.lstrip().startswith(MARKER):
            raise RegionError(f"{path}:{number}: malformed marker {line.strip()!r}")
    if open_at is not None:
        raise RegionError(f"{path}:{open_at[0]}: BEGIN ASSIGNMENT {open_at[1]['id']} has no END ASSIGNMENT")
    return regions


def _comment_lines(text: str, path: str) -> list[tuple[int, str]]:
    """(line number, line) of every line that holds nothing but a comment."""
    if "ASSIGNMENT" not in text:
        return []  # most files: skip tokenizing them
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as error:
        raise RegionError(f"{path}: cannot tokenize ({error})") from error
    return [
        (token.start[0], token.line.rstrip("\r\n"))
        for token in tokens
        if token.type == tokenize.COMMENT and not token.line[: token.start[1]].strip()
    ]


def _region(path: str, open_at: tuple[int, re.Match[str]], end: int) -> Region:
    begin, match = open_at
    return Region(
        path=path,
        id=match["id"],
        hint=(match["hint"] or "").strip(),
        indent=match["indent"],
        begin=begin,
        end=end,
    )


def replace_regions(
    text: str,
    ids: Collection[str],
    path: str = "<text>",
    default_hints: Mapping[str, str] | None = None,
) -> tuple[str, list[Region]]:
    """`text` with the regions whose id is in `ids` replaced by stubs, and those regions.

    Regions of other ids stay as they are. The result must still parse as Python:
    a region that is not a whole body or whole statements is reported, not handed out.
    """
    hints = default_hints or {}
    replaced = [region for region in find_regions(text, path) if region.id in ids]
    if not replaced:
        return text, []
    lines = text.splitlines(keepends=True)
    # Work from the bottom up so earlier line numbers stay valid.
    for region in reversed(replaced):
        lines[region.begin - 1 : region.end] = [region.stub(hints.get(region.id, "")) + "\n"]
    result = "".join(lines)
    if path.endswith(".py"):
        _check_parses(result, path, replaced)
    return result, replaced


def _check_parses(text: str, path: str, regions: list[Region]) -> None:
    try:
        compile(text, path, "exec", dont_inherit=True)
    except SyntaxError as error:
        where = ", ".join(f"line {region.begin}" for region in regions)
        raise RegionError(
            f"{path}: the handout would not parse after replacing the regions at {where} "
            f"({error.msg}, line {error.lineno}); a region must be a whole function body "
            "or whole statements"
        ) from error
