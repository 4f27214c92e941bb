"""Handouts: a student's copy of the repository with assignment regions stubbed.

`dynamo course handout 02 --out DIR` copies the project (the files git knows about,
tracked or not yet added but never ignored ones; outside a git checkout, every file but
virtualenvs, build output and data) and replaces the assignment regions of chapter 02
*and of every later chapter* by stubs that raise NotImplementedError (see
`regions.py`): a term hands out chapter 01 in week 1, and that copy must not hold the
answers of chapters 02 and 03. `--only 02` stubs chapter 02 alone and keeps the other
chapters' reference code, for a one-off assignment. Everything else (the earlier
chapters' code, the lessons and the graded tests) is copied as it is, so the student
can run the chapter's tests and see what fails.

The copy is a git repository with one initial commit, so a student's `git diff`
shows exactly what they wrote.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dynamo.course.chapters import Chapter
from dynamo.course.regions import Region, RegionError, replace_regions

# Never part of a handout when walking a folder that is not a git checkout.
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        "site",
        "data",
        "build",
        "handout",
        "__pycache__",
        ".pytest_cache",
        ".hypothesis",
        ".ruff_cache",
        ".mypy_cache",
    }
)


class HandoutError(RuntimeError):
    """The handout cannot be written (target not empty, chapter without regions...)."""


# Who commits the handout: a fixed identity, so the copy never depends on the
# instructor's git configuration (or the lack of one).
COMMITTER = ("-c", "user.name=Dynamo Lab", "-c", "user.email=handout@dynamo-lab.invalid", "-c", "commit.gpgsign=false")


@dataclass(frozen=True)
class Handout:
    """What `make_handout` wrote: where, how many files, the chapters and regions it stubbed."""

    out: Path
    files: int
    chapters: tuple[str, ...]
    regions: tuple[Region, ...]


def make_handout(root: Path, chapter: Chapter, out: Path, *, later: Sequence[Chapter] = ()) -> Handout:
    """Write the student copy of `root` for `chapter` into the empty or new folder `out`.

    `later` are the chapters whose regions are stubbed too (a term's handout passes every
    chapter after `chapter`, see `term_chapters`); without them, only `chapter` is stubbed.
    """
    root, out = root.resolve(), out.resolve()
    _check_target(root, out)
    stubbed_chapters = [chapter, *later]
    files = [path for path in repository_files(root) if not _inside(root / path, out)]
    hints = {assignment.id: assignment.title for each in stubbed_chapters for assignment in each.assignments}
    stubbed: list[Region] = []
    try:
        for relative in files:
            stubbed.extend(_copy(root / relative, out / relative, relative, hints))
        _check_every_region_stubbed(stubbed_chapters, stubbed)
        _commit(out, chapter)
    except (HandoutError, RegionError):
        shutil.rmtree(out, ignore_errors=True)  # never leave half a handout behind
        raise
    names = tuple(each.name for each in stubbed_chapters)
    return Handout(out=out, files=len(files), chapters=names, regions=tuple(stubbed))


def term_chapters(chapters: Sequence[Chapter], chapter: Chapter) -> list[Chapter]:
    """The chapters after `chapter`: a term's handout of `chapter` stubs them too."""
    return [each for each in chapters if each.number > chapter.number]


def _check_every_region_stubbed(chapters: list[Chapter], stubbed: list[Region]) -> None:
    found = {region.id for region in stubbed}
    for chapter in chapters:
        missing = {assignment.id for assignment in chapter.assignments} - found
        if missing:
            raise HandoutError(
                f"{chapter.name}: no '# BEGIN ASSIGNMENT' region for {sorted(missing)} in the "
                "source; the handout would be the reference solution"
            )


def _commit(out: Path, chapter: Chapter) -> None:
    """Make `out` a git repository whose one commit is the handout as given."""
    message = f"Handout: chapter {chapter.number:02d}, {chapter.title}"
    steps = (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", *COMMITTER, "commit", "-q", "--no-verify", "-m", message],
    )
    for step in steps:
        try:
            subprocess.run(step, cwd=out, capture_output=True, text=True, check=True)
        except (OSError, subprocess.CalledProcessError) as error:
            detail = getattr(error, "stderr", "") or error
            raise HandoutError(f"could not make {out} a git repository ({' '.join(step[:2])}): {detail}") from error


def repository_files(root: Path) -> list[Path]:
    """The project's files, relative to `root`, in a stable order."""
    listed = _git_files(root)
    if listed is None:
        listed = _walk(root)
    return sorted(path for path in listed if (root / path).is_file())


def _git_files(root: Path) -> list[Path] | None:
    """Files git tracks or would track (untracked but not ignored); None outside git."""
    if not (root / ".git").exists():
        return None
    try:
        result = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    names = result.stdout.decode("utf-8").split("\0")
    return [Path(name) for name in dict.fromkeys(names) if name]


def _walk(root: Path) -> list[Path]:
    found: list[Path] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [name for name in dirs if not _skipped(name)]
        base = Path(folder).relative_to(root)
        found.extend(base / name for name in names if not name.endswith((".pyc", ".pyo")))
    return found


def _skipped(name: str) -> bool:
    return name in SKIPPED_DIRS or name.endswith(".egg-info")


def _copy(source: Path, target: Path, relative: Path, hints: dict[str, str]) -> list[Region]:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.suffix == ".py":
        text = source.read_text(encoding="utf-8")
        stubbed_text, regions = replace_regions(text, hints.keys(), str(relative), hints)
        if regions:
            target.write_text(stubbed_text, encoding="utf-8")
            shutil.copymode(source, target)
            return regions
    shutil.copy2(source, target)
    return []


def _check_target(root: Path, out: Path) -> None:
    if out == root or _inside(root, out):
        raise HandoutError(f"--out {out} would overwrite the repository itself")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise HandoutError(f"--out {out} exists and is not an empty folder")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents
