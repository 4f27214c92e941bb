"""The course machinery: chapters as data, student handouts, and grading.

Dynamo Lab is taught chapter by chapter. Each chapter lives in `chapters/NN-slug/`
with its lesson, its assignment statement, its graded tests and a `chapter.toml`
that names them (`chapters.py`). Reference code in `dynamo/` marks the parts a
student writes with `# BEGIN ASSIGNMENT <id>` / `# END ASSIGNMENT` (`regions.py`);
a handout is a copy of the repository with a chapter's regions, and those of every
later chapter, replaced by stubs (`handout.py`); grading runs the chapter's graded
tests against a copy and prints a score table (`grade.py`), after checking that the
copy is the code it should grade (`preflight.py`), and explains an unexpected
exception down to the student's line (`feedback.py`). One source serves as both
reference and starter code.
"""

from dynamo.course.chapters import (
    Assignment,
    Chapter,
    ChapterError,
    GradedTest,
    course_root,
    find_chapter,
    load_chapters,
)
from dynamo.course.grade import (
    GradeError,
    GradeReport,
    TestResult,
    format_report,
    grade,
    grade_many,
)
from dynamo.course.handout import Handout, HandoutError, make_handout
from dynamo.course.regions import Region, RegionError, find_regions, replace_regions

__all__ = [
    "Assignment",
    "Chapter",
    "ChapterError",
    "GradeError",
    "GradeReport",
    "GradedTest",
    "Handout",
    "HandoutError",
    "Region",
    "RegionError",
    "TestResult",
    "course_root",
    "find_chapter",
    "find_regions",
    "format_report",
    "grade",
    "grade_many",
    "load_chapters",
    "make_handout",
    "replace_regions",
]
