"""Chapters as data: `chapters/NN-slug/chapter.toml`, loaded into dataclasses.

Like CodeCrafters' stages, a chapter is described by data, not code: its number and
title, the layer it teaches and the command that runs that layer alone, the paper
sections it covers (DynamoDB ATC'22 §n), what a student should be able to do after
it, the assignment regions it hands out and the graded tests with their points.
The docs site, the handout and the grader all read chapters from here, so a new
chapter folder is picked up everywhere without touching any code.

    number = 2
    slug = "wal"
    title = "The write-ahead log"
    layer = "dynamo.wal"
    demo = "python -m dynamo.wal"
    paper = ["§3", "§5.1"]
    prerequisites = ["01-storage"]
    goals = ["Explain why ..."]
    readings = ["..."]
    dashboard = "..."            # optional: how to watch the layer in the dashboard
    [[assignment]]
    id = "ch02-recovery"         # the id of the BEGIN ASSIGNMENT region(s) in dynamo/
    title = "Recovery's tail handling"
    [[graded]]
    test = "test_recovery.py::test_torn_tail_is_truncated"   # relative to the chapter folder
    points = 5
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHAPTER_FILE = "chapter.toml"
FOLDER_NAME = re.compile(r"^(?P<number>\d{2})-(?P<slug>[a-z0-9][a-z0-9-]*)$")
REQUIRED = {
    "number": int,
    "slug": str,
    "title": str,
    "layer": str,
    "demo": str,
    "paper": list,
    "prerequisites": list,
    "goals": list,
    "readings": list,
    "assignment": list,
    "graded": list,
}
OPTIONAL = {"dashboard": str, "equivalent": list}  # equivalent: read by mutants.py


class ChapterError(ValueError):
    """A chapter folder or its chapter.toml does not follow the format."""


@dataclass(frozen=True)
class Assignment:
    """A part of the layer the student writes: the id of its BEGIN ASSIGNMENT regions."""

    id: str
    title: str


@dataclass(frozen=True)
class GradedTest:
    """One graded test: a pytest node id relative to the chapter folder, and its points."""

    test: str
    points: int

    @property
    def file(self) -> str:
        """The test file, relative to the chapter folder."""
        return self.test.split("::", 1)[0]

    @property
    def names(self) -> tuple[str, ...]:
        """The class and function names after the file (empty when a whole file is graded)."""
        parts = self.test.split("::")
        return tuple(parts[1:])


@dataclass(frozen=True)
class Chapter:
    """One chapter of the course, as its chapter.toml describes it."""

    folder: Path
    number: int
    slug: str
    title: str
    layer: str
    demo: str
    paper: tuple[str, ...]
    prerequisites: tuple[str, ...]
    goals: tuple[str, ...]
    readings: tuple[str, ...]
    assignments: tuple[Assignment, ...]
    graded: tuple[GradedTest, ...]
    dashboard: str | None = None

    @property
    def name(self) -> str:
        """The folder name, e.g. `01-storage`."""
        return self.folder.name

    @property
    def tag(self) -> str:
        """The short tag stub messages start with, e.g. `ch01`."""
        return f"ch{self.number:02d}"

    @property
    def lesson(self) -> Path:
        return self.folder / "lesson.md"

    @property
    def statement(self) -> Path:
        return self.folder / "assignment.md"

    @property
    def total_points(self) -> int:
        return sum(graded.points for graded in self.graded)

    @property
    def graded_files(self) -> tuple[str, ...]:
        """The distinct test files holding graded tests, in chapter.toml order."""
        return tuple(dict.fromkeys(graded.file for graded in self.graded))


def course_root() -> Path:
    """The repository this `dynamo` package belongs to (the folder holding `chapters/`)."""
    return Path(__file__).resolve().parents[2]


def load_chapters(root: Path | None = None) -> list[Chapter]:
    """Every chapter under `root/chapters`, in chapter order."""
    folder = (root or course_root()) / "chapters"
    if not folder.is_dir():
        raise ChapterError(f"no chapters/ folder in {folder.parent}")
    chapters = [load_chapter(path) for path in sorted(folder.iterdir()) if _is_chapter(path)]
    numbers = [chapter.number for chapter in chapters]
    if len(set(numbers)) != len(numbers):
        raise ChapterError(f"two chapters share a number: {numbers}")
    return sorted(chapters, key=lambda chapter: chapter.number)


def _is_chapter(path: Path) -> bool:
    return path.is_dir() and FOLDER_NAME.match(path.name) is not None


def load_chapter(folder: Path) -> Chapter:
    """Read and check one chapter folder's chapter.toml."""
    where = folder / CHAPTER_FILE
    if not where.is_file():
        raise ChapterError(f"{where}: missing (every chapter folder needs one)")
    try:
        data = tomllib.loads(where.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ChapterError(f"{where}: {error}") from error
    _check_keys(where, data)
    chapter = Chapter(
        folder=folder,
        number=data["number"],
        slug=data["slug"],
        title=data["title"],
        layer=data["layer"],
        demo=data["demo"],
        paper=_strings(where, data, "paper"),
        prerequisites=_strings(where, data, "prerequisites"),
        goals=_strings(where, data, "goals"),
        readings=_strings(where, data, "readings"),
        assignments=tuple(_assignment(where, entry) for entry in data["assignment"]),
        graded=tuple(_graded(where, entry) for entry in data["graded"]),
        dashboard=data.get("dashboard"),
    )
    _check_folder_name(where, chapter)
    if not chapter.assignments or not chapter.graded:
        raise ChapterError(f"{where}: a chapter needs at least one [[assignment]] and one [[graded]]")
    return chapter


def find_chapter(chapters: list[Chapter], query: str) -> Chapter:
    """The chapter a user means by `1`, `01`, `ch01`, `storage` or `01-storage`."""
    wanted = query.strip().lower().removeprefix("ch")
    for chapter in chapters:
        if wanted in {chapter.name, chapter.slug, str(chapter.number), f"{chapter.number:02d}"}:
            return chapter
    names = ", ".join(chapter.name for chapter in chapters)
    raise ChapterError(f"no chapter {query!r}; the chapters are: {names}")


def _check_keys(where: Path, data: dict[str, Any]) -> None:
    for key, kind in REQUIRED.items():
        if key not in data:
            raise ChapterError(f"{where}: missing key {key!r}")
        if not isinstance(data[key], kind) or isinstance(data[key], bool):
            raise ChapterError(f"{where}: {key!r} must be a {kind.__name__}")
    for key, kind in OPTIONAL.items():
        if key in data and not isinstance(data[key], kind):
            raise ChapterError(f"{where}: {key!r} must be a {kind.__name__}")
    unknown = set(data) - set(REQUIRED) - set(OPTIONAL)
    if unknown:
        raise ChapterError(f"{where}: unknown keys {sorted(unknown)} (a typo?)")


def _strings(where: Path, data: dict[str, Any], key: str) -> tuple[str, ...]:
    values = data[key]
    if not all(isinstance(value, str) for value in values):
        raise ChapterError(f"{where}: {key!r} must be a list of strings")
    return tuple(values)


def _assignment(where: Path, entry: Any) -> Assignment:
    if not isinstance(entry, dict) or set(entry) != {"id", "title"}:
        raise ChapterError(f"{where}: each [[assignment]] has exactly `id` and `title`")
    return Assignment(id=str(entry["id"]), title=str(entry["title"]))


def _graded(where: Path, entry: Any) -> GradedTest:
    if not isinstance(entry, dict) or set(entry) != {"test", "points"}:
        raise ChapterError(f"{where}: each [[graded]] has exactly `test` and `points`")
    points = entry["points"]
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise ChapterError(f"{where}: points of {entry['test']!r} must be a positive integer")
    return GradedTest(test=str(entry["test"]), points=points)


def _check_folder_name(where: Path, chapter: Chapter) -> None:
    expected = f"{chapter.number:02d}-{chapter.slug}"
    if chapter.folder.name != expected:
        raise ChapterError(f"{where}: number and slug say {expected!r}, the folder is {chapter.name!r}")
