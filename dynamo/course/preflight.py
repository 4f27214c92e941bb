"""What the grader checks before it runs a single test, so it never grades the wrong code.

A grade is only worth something if it is the grade of the student's code, against the
course's graded tests. Three things can silently break that, and each is refused with
a message that says what to do:

1. **The code under test is not the directory's.** `import dynamo`, run the way the
   graded tests run it (working directory and PYTHONPATH set to the directory), must
   load the directory's own `dynamo/`, not a copy installed in the virtualenv.
2. **The code under test still holds the reference solution.** A handout replaces each
   assignment region by a stub, so a copy in which every region of the chapter still
   reads as the reference is not a student's work: it is the course repository itself
   (the issue this check was written for: `dynamo course grade 02` run with the
   project's `.venv` active graded the installed reference for an untouched stub).
   Code is compared line by line, ignoring indentation, blank lines and comments.
   The CI honesty check, which must grade the reference, says so with
   `allow_reference=True` (`--allow-reference` on the command line).
3. **The installed course and the directory disagree.** The graded tests come from the
   course the running `dynamo` belongs to; the code comes from the directory. If the
   directory's copy of the chapter differs in what it grades (the assignments and graded
   tests its chapter.toml lists, or the graded test files), the two are different
   versions of the course, or the graded tests were edited, and the score would not
   mean what it says. The chapter's prose (goals, readings) may differ.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dynamo.course.chapters import CHAPTER_FILE, Chapter, ChapterError, load_chapter
from dynamo.course.regions import Region, find_regions


class GradeError(RuntimeError):
    """Grading could not run (the code under test is not the repository asked for...)."""


@dataclass(frozen=True)
class ReferenceRegion:
    """An assignment region of the trusted course and the code it holds there."""

    region: Region
    code: tuple[str, ...]  # the region's lines, normalised (see `_normalised`)


def find_repository(start: Path) -> Path:
    """The course repository holding `start`: the nearest folder with `dynamo/` and `chapters/`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "dynamo" / "__init__.py").is_file() and (folder / "chapters").is_dir():
            return folder
    raise GradeError(
        f"{start} is not inside a copy of the course (no folder with dynamo/ and chapters/ "
        "here or above): cd into your handout first, or name it with --repo"
    )


def check_code_under_test(repo: Path, env: dict[str, str]) -> None:
    """Make sure `import dynamo` in the test run imports repo's copy, not the installed one."""
    if not repo.is_dir():
        raise GradeError(f"{repo} is not a folder")
    probe = subprocess.run(
        [sys.executable, "-c", "import dynamo; print(dynamo.__file__)"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    imported = Path(probe.stdout.strip() or "?").resolve()
    if probe.returncode != 0 or repo / "dynamo" not in imported.parents:
        raise GradeError(
            f"the code under test must be {repo / 'dynamo'}, but `import dynamo` there gives "
            f"{imported} {probe.stderr.strip()}"
        )


def check_same_course(chapters: Sequence[Chapter], repo: Path, trusted: Path) -> None:
    """Refuse when repo's copy of a chapter's definition or graded tests differs from trusted's."""
    if repo.resolve() == trusted.resolve():
        return
    for chapter in chapters:
        mine = repo / "chapters" / chapter.name
        different = [name for name in chapter.graded_files if _read(mine / name) != _read(chapter.folder / name)]
        if not _same_grading(chapter, mine):
            different.insert(0, CHAPTER_FILE)
        if different:
            files = ", ".join(f"chapters/{chapter.name}/{name}" for name in different)
            raise GradeError(
                f"the installed dynamo (course at {trusted}) and {repo} disagree on {files}: "
                "either they are different versions of the course (grade with the dynamo of the "
                "course this copy was handed out from) or the graded tests were edited in the copy "
                "(`git diff` in the handout shows the change; restore them)"
            )


def check_not_reference(chapters: Sequence[Chapter], repo: Path, trusted: Path) -> None:
    """Refuse when every region of a chapter still holds the trusted reference code in repo."""
    for chapter in chapters:
        regions = reference_regions(trusted, chapter)
        if regions and all(_holds(repo / found.region.path, found.code) for found in regions):
            where = ", ".join(f"{found.region.path}:{found.region.begin} ({found.region.id})" for found in regions)
            raise GradeError(
                f"the code under test ({repo}) still holds the reference solution of "
                f"{chapter.name}: {where}. Grade your handout instead: cd into it and run "
                f"`dynamo course grade {chapter.number:02d}`. (To grade the reference on purpose, "
                "as the course's CI does, add --allow-reference.)"
            )


def reference_regions(root: Path, chapter: Chapter) -> list[ReferenceRegion]:
    """The chapter's assignment regions in `root`'s dynamo/, with the code each holds."""
    ids = {assignment.id for assignment in chapter.assignments}
    found: list[ReferenceRegion] = []
    for path in sorted((root / "dynamo").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "ASSIGNMENT" not in text:
            continue
        lines = text.splitlines()
        relative = path.relative_to(root).as_posix()
        for region in find_regions(text, relative):
            if region.id in ids:
                code = _normalised(lines[region.begin : region.end - 1])
                found.append(ReferenceRegion(region, code))
    return found


def student_files(root: Path, chapters: Sequence[Chapter]) -> list[str]:
    """The files (relative to `root`) in which the students of `chapters` write code.

    In the course repository, the files holding the chapters' regions. When `root` is
    itself a handout (a student grading with their copy's own `dynamo`), the regions
    are gone: the files that held their stubs in the handout's first commit.
    """
    found = {region.region.path for chapter in chapters for region in reference_regions(root, chapter)}
    ids = [assignment.id for chapter in chapters for assignment in chapter.assignments]
    return sorted(found or _stubbed_files(root, ids))


def _stubbed_files(root: Path, ids: Sequence[str]) -> set[str]:
    """Files of dynamo/ whose version in the first commit raised a stub of one of `ids`."""
    if not ids or not (root / ".git").exists():
        return set()
    git = ["git", "-C", str(root)]
    first = subprocess.run([*git, "rev-list", "--max-parents=0", "HEAD"], capture_output=True, text=True)
    commit = first.stdout.split()[-1] if first.returncode == 0 and first.stdout.split() else None
    if commit is None:
        return set()
    patterns = [arg for id_ in ids for arg in ("-e", f'NotImplementedError("{id_}:')]
    listed = subprocess.run(
        [*git, "grep", "-l", "-F", *patterns, commit, "--", "dynamo"], capture_output=True, text=True
    )
    candidates = {line.split(":", 1)[1] for line in listed.stdout.splitlines() if ":" in line}
    return {path for path in candidates if _raises_stub(_show(git, commit, path), ids)}


def _show(git: list[str], commit: str, path: str) -> str:
    return subprocess.run([*git, "show", f"{commit}:{path}"], capture_output=True, text=True).stdout


def _raises_stub(source: str, ids: Sequence[str]) -> bool:
    """Whether the code (not a docstring showing one) raises a stub of one of `ids`."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
            message = node.exc.args[0]
            if isinstance(message, ast.Constant) and isinstance(message.value, str):
                if any(message.value.startswith(f"{id_}:") for id_ in ids):
                    return True
    return False


def _holds(path: Path, code: tuple[str, ...]) -> bool:
    """Whether the file contains `code` as consecutive lines, once normalised."""
    if not code or not path.is_file():
        return False
    lines = _normalised(path.read_text(encoding="utf-8").splitlines())
    width = len(code)
    return any(lines[start : start + width] == code for start in range(len(lines) - width + 1))


def _normalised(lines: Sequence[str]) -> tuple[str, ...]:
    """Lines without indentation, blank lines and whole-line comments (markers included)."""
    stripped = (line.strip() for line in lines)
    return tuple(line for line in stripped if line and not line.startswith("#"))


def _same_grading(chapter: Chapter, folder: Path) -> bool:
    """Whether folder's chapter.toml hands out and grades the same (its prose may differ)."""
    try:
        mine = load_chapter(folder)
    except ChapterError:
        return False
    return (mine.assignments, mine.graded) == (chapter.assignments, chapter.graded)


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None
