"""`dynamo course`: list the chapters, write a student handout, grade a copy.

    dynamo course list
    dynamo course handout 02 --out ~/wal-assignment
    dynamo course grade 02 [--repo ~/wal-assignment] [--seed 1234]

The chapters and the graded tests come from the repository this `dynamo` belongs to;
`--repo` names the copy whose code is graded (default: this repository).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dynamo.course import (
    ChapterError,
    GradeError,
    HandoutError,
    RegionError,
    course_root,
    find_chapter,
    format_report,
    grade,
    load_chapters,
    make_handout,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `dynamo course` and its three commands to the `dynamo` parser."""
    course = subparsers.add_parser(
        "course",
        help="the course: list chapters, write a handout, grade an assignment",
        description="Chapters, student handouts and grading (see docs/instructors.md).",
    )
    commands = course.add_subparsers(dest="course_command", metavar="COMMAND", required=True)

    listing = commands.add_parser("list", help="list the chapters, their assignments and points")
    listing.set_defaults(func=run_list)

    handout = commands.add_parser(
        "handout",
        help="write a student copy with a chapter's assignment regions replaced by stubs",
        description="Copy the repository into DIR, replacing the chapter's BEGIN/END ASSIGNMENT "
        "regions by stubs that raise NotImplementedError.",
    )
    handout.add_argument("chapter", help="chapter number, slug or folder: 1, 01, storage, 01-storage")
    handout.add_argument("--out", required=True, type=Path, metavar="DIR", help="new or empty folder")
    handout.set_defaults(func=run_handout)

    grading = commands.add_parser(
        "grade",
        help="run a chapter's graded tests against a copy and print the score table",
        description="Run the chapter's graded tests (from this repository) against the code in "
        "--repo and print test, points and result; exit status 0 only with full marks.",
    )
    grading.add_argument("chapter", help="chapter number, slug or folder: 1, 01, storage, 01-storage")
    grading.add_argument("--repo", type=Path, metavar="DIR", help="the copy to grade (default: this repository)")
    grading.add_argument(
        "--seed", type=int, help="seed for simulated tests (exported as DYNAMO_LAB_SEED)"
    )
    grading.set_defaults(func=run_grade)


def run_list(args: argparse.Namespace) -> int:
    for chapter in load_chapters(course_root()):
        print(f"{chapter.name:<14} {chapter.title}  ({chapter.total_points} points)")
        for assignment in chapter.assignments:
            print(f"{'':<14} - {assignment.id}: {assignment.title}")
    return 0


def run_handout(args: argparse.Namespace) -> int:
    root = course_root()
    try:
        chapter = find_chapter(load_chapters(root), args.chapter)
        written = make_handout(root, chapter, args.out)
    except (ChapterError, HandoutError, RegionError) as error:
        print(f"dynamo course handout: {error}", file=sys.stderr)
        return 2
    print(f"Wrote {written.files} files to {written.out} for {chapter.name}: {chapter.title}")
    print("Stubbed regions (the student implements these):")
    for region in written.regions:
        print(f"  {region.path}:{region.begin}  {region.id}")
    print(f"Statement: {chapter.statement.relative_to(root)}")
    print(f"Grade it:  dynamo course grade {chapter.number:02d} --repo {written.out}")
    return 0


def run_grade(args: argparse.Namespace) -> int:
    root = course_root()
    try:
        chapter = find_chapter(load_chapters(root), args.chapter)
        report = grade(chapter, args.repo or root, tests_from=root, seed=args.seed)
    except (ChapterError, GradeError) as error:
        print(f"dynamo course grade: {error}", file=sys.stderr)
        return 2
    print(format_report(report))
    return 0 if report.all_passed else 1
