"""The grading is honest, for every chapter that exists (the CI check of the course).

For each chapter: the reference passes all its graded tests; a handout, the copy a
student gets, fails every one of them (each fails or errors on the stubs); the
handout still imports every module of `dynamo`; and the graded tests of every other
chapter still pass on it, so a student works on one hole in an otherwise working
system. Grading runs pytest in a subprocess against the copy, as `dynamo course
grade` does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dynamo.course import course_root, format_report, grade_many, load_chapters, make_handout

ROOT = course_root()
CHAPTERS = load_chapters(ROOT)

# Imports every module of the copy's dynamo (not the __main__ demos, which run when imported).
IMPORT_ALL = """
import importlib, pkgutil, dynamo
for module in pkgutil.walk_packages(dynamo.__path__, "dynamo."):
    if not module.name.endswith("__main__"):
        importlib.import_module(module.name)
print(dynamo.__file__)
"""


@pytest.fixture(scope="module")
def reference():
    """Every chapter graded on the reference, in one pytest run (on purpose: allow_reference)."""
    return {report.chapter.name: report for report in grade_many(CHAPTERS, ROOT, allow_reference=True)}


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.name)
def test_the_reference_passes_every_graded_test(chapter, reference):
    report = reference[chapter.name]
    assert report.all_passed, "the reference must pass its own graded tests:\n" + format_report(report)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.name)
def test_a_handout_fails_its_chapter_and_passes_the_others(chapter, tmp_path):
    handout = make_handout(ROOT, chapter, tmp_path / "handout").out
    _assert_imports(handout)
    # One pytest run grades every chapter on the handout: the others must be untouched.
    # The other chapters still hold their reference solutions: allow_reference.
    for report in grade_many(CHAPTERS, handout, tests_from=ROOT, allow_reference=True):
        if report.chapter.name == chapter.name:
            passing = [r.graded.test for r in report.results if r.outcome not in ("fail", "error")]
            assert not passing, f"graded tests that do not fail on the stubs: {passing}\n" + format_report(report)
        else:
            assert report.all_passed, f"the {chapter.name} handout breaks another chapter:\n" + format_report(report)


def _assert_imports(handout: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(handout), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL], cwd=handout, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, f"the handout does not import:\n{done.stderr}"
    assert Path(done.stdout.strip()).resolve() == (handout / "dynamo/__init__.py").resolve(), done.stdout
