"""Handout and grading on a small course repository built in tmp_path.

The toy repository has its own `dynamo` package with one assignment region, one
chapter and its graded tests, so these tests check the machinery itself: what a
handout copies and stubs, that grading imports the graded copy's code, and how the
score table reports passes, failures, parametrised tests and replay commands.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from dynamo.course import (
    GradeError,
    HandoutError,
    RegionError,
    format_report,
    grade,
    load_chapters,
    make_handout,
)

MODULE = '''\
"""A toy layer."""


def double(x: int) -> int:
    """Twice x."""
    # BEGIN ASSIGNMENT ch01-double: return twice x
    return 2 * x
    # END ASSIGNMENT


def keep() -> str:
    return "kept"
'''

CHAPTER = """\
number = 1
slug = "toy"
title = "A toy chapter"
layer = "dynamo.toy"
demo = "python -m dynamo.toy"
paper = ["§1"]
prerequisites = []
goals = ["Double a number"]
readings = []
[[assignment]]
id = "ch01-double"
title = "double"
[[graded]]
test = "test_toy.py::test_double"
points = 3
[[graded]]
test = "test_toy.py::test_double_each"
points = 2
[[graded]]
test = "test_toy.py::test_simulated"
points = 5
"""

TESTS = '''\
import pytest

from dynamo.toy import double


def test_double():
    assert double(2) == 4, "double(2) should be 4: twice the number"


@pytest.mark.parametrize("x", [0, 1, 5])
def test_double_each(x):
    assert double(x) == x + x


def test_simulated():
    try:
        diverged = double(1) != 2
    except NotImplementedError as error:
        diverged = error
    if diverged:
        print("replay: dynamo sim replay --seed 4211 --scenario toy")
        raise AssertionError(f"the toy run diverged: {diverged}")
'''


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    _write(
        root,
        {
            "dynamo/__init__.py": '"""toy"""\n',
            "dynamo/toy.py": MODULE,
            "chapters/01-toy/chapter.toml": CHAPTER,
            "chapters/01-toy/test_toy.py": TESTS,
            "chapters/01-toy/lesson.md": "# Toy\n",
            "chapters/01-toy/assignment.md": "# Double\n",
            ".gitignore": "data/\n",
            "data/private.sqlite": "not for students",
            "README.md": "toy course\n",
        },
    )
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def test_handout_stubs_the_chapter_and_copies_everything_else(toy, tmp_path):
    chapter = load_chapters(toy)[0]
    handout = make_handout(toy, chapter, tmp_path / "student")
    student = tmp_path / "student"
    stubbed = (student / "dynamo/toy.py").read_text()
    assert '    raise NotImplementedError("ch01-double: return twice x")' in stubbed
    assert "return 2 * x" not in stubbed and '"""Twice x."""' in stubbed and 'return "kept"' in stubbed
    assert (student / "chapters/01-toy/test_toy.py").read_text() == TESTS
    assert (student / "README.md").is_file()
    assert not (student / "data").exists(), "git-ignored files must stay out of a handout"
    assert not (student / ".git").exists()
    assert [(r.path, r.begin) for r in handout.regions] == [("dynamo/toy.py", 6)]


def test_handout_refuses_a_folder_that_is_not_empty(toy, tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(HandoutError, match="not an empty folder"):
        make_handout(toy, load_chapters(toy)[0], tmp_path / "busy")


def test_handout_refuses_a_chapter_whose_regions_are_missing(toy, tmp_path):
    (toy / "dynamo/toy.py").write_text("def double(x):\n    return 2 * x\n")
    with pytest.raises(HandoutError, match="would be the reference solution"):
        make_handout(toy, load_chapters(toy)[0], tmp_path / "student")
    assert not (tmp_path / "student").exists()


def test_handout_refuses_a_region_that_would_not_parse_and_leaves_nothing(toy, tmp_path):
    broken = MODULE.replace("    return 2 * x\n    # END ASSIGNMENT", "    return (2 *\n    # END ASSIGNMENT\n    x)")
    (toy / "dynamo/toy.py").write_text(broken)
    with pytest.raises(RegionError, match="would not parse"):
        make_handout(toy, load_chapters(toy)[0], tmp_path / "student")
    assert not (tmp_path / "student").exists()


def test_grading_scores_the_reference_and_the_handout(toy, tmp_path):
    chapter = load_chapters(toy)[0]
    reference = grade(chapter, toy)
    assert [r.outcome for r in reference.results] == ["pass", "pass", "pass"]
    assert (reference.score, reference.total) == (10, 10)

    make_handout(toy, chapter, tmp_path / "student")
    student = grade(chapter, tmp_path / "student", tests_from=toy)
    assert [r.outcome for r in student.results] == ["fail", "fail", "fail"]
    assert student.score == 0 and student.all_failed
    assert "ch01-double: return twice x" in student.results[0].message
    simulated = student.results[2]
    assert (simulated.seed, simulated.replay) == (4211, "dynamo sim replay --seed 4211 --scenario toy")

    table = format_report(student)
    assert "test_toy.py::test_double" in table and "0/3" in table and "total" in table
    assert "FAIL (seed 4211)" in table
    assert "replay: dynamo sim replay --seed 4211 --scenario toy" in table


def test_a_parametrised_graded_test_passes_only_if_every_case_does(toy):
    (toy / "dynamo/toy.py").write_text(MODULE.replace("return 2 * x", "return 2 * x if x else 1"))
    results = grade(load_chapters(toy)[0], toy).results
    assert [r.outcome for r in results] == ["pass", "fail", "pass"]


def test_a_test_file_that_does_not_import_errors_every_graded_test_in_it(toy):
    (toy / "dynamo/toy.py").write_text("def keep():\n    return 1\n")
    results = grade(load_chapters(toy)[0], toy).results
    assert [r.outcome for r in results] == ["error", "error", "error"]
    assert "double" in results[0].message


def test_grading_tests_from_a_trusted_copy_ignores_edited_tests(toy, tmp_path):
    chapter = load_chapters(toy)[0]
    make_handout(toy, chapter, tmp_path / "student")
    cheat = tmp_path / "student/chapters/01-toy/test_toy.py"
    cheat.write_text("def test_double():\n    pass\n\ndef test_double_each():\n    pass\n\ndef test_simulated():\n    pass\n")
    assert grade(chapter, tmp_path / "student", tests_from=toy).all_failed


def test_grading_refuses_a_folder_whose_dynamo_is_not_the_one_imported(tmp_path, toy):
    (tmp_path / "no-dynamo-here").mkdir()
    with pytest.raises(GradeError, match="code under test must be"):
        grade(load_chapters(toy)[0], tmp_path / "no-dynamo-here")


def test_the_cli_hands_out_then_grades_and_exits_non_zero_without_full_marks(toy, tmp_path):
    def dynamo_course(*args: str) -> subprocess.CompletedProcess:
        # `dynamo course`, pointed at the toy course instead of this repository.
        script = (
            "import sys, argparse; from pathlib import Path; from dynamo.cli import course;"
            f"course.course_root = lambda: Path({str(toy)!r});"
            "p = argparse.ArgumentParser(); course.register(p.add_subparsers());"
            "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))"
        )
        return subprocess.run(
            [sys.executable, "-c", script, "course", *args], capture_output=True, text=True, cwd=tmp_path
        )

    handout = dynamo_course("handout", "toy", "--out", str(tmp_path / "student"))
    assert handout.returncode == 0, handout.stdout + handout.stderr
    assert "dynamo/toy.py:6  ch01-double" in handout.stdout
    graded = dynamo_course("grade", "01", "--repo", str(tmp_path / "student"))
    assert graded.returncode == 1, graded.stdout + graded.stderr
    assert "total" in graded.stdout and "0/10" in graded.stdout
    again = dynamo_course("handout", "01", "--out", str(tmp_path / "student"))
    assert again.returncode == 2 and "not an empty folder" in again.stderr
