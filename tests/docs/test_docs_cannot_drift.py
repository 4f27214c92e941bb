"""Docs that cannot drift: citations, snippet includes and the grade command, checked.

- Each chapter's `paper` sections (chapter.toml, shown on its overview page) and the
  sections its lesson cites are the same: every listed section is cited, and every
  citation is listed or falls under a listed section (§4.1 under §4).
- The layers page lists, for each chapter, exactly its chapter.toml sections.
- No page includes a snippet outside a fenced code block (the MkDocs hook
  `docs/hooks/snippet_fences.py` fails the build on it; this runs the same check on
  every page without building, and checks the check).
- Every assignment page shows the one grade command, `dynamo course grade NN`, run in
  the handout.
"""

from __future__ import annotations

import importlib.util
import re

import pytest

from dynamo.course import course_root, load_chapters

ROOT = course_root()
CHAPTERS = load_chapters(ROOT)
SECTION = re.compile(r"§(\d+(?:\.\d+)*)")


def _hook(name: str):
    spec = importlib.util.spec_from_file_location(f"hook_{name}", ROOT / "docs" / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


snippet_fences = _hook("snippet_fences")


def _sections(text: str) -> set[str]:
    return set(SECTION.findall(text))


def _under(section: str, listed: set[str]) -> bool:
    """§4.1 falls under §4 (and §4.1 under itself)."""
    return any(section == top or section.startswith(top + ".") for top in listed)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.name)
def test_a_chapters_paper_sections_and_its_lesson_cite_the_same_sections(chapter):
    listed = {section.removeprefix("§") for section in chapter.paper}
    cited = _sections(chapter.lesson.read_text(encoding="utf-8"))
    never_cited = {top for top in listed if not any(_under(section, {top}) for section in cited)}
    unlisted = {section for section in cited if not _under(section, listed)}
    assert not never_cited, f"{chapter.name}: chapter.toml lists {sorted(never_cited)}, the lesson never cites them"
    assert not unlisted, f"{chapter.name}: the lesson cites {sorted(unlisted)}, chapter.toml `paper` does not list them"
    assert not any(SECTION.search(reading) for reading in chapter.readings), (
        f"{chapter.name}: cite paper sections in `paper`, not in `readings`"
    )


def test_the_layers_page_lists_each_chapters_paper_sections():
    page = (ROOT / "docs" / "layers.md").read_text(encoding="utf-8")
    for chapter in CHAPTERS:
        row = next(line for line in page.splitlines() if f"(chapters/{chapter.name}/index.md)" in line)
        assert row.rstrip(" |").endswith(", ".join(chapter.paper)), (
            f"docs/layers.md cites other sections than chapters/{chapter.name}/chapter.toml "
            f"({', '.join(chapter.paper)}):\n{row}"
        )


def test_no_page_includes_a_snippet_outside_a_fenced_block():
    pages = [*sorted((ROOT / "docs").glob("*.md")), *(page for c in CHAPTERS for page in (c.lesson, c.statement))]
    found = {
        page.relative_to(ROOT).as_posix(): snippet_fences.unfenced_includes(page.read_text(encoding="utf-8"))
        for page in pages
    }
    assert len(pages) > 10
    assert not {page: lines for page, lines in found.items() if lines}


def test_the_fence_check_finds_exactly_the_includes_outside_fences():
    markdown = "\n".join(
        [
            "```python",  # 1
            '--8<-- "dynamo/a.py:x"',  # 2: fenced
            "```",  # 3
            '--8<-- "dynamo/b.py:y"',  # 4: NOT fenced
            "`--8<-- \"inline.py\"` is text",  # 5: inline code, not an include
            "````markdown",  # 6: a longer fence ...
            "```",  # 7: ... is not closed by a shorter one
            '--8<-- "dynamo/c.py"',  # 8: fenced
            "````",  # 9
            "~~~ python",  # 10
            '  --8<-- "dynamo/d.py"',  # 11: fenced by tildes
            "~~~",  # 12
            "--8<--",  # 13: a bare block include, NOT fenced
            ';--8<-- "escaped.py"',  # 14: escaped, not an include
        ]
    )
    assert snippet_fences.unfenced_includes(markdown) == [(4, '--8<-- "dynamo/b.py:y"'), (13, "--8<--")]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.name)
def test_every_assignment_shows_the_one_grade_command(chapter):
    text = chapter.statement.read_text(encoding="utf-8")
    command = f"dynamo course grade {chapter.number:02d}"
    assert f"```console\n$ {command}\n```" in text, f"{chapter.name}/assignment.md must show `$ {command}`"
    for line in text.splitlines():
        if "course grade" in line:
            assert command in line and "--repo" not in line, f"{chapter.name}/assignment.md: {line}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.name)
def test_every_assignment_lists_its_graded_tests_and_points(chapter):
    """The statement's table has a row per graded test with its points, and the total on top."""
    text = chapter.statement.read_text(encoding="utf-8")
    graded = text[text.index("## How it is graded") :]
    rows = [line for line in graded.splitlines() if re.fullmatch(r"\|.*\|\s*\d+\s*\|", line.strip())]
    points = [int(row.strip().rstrip("|").rsplit("|", 1)[1]) for row in rows]
    assert points == [test.points for test in chapter.graded], (
        f"{chapter.name}/assignment.md lists {len(rows)} graded tests with points {points}; chapter.toml "
        f"has {[test.points for test in chapter.graded]} ({', '.join(test.test for test in chapter.graded)})"
    )
    assert f"**Points:** {chapter.total_points} " in text, f"{chapter.name}/assignment.md: Points: {chapter.total_points}"
