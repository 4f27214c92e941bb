"""The sample outputs in the docs are what the commands print today.

A sample block is marked in the page by the command that prints it:

    <!-- output of: dynamo course grade 01 -->
    ```text
    ...
    ```

(or a ```console block whose first line is `$ ` and the command). For the grader, this
test does what the pages tell a student to do: it makes a handout of chapter 01
(`dynamo course handout 01 --out ...`, which stubs chapter 01 and every later one) and
runs `dynamo course grade NN` inside it with the installed `dynamo`. Other commands
(`python -m dynamo.paxos --sim`, deterministic from its seed) run in the repository.
Every sample is checked against the real output. A sample is an excerpt: its lines must be consecutive lines
of the output, except that a line `...` skips any number of lines, and `...` inside a
line stands for any text. `~/ch01` stands for the handout's folder. Runs of spaces
and of dashes compare equal whatever their length, so a table's column widths, which
follow the longest test name, may differ.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from dynamo.course import GradeReport, TestResult, course_root, format_report, load_chapters
from dynamo.sim.scenarios import SCENARIOS

ROOT = course_root()
DYNAMO = Path(sys.executable).with_name("dynamo")
MARKED = re.compile(r"<!-- output of: (?P<command>[^>]+?) -->\n```(?:text|console)\n(?P<sample>.*?)\n```", re.S)
GRADE = re.compile(r"dynamo course grade \d\d")
PAGES = [
    *sorted((ROOT / "docs").glob("*.md")),
    *(page for chapter in load_chapters(ROOT) for page in (chapter.lesson, chapter.statement)),
]


def _samples() -> list[tuple[str, str, str]]:
    found = []
    for page in PAGES:
        for match in MARKED.finditer(page.read_text(encoding="utf-8")):
            sample = match["sample"].removeprefix(f"$ {match['command']}\n")
            found.append((page.relative_to(ROOT).as_posix(), match["command"], sample))
    return found


SAMPLES = _samples()


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each marked command's output, run inside a fresh handout of chapter 01."""
    handout = tmp_path_factory.mktemp("student") / "ch01"
    made = subprocess.run(
        [str(DYNAMO), "course", "handout", "01", "--out", str(handout)], capture_output=True, text=True, cwd=ROOT
    )
    assert made.returncode == 0, made.stderr
    ran = {}
    for command in sorted({command for _, command, _ in SAMPLES}):
        program, *args = command.split()
        if GRADE.fullmatch(command):
            # From a folder inside the handout, as the pages say: the grader finds the repository.
            done = subprocess.run([str(DYNAMO), *args], capture_output=True, text=True, cwd=handout / "dynamo")
            assert done.returncode == 1, f"{command} on a fresh handout: exit {done.returncode}\n{done.stderr}"
        else:
            assert program == "python", f"a sample of an unknown kind of command: {command}"
            done = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT)
            assert done.returncode == 0, f"{command}: exit {done.returncode}\n{done.stderr}"
        ran[command] = done.stdout.replace(str(handout), "~/ch01")
    return ran


def test_the_docs_have_samples_of_both_kinds_of_feedback():
    pages = {page for page, _, _ in SAMPLES}
    assert {"docs/start-here.md", "chapters/01-storage/assignment.md"} <= pages, pages
    assert any("yours: " in sample for _, _, sample in SAMPLES), "a sample of the feedback on an exception"


@pytest.mark.parametrize(("page", "command", "sample"), SAMPLES, ids=[f"{p}:{i}" for i, (p, _, _) in enumerate(SAMPLES)])
def test_a_sample_output_is_what_the_command_prints(page, command, sample, outputs):
    output = outputs[command].splitlines()
    problem = _mismatch(sample.splitlines(), output)
    assert problem is None, f"{page}: the sample of `{command}` has drifted: {problem}\n--- real output:\n" + "\n".join(output)


def test_the_replay_line_in_start_here_is_what_the_score_table_prints():
    page = (ROOT / "docs" / "start-here.md").read_text(encoding="utf-8")
    line = re.search(r"^seed (\d+); replay: (dynamo sim replay --seed \1 --scenario (\S+))$", page, re.M)
    assert line is not None and line[3] in SCENARIOS, "start-here.md shows a replay line for a real scenario"
    chapter = next(c for c in load_chapters(ROOT) if c.number == 3)
    result = TestResult(chapter.graded[-1], "fail", "diverged", seed=int(line[1]), replay=line[2])
    assert line[0] in format_report(GradeReport(chapter, ROOT, (result,))).splitlines()


def _mismatch(sample: list[str], output: list[str]) -> str | None:
    """Why `sample` is not an excerpt of `output` (None when it is)."""
    output = [_loose(line) for line in output]
    patterns = [
        None if line == "..." else re.compile(".*".join(map(re.escape, _loose(line).split("..."))))
        for line in sample
    ]
    first = patterns[0]
    starts = [i for i, line in enumerate(output) if first is not None and first.fullmatch(line)]
    for start in starts:
        if _matches_from(patterns, output, start):
            return None
    return f"no place in the output matches the sample from its first line {sample[0]!r} on"


def _loose(line: str) -> str:
    """The line with every run of spaces, and of three dashes or more, made one."""
    return re.sub(r"-{3,}", "---", re.sub(r" +", " ", line.rstrip()))


def _matches_from(patterns: list[re.Pattern[str] | None], output: list[str], at: int) -> bool:
    if not patterns:
        return True
    head, *rest = patterns
    if head is None:  # `...`: skip any number of lines
        return any(_matches_from(rest, output, skip) for skip in range(at, len(output) + 1))
    return at < len(output) and head.fullmatch(output[at]) is not None and _matches_from(rest, output, at + 1)
