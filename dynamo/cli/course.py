"""`dynamo course`: list the chapters, write a student handout, grade a copy.

    dynamo course list
    dynamo course handout 02 --out ~/wal-assignment [--only]
    cd ~/wal-assignment && dynamo course grade 02 [--seed 1234]
    dynamo course grade 02 --repo ~/submissions/alice
    dynamo course mutants 02 [--list] [--verbose]

The chapters and the graded tests come from the repository this `dynamo` belongs to;
the code graded is the repository of the current directory, or `--repo`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dynamo.course import (
    Chapter,
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
from dynamo.course.handout import term_chapters
from dynamo.course.mutants import (
    MutationError,
    chapter_regions,
    format_mutation_report,
    mutants_of,
    run_mutants,
)
from dynamo.course.preflight import find_repository


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
        description="Copy the repository into DIR, a git repository with one commit, replacing "
        "the BEGIN/END ASSIGNMENT regions of the chapter and of every later chapter by stubs "
        "that raise NotImplementedError (--only: the chapter's alone).",
    )
    handout.add_argument("chapter", help="chapter number, slug or folder: 1, 01, storage, 01-storage")
    handout.add_argument("--out", required=True, type=Path, metavar="DIR", help="new or empty folder")
    handout.add_argument(
        "--only",
        action="store_true",
        help="stub this chapter only and keep the later chapters' reference solutions in the copy",
    )
    handout.set_defaults(func=run_handout)

    grading = commands.add_parser(
        "grade",
        help="run a chapter's graded tests against a copy and print the score table",
        description="Run the chapter's graded tests (from the course this dynamo is installed "
        "from) against the code of the repository holding the current directory, or --repo, and "
        "print test, points and result; exit status 0 only with full marks, 2 if it cannot grade.",
    )
    grading.add_argument("chapter", help="chapter number, slug or folder: 1, 01, storage, 01-storage")
    grading.add_argument(
        "--repo", type=Path, metavar="DIR", help="the copy to grade (default: the repository of the current directory)"
    )
    grading.add_argument(
        "--allow-reference",
        action="store_true",
        help="grade even if the code still holds the chapter's reference solution (the course's own CI check)",
    )
    grading.add_argument(
        "--seed", type=int, help="seed for simulated tests (exported as DYNAMO_LAB_SEED)"
    )
    grading.set_defaults(func=run_grade)

    mutation = commands.add_parser(
        "mutants",
        help="mutation-test a chapter: do its graded tests catch small mistakes in the reference?",
        description="Plant one small mistake at a time in the chapter's assignment regions and run "
        "its graded tests on each; exit status 0 only when every surviving mutant is listed in "
        "chapter.toml as [[equivalent]] with a reason (see docs/instructors.md).",
    )
    mutation.add_argument("chapter", help="chapter number, slug or folder: 1, 01, storage, 01-storage")
    mutation.add_argument("--list", action="store_true", help="list the mutants and their lines, run nothing")
    mutation.add_argument("--verbose", action="store_true", help="print every mutant's result")
    mutation.set_defaults(func=run_mutants_command)


def run_list(args: argparse.Namespace) -> int:
    for chapter in load_chapters(course_root()):
        print(f"{chapter.name:<14} {chapter.title}  ({chapter.total_points} points)")
        for assignment in chapter.assignments:
            print(f"{'':<14} - {assignment.id}: {assignment.title}")
    return 0


def run_handout(args: argparse.Namespace) -> int:
    root = course_root()
    try:
        chapters = load_chapters(root)
        chapter = find_chapter(chapters, args.chapter)
        later: list[Chapter] = [] if args.only else term_chapters(chapters, chapter)
        written = make_handout(root, chapter, args.out, later=later)
    except (ChapterError, HandoutError, RegionError) as error:
        print(f"dynamo course handout: {error}", file=sys.stderr)
        return 2
    print(f"Wrote {written.files} files to {written.out} for {chapter.name}: {chapter.title}")
    print(f"Stubbed chapters: {', '.join(written.chapters)}; the copy is a git repository with one commit")
    print("Stubbed regions (the student implements these):")
    for region in written.regions:
        print(f"  {region.path}:{region.begin}  {region.id}")
    print(f"Statement: {chapter.statement.relative_to(root)}")
    print(f"Grade it:  cd {written.out} && dynamo course grade {chapter.number:02d}")
    return 0


def run_grade(args: argparse.Namespace) -> int:
    root = course_root()
    try:
        chapter = find_chapter(load_chapters(root), args.chapter)
        repo = args.repo or find_repository(Path.cwd())
        report = grade(chapter, repo, tests_from=root, seed=args.seed, allow_reference=args.allow_reference)
    except (ChapterError, GradeError) as error:
        print(f"dynamo course grade: {error}", file=sys.stderr)
        return 2
    print(format_report(report))
    return 0 if report.all_passed else 1


def run_mutants_command(args: argparse.Namespace) -> int:
    root = course_root()
    try:
        chapter = find_chapter(load_chapters(root), args.chapter)
        if args.list:
            for mutant in mutants_of(root, chapter_regions(root, chapter)):
                print(f"{mutant.id}\n    {mutant.region.path}:{mutant.line}: {mutant.source}")
            return 0
        report = run_mutants(root, chapter)
    except (ChapterError, MutationError, RegionError) as error:
        print(f"dynamo course mutants: {error}", file=sys.stderr)
        return 2
    print(format_mutation_report(report, verbose=args.verbose))
    return 0 if report.ok else 1
