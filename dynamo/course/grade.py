"""Grading: run a chapter's graded tests against a copy of the code and score them.

`dynamo course grade 02`, run inside a student's handout (or `--repo DIR`), runs the
graded test files of chapter 02 with pytest in a subprocess whose working directory
and PYTHONPATH are the copy, so the `dynamo` under test is the copy's, not the one
installed in the virtualenv. The tests themselves come from the course repository the
grader trusts (`tests_from`): when that is not the copy, the chapter folder is copied
beside the run, so a student cannot grade themselves with edited tests. Before running
anything, `preflight.py` refuses to grade the wrong code: a copy whose `import dynamo`
is not its own, a copy that still holds the chapter's reference solution (unless
`allow_reference`, which only the CI honesty check uses), and a copy whose chapter
differs from the trusted course's.

A test that fails on an exception it did not expect is explained by `feedback.py`: the
check's sentence, the test's line and the deepest line of the student's code.

Outcomes are read from pytest's JUnit XML report. A graded test that names a whole
function covers all its parametrised cases; it passes only if every case does.
Simulated tests print a line `replay: <command>` when they fail (the seed and the
one command that replays the run); the score table shows the seed and that command.
`seed` sets DYNAMO_LAB_SEED for the run, so instructors can grade on seeds the
students have not seen.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from dynamo.course import feedback
from dynamo.course.chapters import Chapter, GradedTest
from dynamo.course.feedback import Feedback, read_feedback
from dynamo.course.preflight import (
    GradeError,
    check_code_under_test,
    check_not_reference,
    check_same_course,
    student_files,
)

SEED_VARIABLE = "DYNAMO_LAB_SEED"
# pytest-timeout, so a graded test that hangs fails instead of stalling the grader.
PLUGINS = ("-p", "pytest_timeout") if importlib.util.find_spec("pytest_timeout") else ()
REPLAY = re.compile(r"replay:\s*(?P<command>\S.*)$", re.MULTILINE)
SEED = re.compile(r"(?:--seed[ =]|seed[ =:]+)(?P<seed>\d+)", re.IGNORECASE)
CAPTURED = re.compile(r"^-+ Captured (?P<stream>[\w ]+?) -+$")
MESSAGE_LINES = 30


@dataclass(frozen=True)
class TestResult:
    """The outcome of one graded test: "pass", "fail", "error" or "missing"."""

    graded: GradedTest
    outcome: str
    message: str = ""
    seed: int | None = None
    replay: str | None = None

    __test__ = False  # not a pytest test class, whatever its name

    @property
    def passed(self) -> bool:
        return self.outcome == "pass"

    @property
    def earned(self) -> int:
        return self.graded.points if self.passed else 0


@dataclass(frozen=True)
class GradeReport:
    """A chapter's score on one copy of the code."""

    chapter: Chapter
    repo: Path
    results: tuple[TestResult, ...]

    @property
    def score(self) -> int:
        return sum(result.earned for result in self.results)

    @property
    def total(self) -> int:
        return self.chapter.total_points

    @property
    def all_passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def all_failed(self) -> bool:
        return not any(result.passed for result in self.results)


def grade(
    chapter: Chapter,
    repo: Path,
    *,
    tests_from: Path | None = None,
    seed: int | None = None,
    allow_reference: bool = False,
) -> GradeReport:
    """Run `chapter`'s graded tests against the code in `repo`."""
    return grade_many([chapter], repo, tests_from=tests_from, seed=seed, allow_reference=allow_reference)[0]


def grade_many(
    chapters: list[Chapter],
    repo: Path,
    *,
    tests_from: Path | None = None,
    seed: int | None = None,
    allow_reference: bool = False,
) -> list[GradeReport]:
    """Grade several chapters in one pytest run (one report per chapter).

    `allow_reference` lets the code under test be the reference solution: the CI
    honesty check grades the reference on purpose; a student's grade never should.
    """
    repo = repo.resolve()
    trusted = (tests_from or repo).resolve()
    with tempfile.TemporaryDirectory(prefix="dynamo-grade-") as folder:
        scratch = Path(folder)
        env = _environment(repo, seed, scratch, student_files(trusted, chapters))
        check_code_under_test(repo, env)
        check_same_course(chapters, repo, trusted)
        if not allow_reference:
            check_not_reference(chapters, repo, trusted)
        tests_root = _tests_root(chapters, repo, tests_from, scratch)
        report = scratch / "junit.xml"
        _run_pytest(chapters, repo, tests_root, report, env, trusted / "pyproject.toml")
        cases = _read_junit(report)
        explained = read_feedback(Path(env[feedback.OUTPUT_VARIABLE]))
    return [GradeReport(chapter, repo, _results(chapter, cases, explained)) for chapter in chapters]


def _environment(repo: Path, seed: int | None, scratch: Path, mine: list[str]) -> dict[str, str]:
    env = dict(os.environ)
    plugins = scratch / "plugins"
    plugins.mkdir()
    shutil.copyfile(feedback.__file__, plugins / f"{feedback.PLUGIN_NAME}.py")
    # The copy first, so `import dynamo` is the student's; then the feedback plugin's folder.
    env["PYTHONPATH"] = os.pathsep.join([str(repo), str(plugins), *filter(None, [env.get("PYTHONPATH")])])
    env[feedback.OUTPUT_VARIABLE] = str(scratch / "feedback.jsonl")
    env[feedback.FILES_VARIABLE] = os.pathsep.join(str(repo / name) for name in mine)
    env[feedback.ROOT_VARIABLE] = str(repo)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTEST_ADDOPTS", None)
    # Only the plugins graded tests need: loading every installed one (hypothesis,
    # faker...) costs seconds per run, and a grader runs many.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    if seed is not None:
        env[SEED_VARIABLE] = str(seed)
    return env


def _tests_root(chapters: list[Chapter], repo: Path, tests_from: Path | None, scratch: Path) -> Path:
    """Where the graded test files are run from: repo itself, or a copy of the trusted ones."""
    source = (tests_from or repo).resolve()
    if source == repo:
        return repo
    root = scratch / "course"
    for chapter in chapters:
        shutil.copytree(
            chapter.folder, root / "chapters" / chapter.name, ignore=shutil.ignore_patterns("__pycache__")
        )
    return root


def _run_pytest(
    chapters: list[Chapter], repo: Path, tests_root: Path, report: Path, env: dict[str, str], config: Path
) -> None:
    files = [f"chapters/{chapter.name}/{name}" for chapter in chapters for name in chapter.graded_files]
    missing = [name for name in files if not (tests_root / name).is_file()]
    if missing:
        raise GradeError(f"graded test files not found under {tests_root}: {missing}")
    command = [
        sys.executable,
        "-m",
        "pytest",
        *(str(tests_root / name) for name in files),
        f"--rootdir={tests_root}",
        f"--junitxml={report}",
        "-o",
        "junit_logging=all",
        "-o",
        "junit_family=xunit2",
        "-p",
        "no:cacheprovider",
        "-p",
        feedback.PLUGIN_NAME,
        *PLUGINS,
        "-q",
        "--tb=short",
        "-rN",
    ]
    if config.is_file():  # the trusted repository's pytest settings (timeouts, markers)
        command += ["-c", str(config)]
    subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
    if not report.is_file():
        raise GradeError("pytest wrote no report; run the graded tests by hand to see why")


@dataclass(frozen=True)
class _Case:
    classname: str
    name: str
    outcome: str
    text: str
    message: str


def _read_junit(report: Path) -> list[_Case]:
    cases = []
    for case in ElementTree.parse(report).iter("testcase"):
        outcome, message, text = "pass", "", ""
        for child in case:
            if child.tag in {"failure", "error", "skipped"}:
                outcome = {"failure": "fail", "error": "error", "skipped": "skipped"}[child.tag]
                message = child.get("message", "")
                text += (child.text or "") + "\n"
            elif child.tag in {"system-out", "system-err"}:
                text += (child.text or "") + "\n"
        cases.append(_Case(case.get("classname", ""), case.get("name", ""), outcome, text, message))
    return cases


def _results(
    chapter: Chapter, cases: list[_Case], explained: dict[tuple[str, str], Feedback]
) -> tuple[TestResult, ...]:
    return tuple(_result(chapter, graded, cases, explained) for graded in chapter.graded)


def _result(
    chapter: Chapter, graded: GradedTest, cases: list[_Case], explained: dict[tuple[str, str], Feedback]
) -> TestResult:
    module = f"chapters.{chapter.name}.{graded.file.removesuffix('.py').replace('/', '.')}"
    broken = [case for case in cases if not case.classname and case.name == module]
    if broken:  # the file did not even import: every graded test in it errors
        return TestResult(graded, "error", _short(broken[0].text or broken[0].message))
    mine = [case for case in cases if _covers(graded, module, case)]
    if not mine:
        return TestResult(graded, "missing", f"{graded.test} did not run (renamed or deselected?)")
    failed = [case for case in mine if case.outcome != "pass"]
    if not failed:
        return TestResult(graded, "pass")
    first = failed[0]
    outcome = "fail" if first.outcome == "skipped" else first.outcome
    replay = REPLAY.search(first.text)
    seed = SEED.search(replay["command"] if replay else first.text)
    case = f"{first.name}: " if len(mine) > 1 else ""
    return TestResult(
        graded,
        outcome,
        case + _message(first, explained.get((first.classname, first.name))),
        seed=int(seed["seed"]) if seed else None,
        replay=replay["command"].strip() if replay else None,
    )


def _covers(graded: GradedTest, module: str, case: _Case) -> bool:
    """Whether a JUnit test case is (a parametrised case of) the graded test."""
    *classes, function = graded.names or ("",)
    if case.classname != ".".join([module, *classes]):
        return False
    if not function:
        return True
    return case.name == function or case.name.startswith(function + "[")


def _message(case: _Case, explained: Feedback | None) -> str:
    """An unexpected exception explained (check, test line, the student's line), else pytest's `E` lines."""
    if explained is None or not explained.unexpected:
        return _short(case.text or case.message)
    return "\n".join([*explained.explain(), *_captured(case.text.strip().splitlines())])


def _short(text: str) -> str:
    """What a student needs from a failure: the `E` lines pytest wrote, then what the test printed."""
    lines = text.strip().splitlines()
    errors = [line[4:] if line.startswith("E   ") else line[1:].strip() for line in lines if line.startswith("E ")]
    printed = _captured(lines)
    kept = (errors or [line for line in lines if line.strip()][-MESSAGE_LINES:]) + printed
    if len(kept) > MESSAGE_LINES:
        kept = kept[:MESSAGE_LINES] + [f"... ({len(kept) - MESSAGE_LINES} more lines)"]
    return "\n".join(kept)


def _captured(lines: list[str]) -> list[str]:
    """The non-empty lines of the captured stdout/stderr sections of a JUnit failure text."""
    kept: list[str] = []
    inside = False
    for line in lines:
        header = CAPTURED.match(line)
        if header is not None:
            inside = header["stream"] in {"Out", "Err", "stdout call", "stderr call"}
        elif inside and line.strip():
            kept.append(line.rstrip())
    return kept


def format_report(report: GradeReport) -> str:
    """The score table, then why each failing test failed."""
    chapter = report.chapter
    rows = [(result.graded.test, f"{result.earned}/{result.graded.points}", _verdict(result)) for result in report.results]
    width = max(len("test"), *(len(row[0]) for row in rows))
    lines = [
        f"Chapter {chapter.number}: {chapter.title}",
        f"code under test: {report.repo}",
        "",
        f"{'test':<{width}}  points  result",
        f"{'-' * width}  ------  ------",
        *(f"{test:<{width}}  {points:>6}  {verdict}" for test, points, verdict in rows),
        f"{'-' * width}  ------  ------",
        f"{'total':<{width}}  {f'{report.score}/{report.total}':>6}",
    ]
    for result in report.results:
        if not result.passed:
            lines += ["", f"--- {result.graded.test}: {result.outcome}", result.message]
            if result.replay:
                lines.append(f"seed {result.seed}; replay: {result.replay}")
    return "\n".join(lines)


def _verdict(result: TestResult) -> str:
    if result.passed:
        return "pass"
    verdict = result.outcome.upper()
    if result.seed is not None:
        verdict += f" (seed {result.seed})"
    return verdict
