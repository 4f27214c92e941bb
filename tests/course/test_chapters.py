"""Every chapter folder is complete: its pages, its demo, its assignment regions, its tests.

Chapters are data (chapters/NN-slug/chapter.toml); these tests hold each one to the
format every chapter author follows, so the site, the handout and the grader can
rely on it. A new chapter folder is checked without touching this file.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest
from mkdocs.config import load_config

from dynamo.course import course_root, find_chapter, find_regions, load_chapters
from dynamo.course.chapters import ChapterError, load_chapter

ROOT = course_root()
CHAPTERS = load_chapters(ROOT)
SNIPPET = re.compile(r'^-{2}8<-{2} "(?P<path>[^":]+)(?::[^"]*)?"', re.MULTILINE)


def _regions_in_source() -> dict[str, list[str]]:
    """Region id -> ["path:line", ...] for every assignment region under dynamo/."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "dynamo").rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        for region in find_regions(path.read_text(encoding="utf-8"), relative):
            found.setdefault(region.id, []).append(f"{relative}:{region.begin}")
    return found


REGIONS = _regions_in_source()


def test_the_course_has_its_first_chapter():
    assert [chapter.name for chapter in CHAPTERS][:1] == ["01-storage"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.name)
def test_a_chapter_has_its_lesson_and_assignment_pages(chapter):
    for page in (chapter.lesson, chapter.statement):
        assert page.is_file(), f"{chapter.name} needs {page.name}"
        first = page.read_text(encoding="utf-8").lstrip().splitlines()[0]
        assert first.startswith("# "), f"{page} must open with a '# ' title"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.name)
def test_a_lesson_includes_its_code_from_the_tested_source(chapter):
    """Code in lessons comes from the files the tests run (pymdownx.snippets), never pasted."""
    paths = [match["path"] for match in SNIPPET.finditer(chapter.lesson.read_text(encoding="utf-8"))]
    assert paths, f"{chapter.lesson} includes no code with --8<-- \"dynamo/...\""
    for path in paths:
        assert (ROOT / path).is_file(), f"{chapter.lesson} includes {path}, which does not exist"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.name)
def test_a_chapter_demo_runs_its_layer_alone(chapter):
    command = chapter.demo.split()
    assert command[:2] == ["python", "-m"], f"{chapter.name}: demo should be `python -m <layer>`"
    module = command[2]
    assert module == chapter.layer or module.startswith(chapter.layer + "."), chapter.demo
    spec = importlib.util.find_spec(module)
    assert spec is not None, f"{chapter.name}: {module} does not exist"
    if spec.submodule_search_locations is not None:
        assert importlib.util.find_spec(module + ".__main__") is not None, f"{module} has no __main__"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.name)
def test_every_graded_test_exists_in_the_chapter_folder(chapter):
    for graded in chapter.graded:
        path = chapter.folder / graded.file
        assert path.is_file() and path.name.startswith("test_"), f"{chapter.name}: no {graded.file}"
        defined = _test_names(path)
        assert graded.names in defined, f"{chapter.name}: {graded.test} is not defined in {graded.file}"
    assert len({graded.test for graded in chapter.graded}) == len(chapter.graded), "a test graded twice"


def _test_names(path: Path) -> set[tuple[str, ...]]:
    """("test_f",) and ("TestClass", "test_m") for the tests a file defines."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[tuple[str, ...]] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add((node.name,))
        elif isinstance(node, ast.ClassDef):
            names.update((node.name, item.name) for item in node.body if isinstance(item, ast.FunctionDef))
    return names


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.name)
def test_every_assignment_has_regions_in_the_source_named_for_its_chapter(chapter):
    for assignment in chapter.assignments:
        assert assignment.id.startswith(chapter.tag + "-"), f"{assignment.id} should start with {chapter.tag}-"
        assert assignment.id in REGIONS, f"no '# BEGIN ASSIGNMENT {assignment.id}' region under dynamo/"


def test_every_region_in_the_source_belongs_to_a_chapter():
    assigned = {assignment.id for chapter in CHAPTERS for assignment in chapter.assignments}
    orphans = {region: REGIONS[region] for region in REGIONS if region not in assigned}
    assert not orphans, f"regions no chapter hands out (add them to a chapter.toml): {orphans}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.name)
def test_prerequisites_are_earlier_chapters(chapter):
    earlier = {other.name for other in CHAPTERS if other.number < chapter.number}
    assert set(chapter.prerequisites) <= earlier, f"{chapter.name}: unknown or later prerequisites"


def test_the_site_navigation_lists_every_chapter_in_order():
    hook = _load_hook()
    config = load_config(str(ROOT / "mkdocs.yml"))
    nav = hook.on_config(config).nav
    section = next(entry["Chapters"] for entry in nav if isinstance(entry, dict) and "Chapters" in entry)
    pages = [list(entry.values())[0] for entry in section[1:]]
    assert [list(page[1].values())[0] for page in pages] == [
        f"chapters/{chapter.name}/lesson.md" for chapter in CHAPTERS
    ]
    assert [list(page[2].values())[0] for page in pages] == [
        f"chapters/{chapter.name}/assignment.md" for chapter in CHAPTERS
    ]


def _load_hook():
    spec = importlib.util.spec_from_file_location("chapters_hook", ROOT / "docs/hooks/chapters.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_chapter_is_found_by_number_slug_or_folder():
    first = CHAPTERS[0]
    for query in ("1", "01", "ch01", first.slug, first.name):
        assert find_chapter(CHAPTERS, query) is first
    with pytest.raises(ChapterError, match="the chapters are"):
        find_chapter(CHAPTERS, "99")


def test_a_chapter_toml_with_a_typo_is_refused(tmp_path):
    folder = tmp_path / "01-storage"
    folder.mkdir()
    text = (CHAPTERS[0].folder / "chapter.toml").read_text(encoding="utf-8")
    (folder / "chapter.toml").write_text(text.replace("goals =", "goal ="), encoding="utf-8")
    with pytest.raises(ChapterError, match="missing key 'goals'"):
        load_chapter(folder)
    (folder / "chapter.toml").write_text(text.replace("number = 1", "number = 2"), encoding="utf-8")
    with pytest.raises(ChapterError, match="the folder is '01-storage'"):
        load_chapter(folder)
