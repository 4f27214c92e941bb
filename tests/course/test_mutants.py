"""Mutation testing of the assignment regions (`dynamo course mutants`), and the CI check.

The check: for every chapter that exists, each mutant of its regions is killed by a
graded test or listed in its chapter.toml as `[[equivalent]]` with a reason, and no
listed equivalent is stale. It runs the real command in a subprocess, as an
instructor would. The other tests pin down the mutator (which mistakes it plants,
that ids stay put) and show that the runner reports a survivor and fails on it.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dynamo.course import course_root, load_chapters
from dynamo.course.mutants import (
    Equivalent,
    MutationReport,
    Outcome,
    apply,
    format_mutation_report,
    mutants_of,
)
from dynamo.course.regions import find_regions

ROOT = course_root()
CHAPTERS = load_chapters(ROOT)

SOURCE = '''
def quorum_time(sent: list[float], quorum: int, lease: float) -> float:
    """Docstrings and code outside the region are never mutated: 1 + 1."""
    outside = 1 + 1
    # BEGIN ASSIGNMENT demo-lease: the quorum-th latest send time, plus the lease
    times: list[float] = sorted(sent, reverse=True)
    if len(times) < quorum or not lease:
        return float("-inf")
    return times[quorum - 1] + lease
    # END ASSIGNMENT
'''


def demo_mutants(tmp_path: Path, source: str = SOURCE):
    (tmp_path / "demo.py").write_text(source, encoding="utf-8")
    return mutants_of(tmp_path, find_regions(source, "demo.py"))


def run(function_source: str, *args):
    namespace: dict = {}
    exec(compile(function_source, "<mutant>", "exec"), namespace)
    return namespace["quorum_time"](*args)


def test_the_mutator_plants_each_kind_of_mistake_inside_the_region_only(tmp_path: Path) -> None:
    mutants = demo_mutants(tmp_path)
    ids = [mutant.id for mutant in mutants]
    assert len(ids) == len(set(ids)), f"mutant ids must be unique: {ids}"
    by_mutation = {mutant.mutation: mutant for mutant in mutants}
    expected = {
        "Lt->LtE": "if len(times) <= quorum or not lease:",  # a boundary moved
        "Lt->GtE": "if len(times) >= quorum or not lease:",  # a comparison negated
        "Or->And": "if len(times) < quorum and (not lease):",
        "drop-Not": "if len(times) < quorum or lease:",
        "Sub->Add": "return times[quorum + 1] + lease",  # an operator swapped
        "1->0": "return times[quorum - 0] + lease",  # off by one
        "1->2": "return times[quorum - 2] + lease",
        "index->0": "return times[0] + lease",  # a different index
        "True->False": "times: list[float] = sorted(sent, reverse=False)",
        "return-None": "return None",
        "drop-If": "pass",  # a dropped statement
    }
    for mutation, statement in expected.items():
        assert mutation in by_mutation, f"no {mutation} mutant among {ids}"
        assert by_mutation[mutation].source == statement, (mutation, by_mutation[mutation].source)
    lines = {mutant.line for mutant in mutants}
    assert lines <= set(range(6, 10)), f"mutants outside the region's lines 6-9: {sorted(lines)}"
    assert not any("float]" in mutant.source and "list[" not in mutant.source for mutant in mutants)
    assert not [m for m in mutants if m.line == 6 and m.mutation.startswith("index")], \
        "a local's annotation (list[float]) never runs: it must not be mutated"


def test_a_mutant_behaves_differently_from_the_reference(tmp_path: Path) -> None:
    mutants = {mutant.mutation: mutant for mutant in demo_mutants(tmp_path)}
    tree = ast.parse(SOURCE)
    reference = run(SOURCE, [100.0, 300.0, 200.0], 2, 1000.0)
    assert reference == 1200.0
    own_latest = ast.unparse(apply(tree, mutants["index->0"].site, "index->0"))
    assert run(own_latest, [100.0, 300.0, 200.0], 2, 1000.0) == 1300.0
    assert ast.unparse(tree) == ast.unparse(ast.parse(SOURCE)), "apply must not change the tree it is given"


def test_mutant_ids_do_not_change_when_code_above_the_region_does(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    before = [mutant.id for mutant in demo_mutants(tmp_path / "a")]
    shifted = SOURCE.replace("    outside = 1 + 1\n", "    outside = 1 + 1\n    more = 2\n    again = 3\n")
    after = [mutant.id for mutant in demo_mutants(tmp_path / "b", shifted)]
    assert before == after
    assert "demo-lease:quorum_time+4:index->0" in before, before


def report_with(equivalents: tuple[Equivalent, ...], tmp_path: Path) -> MutationReport:
    mutants = {mutant.mutation: mutant for mutant in demo_mutants(tmp_path)}
    outcomes = (
        Outcome(mutants["Lt->LtE"], "killed", "test_demo.py::test_boundary"),
        Outcome(mutants["Or->And"], "survived"),
        Outcome(mutants["drop-Not"], "survived"),
    )
    return MutationReport(CHAPTERS[0], outcomes, equivalents, seconds=1.0)


def test_the_report_fails_on_an_unlisted_survivor_and_on_a_stale_equivalent(tmp_path: Path) -> None:
    survivor = "demo-lease:quorum_time+2:Or->And"
    listed = Equivalent("demo-lease:quorum_time+2:drop-Not", "a lease of 0 is never configured")
    report = report_with((listed,), tmp_path)
    assert not report.ok and [o.mutant.id for o in report.unlisted] == [survivor]
    text = format_mutation_report(report)
    assert "mutants 3, killed 1, equivalent 1, unlisted survivors 1\n" in text
    assert f"SURVIVED {survivor}" in text and "demo.py:7: if len(times) < quorum and (not lease):" in text
    both = (listed, Equivalent(survivor, "when ..."))
    assert report_with(both, tmp_path).ok
    stale = report_with((*both, Equivalent("demo-lease:quorum_time+1:gone", "old")), tmp_path)
    assert not stale.ok and "STALE [[equivalent]] demo-lease:quorum_time+1:gone" in format_mutation_report(stale)


WEAK_CHAPTER = """
number = 1
slug = "storage"
title = "A weak grader"
layer = "dynamo.storage"
demo = "python -m dynamo.storage"
paper = ["§3"]
prerequisites = []
goals = ["g"]
readings = ["r"]

[[assignment]]
id = "ch01-functions"
title = "begins_with and size"

[[graded]]
test = "test_weak.py::test_a_prefix_matches"
points = 1

[[equivalent]]
mutant = "ch01-functions:size+9:drop-Return"
reason = "listed here to show that a listed survivor is not reported"
"""

WEAK_TEST = '''
from dynamo.storage.expressions.conditions import begins_with

def test_a_prefix_matches():
    assert begins_with({"S": "Spiegel"}, {"S": "Spi"})
'''


def mutation_script(folder: Path) -> str:
    """A program that mutation-tests the chapter in `folder` against this repository's code."""
    return textwrap.dedent(f"""
        from pathlib import Path
        from dynamo.course import course_root
        from dynamo.course.chapters import load_chapter
        from dynamo.course.mutants import format_mutation_report, run_mutants
        report = run_mutants(course_root(), load_chapter(Path({str(folder)!r})))
        print(format_mutation_report(report, verbose=True))
    """)


def test_a_weak_grader_leaves_survivors_and_the_command_fails(tmp_path: Path) -> None:
    """End to end, in a real process: a chapter whose one graded test checks only that a
    prefix matches lets most of begins_with's and all of size's mutants survive."""
    folder = tmp_path / "01-storage"
    folder.mkdir()
    (folder / "chapter.toml").write_text(WEAK_CHAPTER, encoding="utf-8")
    (folder / "test_weak.py").write_text(WEAK_TEST, encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", mutation_script(folder)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.search(r"killed +[0-9.]+ s  ch01-functions:begins_with\+1:drop-Assign  test_weak.py::test_a_prefix_matches", out), out
    assert re.search(r"killed +[0-9.]+ s  ch01-functions:begins_with\+4:Eq->NotEq  test_weak.py", out), out  # S is checked
    assert "SURVIVED ch01-functions:begins_with+6:Eq->NotEq" in out, out  # the B case is not
    assert "SURVIVED ch01-functions:size+2:Eq->NotEq" in out, out  # nor is size at all
    assert "SURVIVED ch01-functions:size+9:drop-Return" not in out, "a listed equivalent is not reported"
    assert "unlisted survivors 0" not in out


EARLY_TEST = '''
from dynamo.storage.expressions.conditions import begins_with

EXPECTED = begins_with({"S": "Spiegel"}, {"S": "Spi"})  # computed from the reference: mutants would agree


def test_a_prefix_matches():
    assert begins_with({"S": "Spiegel"}, {"S": "Spi"}) == EXPECTED
'''


def test_a_graded_test_that_calls_the_assignment_at_import_time_is_refused(tmp_path: Path) -> None:
    """Tests are collected once, before the mutants run: expectations computed at import time
    would come from the reference and agree with every mutant, so the command refuses."""
    folder = tmp_path / "01-storage"
    folder.mkdir()
    (folder / "chapter.toml").write_text(WEAK_CHAPTER, encoding="utf-8")
    (folder / "test_weak.py").write_text(EARLY_TEST, encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", mutation_script(folder)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode != 0 and "MutationError" in done.stderr, done.stdout + done.stderr
    assert "called while the graded tests were imported: call the assignment inside a test" in done.stderr


LEASE_ON_OWN_HEARTBEAT = """
import sys
sys.path.insert(0, "chapters/03-paxos")
import dynamo.paxos.lease as lease
from test_ch03_lease import test_leases_never_overlap_through_failovers

def own_latest(granted_sent_at, quorum, lease_ms, drift):
    times = sorted(granted_sent_at, reverse=True)
    return times[0] + lease_ms * (1 - drift) if len(times) >= quorum else float("-inf")

lease.leader_lease_until.__code__ = own_latest.__code__
test_leases_never_overlap_through_failovers()
"""


def test_the_simulated_lease_test_catches_a_lease_on_the_leaders_own_heartbeat() -> None:
    """A lease resting on the leader's own latest heartbeat, not the quorum-th latest grant,
    breaks the lease on an isolated leader: the simulated graded test must see it by itself."""
    done = subprocess.run([sys.executable, "-c", LEASE_ON_OWN_HEARTBEAT], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env={**os.environ, "DYNAMO_LAB_QUICK_FAILURE": "1"})
    assert done.returncode != 0, "the simulated lease test passed a lease on the leader's own heartbeat"
    assert "of paxos-isolation" in done.stderr, done.stderr[-2000:]
    assert "replay: dynamo sim replay --seed" in done.stdout, done.stdout


PAGE = (ROOT / "docs" / "instructors.md").read_text(encoding="utf-8")


def documented_figures() -> dict[str, str]:
    """The rows of the mutation report table in docs/instructors.md, by chapter."""
    return {match[1]: match[0] for match in re.finditer(r"^\| `(\d\d-[a-z0-9-]+)` \|.*$", PAGE, re.MULTILINE)}


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.name)
def test_every_surviving_mutant_is_killed_or_listed_as_equivalent(chapter) -> None:
    """The CI check: `dynamo course mutants CH` exits 0 for every chapter, and the report in
    docs/instructors.md gives its figures."""
    done = subprocess.run(
        [sys.executable, "-m", "dynamo.cli.main", "course", "mutants", chapter.name],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert done.returncode == 0, (
        f"{chapter.name}: a wrong solution would get full marks\n{done.stdout}\n{done.stderr}")
    figures = re.search(r"mutants (\d+), killed (\d+), equivalent (\d+), unlisted survivors 0$", done.stdout, re.M)
    assert figures, done.stdout
    row = f"| `{chapter.name}` | {figures[1]} | {figures[2]} | {figures[3]} |"
    assert documented_figures().get(chapter.name, "").startswith(row), (
        f"docs/instructors.md, section Mutation testing: the row of {chapter.name} must start with\n{row}\n"
        f"(it is {documented_figures().get(chapter.name)!r})")
    command = f"$ dynamo course mutants {chapter.number:02d}\n"
    if command in PAGE:  # the sample output on the page is what the command prints
        assert command + done.stdout.strip() + "\n```" in PAGE, (
            f"docs/instructors.md shows another output of `{command.strip()}` than\n{done.stdout}")
