"""Handout and grading on a small course repository built in tmp_path.

The toy repository has its own `dynamo` package with two chapters, each with one
assignment region and graded tests, so these tests check the machinery itself: what
a handout copies and stubs (for a term, or one chapter only), that grading imports the
graded copy's code and refuses the wrong code, how the score table reports passes,
failures, parametrised tests and replay commands, and how an unexpected exception in
the student's code is explained.
"""

import os
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
from dynamo.course.handout import term_chapters

MODULE = '''\
"""A toy layer."""


def double(x: int) -> int:
    """Twice x."""
    # BEGIN ASSIGNMENT ch01-double: return twice x
    twice = x + x
    return twice
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

HALF = '''\
"""A later toy layer."""


def half(x: int) -> int:
    """Half of x."""
    # BEGIN ASSIGNMENT ch02-half: return half of x
    halved = x // 2
    return halved
    # END ASSIGNMENT
'''

CHAPTER_2 = """\
number = 2
slug = "half"
title = "A later toy chapter"
layer = "dynamo.half"
demo = "python -m dynamo.half"
paper = ["§2"]
prerequisites = ["01-toy"]
goals = ["Halve a number"]
readings = []
[[assignment]]
id = "ch02-half"
title = "half"
[[graded]]
test = "test_half.py::test_half"
points = 1
"""

TESTS_2 = """\
from dynamo.half import half


def test_half():
    assert half(4) == 2
"""

TESTS = '''\
import pytest

from dynamo.toy import double


def test_double():
    """Doubling two gives four: twice the number."""
    result = double(2)
    assert result == 4, "double(2) should be 4: twice the number"


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
            "dynamo/half.py": HALF,
            "chapters/02-half/chapter.toml": CHAPTER_2,
            "chapters/02-half/test_half.py": TESTS_2,
            "chapters/02-half/lesson.md": "# Half\n",
            "chapters/02-half/assignment.md": "# Half\n",
            ".gitignore": "data/\n",
            "data/private.sqlite": "not for students",
            "README.md": "toy course\n",
        },
    )
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=True).stdout


def test_handout_stubs_the_chapter_and_copies_everything_else(toy, tmp_path):
    chapter = load_chapters(toy)[0]
    handout = make_handout(toy, chapter, tmp_path / "student")
    student = tmp_path / "student"
    stubbed = (student / "dynamo/toy.py").read_text()
    assert '    raise NotImplementedError("ch01-double: return twice x")' in stubbed
    assert "twice = x + x" not in stubbed and '"""Twice x."""' in stubbed and 'return "kept"' in stubbed
    assert (student / "chapters/01-toy/test_toy.py").read_text() == TESTS
    assert (student / "README.md").is_file()
    assert not (student / "data").exists(), "git-ignored files must stay out of a handout"
    assert [(r.path, r.begin) for r in handout.regions] == [("dynamo/toy.py", 6)]
    assert (student / "dynamo/half.py").read_text() == HALF, "without `later`, only the chapter is stubbed"


def test_a_handout_is_a_git_repository_with_one_commit_of_everything(toy, tmp_path):
    make_handout(toy, load_chapters(toy)[0], tmp_path / "student")
    student = tmp_path / "student"
    assert len(_git(student, "log", "--format=%s").splitlines()) == 1
    assert _git(student, "log", "--format=%s") == "Handout: chapter 01, A toy chapter\n"
    assert _git(student, "status", "--porcelain") == "", "every file of the handout is in its commit"
    (student / "dynamo/toy.py").write_text(MODULE)
    assert "+    twice = x + x" in _git(student, "diff"), "git diff shows the student's work"


def test_a_term_handout_stubs_every_later_chapter_too(toy, tmp_path):
    first, second = load_chapters(toy)
    handout = make_handout(toy, first, tmp_path / "student", later=term_chapters([first, second], first))
    student = tmp_path / "student"
    assert handout.chapters == ("01-toy", "02-half")
    assert [(r.path, r.id) for r in handout.regions] == [("dynamo/half.py", "ch02-half"), ("dynamo/toy.py", "ch01-double")]
    for name, answer in (("dynamo/toy.py", "twice = x + x"), ("dynamo/half.py", "halved = x // 2")):
        text = (student / name).read_text()
        assert answer not in text and "BEGIN ASSIGNMENT" not in text, f"{name} still holds a solution"
    assert term_chapters([first, second], second) == []


def test_handout_refuses_a_folder_that_is_not_empty(toy, tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(HandoutError, match="not an empty folder"):
        make_handout(toy, load_chapters(toy)[0], tmp_path / "busy")


def test_handout_refuses_a_chapter_whose_regions_are_missing(toy, tmp_path):
    (toy / "dynamo/toy.py").write_text("def double(x):\n    return x + x\n")
    with pytest.raises(HandoutError, match="would be the reference solution"):
        make_handout(toy, load_chapters(toy)[0], tmp_path / "student")
    assert not (tmp_path / "student").exists()


def test_handout_refuses_a_region_that_would_not_parse_and_leaves_nothing(toy, tmp_path):
    broken = MODULE.replace("    return twice\n    # END ASSIGNMENT", "    return (twice\n    # END ASSIGNMENT\n    )")
    (toy / "dynamo/toy.py").write_text(broken)
    with pytest.raises(RegionError, match="would not parse"):
        make_handout(toy, load_chapters(toy)[0], tmp_path / "student")
    assert not (tmp_path / "student").exists()


def test_grading_scores_the_reference_and_the_handout(toy, tmp_path):
    chapter = load_chapters(toy)[0]
    reference = grade(chapter, toy, allow_reference=True)
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
    (toy / "dynamo/toy.py").write_text(MODULE.replace("return twice", "return twice if x else 1"))
    results = grade(load_chapters(toy)[0], toy, allow_reference=True).results  # the course repository itself
    assert [r.outcome for r in results] == ["pass", "fail", "pass"]


def test_a_test_file_that_does_not_import_errors_every_graded_test_in_it(toy):
    (toy / "dynamo/toy.py").write_text("def keep():\n    return 1\n")
    results = grade(load_chapters(toy)[0], toy, allow_reference=True).results  # the course repository itself
    assert [r.outcome for r in results] == ["error", "error", "error"]
    assert "double" in results[0].message


def test_grading_refuses_code_that_still_holds_the_reference_solution(toy, tmp_path):
    chapter = load_chapters(toy)[0]
    with pytest.raises(GradeError, match=r"still holds the reference solution of 01-toy: dynamo/toy.py:6 \(ch01-double\)"):
        grade(chapter, toy)
    # The reference without its markers, re-indented, is still the reference.
    make_handout(toy, chapter, tmp_path / "copied")
    (tmp_path / "copied/dynamo/toy.py").write_text(MODULE.replace("    twice", "        twice").replace("# BEGIN", "# b"))
    with pytest.raises(GradeError, match="--allow-reference"):
        grade(chapter, tmp_path / "copied", tests_from=toy)
    # The chapter-02 reference is in a chapter-01 handout made with later=(): ch02 is refused, ch01 graded.
    make_handout(toy, chapter, tmp_path / "student")
    with pytest.raises(GradeError, match="reference solution of 02-half"):
        grade(load_chapters(toy)[1], tmp_path / "student", tests_from=toy)
    assert grade(chapter, tmp_path / "student", tests_from=toy).all_failed


def test_grading_refuses_a_copy_whose_graded_tests_differ_from_the_installed_course(toy, tmp_path):
    chapter = load_chapters(toy)[0]
    make_handout(toy, chapter, tmp_path / "student")
    cheat = tmp_path / "student/chapters/01-toy/test_toy.py"
    cheat.write_text("def test_double():\n    pass\n\ndef test_double_each():\n    pass\n\ndef test_simulated():\n    pass\n")
    with pytest.raises(GradeError, match=r"disagree on chapters/01-toy/test_toy.py: .*git diff"):
        grade(chapter, tmp_path / "student", tests_from=toy)


def test_an_unexpected_exception_shows_the_check_the_test_line_and_the_students_line(toy, tmp_path):
    chapter = load_chapters(toy)[0]
    make_handout(toy, chapter, tmp_path / "student")
    wrong = MODULE.replace(
        "    twice = x + x\n", "    twice = _twice(x)\n"
    ) + "\n\ndef _twice(x):\n    table = {1: 2}\n    return table[x]\n"
    (tmp_path / "student/dynamo/toy.py").write_text(wrong)
    report = grade(chapter, tmp_path / "student", tests_from=toy)
    result = report.results[0]
    line = wrong.splitlines().index("    return table[x]") + 1
    test_line = TESTS.splitlines().index("    result = double(2)") + 1
    assert result.outcome == "fail"
    assert result.message.splitlines() == [
        "check: Doubling two gives four: twice the number.",
        f"test:  chapters/01-toy/test_toy.py:{test_line} in test_double",
        "         result = double(2)",
        f"yours: dynamo/toy.py:{line} in _twice",
        "         return table[x]",
        "KeyError: 2",
    ]
    assert f"yours: dynamo/toy.py:{line} in _twice" in format_report(report)


def test_a_student_grading_with_the_copys_own_dynamo_sees_their_line_and_where_it_raised(toy, tmp_path):
    """The handout is then the course too: its regions are gone, its first commit names the files."""
    chapter = load_chapters(toy)[0]
    make_handout(toy, chapter, tmp_path / "student")
    student = tmp_path / "student"
    (student / "dynamo/table.py").write_text("def lookup(x):\n    return {1: 2}[x]\n")
    stub = '    raise NotImplementedError("ch01-double: return twice x")\n'
    mine = "    from dynamo.table import lookup\n    twice = lookup(x)\n    return twice\n"
    wrong = (student / "dynamo/toy.py").read_text().replace(stub, mine)  # the student's code replaces the stub
    (student / "dynamo/toy.py").write_text(wrong)
    result = grade(chapter, student).results[0]  # tests_from: the copy itself
    line = wrong.splitlines().index("    twice = lookup(x)") + 1
    assert f"yours: dynamo/toy.py:{line} in double" in result.message.splitlines(), result.message
    assert "raised: dynamo/table.py:2 in lookup" in result.message.splitlines(), result.message


def test_grading_refuses_a_folder_whose_dynamo_is_not_the_one_imported(tmp_path, toy):
    (tmp_path / "no-dynamo-here").mkdir()
    with pytest.raises(GradeError, match="code under test must be"):
        grade(load_chapters(toy)[0], tmp_path / "no-dynamo-here")


def _cli(toy: Path):
    def dynamo_course(*args: str, cwd: Path) -> subprocess.CompletedProcess:
        # `dynamo course`, pointed at the toy course instead of this repository.
        script = (
            "import sys, argparse; from pathlib import Path; from dynamo.cli import course;"
            f"course.course_root = lambda: Path({str(toy)!r});"
            "p = argparse.ArgumentParser(); course.register(p.add_subparsers());"
            "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))"
        )
        # This repository on PYTHONPATH: the `dynamo` running the command is this one, as installed.
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        return subprocess.run(
            [sys.executable, "-c", script, "course", *args], capture_output=True, text=True, cwd=cwd, env=env
        )

    return dynamo_course


def test_the_cli_hands_out_then_grades_and_exits_non_zero_without_full_marks(toy, tmp_path):
    cli = _cli(toy)

    def dynamo_course(*args: str) -> subprocess.CompletedProcess:
        return cli(*args, cwd=tmp_path)

    handout = dynamo_course("handout", "toy", "--out", str(tmp_path / "student"))
    assert handout.returncode == 0, handout.stdout + handout.stderr
    assert "dynamo/toy.py:6  ch01-double" in handout.stdout and "dynamo/half.py:6  ch02-half" in handout.stdout
    assert f"cd {tmp_path / 'student'} && dynamo course grade 01" in handout.stdout
    graded = dynamo_course("grade", "01", "--repo", str(tmp_path / "student"))
    assert graded.returncode == 1, graded.stdout + graded.stderr
    assert "total" in graded.stdout and "0/10" in graded.stdout
    again = dynamo_course("handout", "01", "--out", str(tmp_path / "student"))
    assert again.returncode == 2 and "not an empty folder" in again.stderr
    only = dynamo_course("handout", "01", "--only", "--out", str(tmp_path / "only"))
    assert only.returncode == 0 and "ch02-half" not in only.stdout, only.stdout + only.stderr
    assert (tmp_path / "only/dynamo/half.py").read_text() == HALF


def test_grade_grades_the_repository_of_the_current_directory(toy, tmp_path):
    dynamo_course = _cli(toy)
    assert dynamo_course("handout", "01", "--out", str(tmp_path / "student"), cwd=tmp_path).returncode == 0
    (tmp_path / "student/dynamo/toy.py").write_text(MODULE.replace("twice = x + x", "twice = x * 2"))
    inside = tmp_path / "student/chapters"  # any folder of the copy will do
    graded = dynamo_course("grade", "01", cwd=inside)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert f"code under test: {tmp_path / 'student'}" in graded.stdout and "10/10" in graded.stdout
    reference = dynamo_course("grade", "01", cwd=toy)
    assert reference.returncode == 2 and "still holds the reference solution" in reference.stderr
    allowed = dynamo_course("grade", "01", "--allow-reference", cwd=toy)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    nowhere = dynamo_course("grade", "01", cwd=tmp_path)
    assert nowhere.returncode == 2 and "cd into your handout" in nowhere.stderr
