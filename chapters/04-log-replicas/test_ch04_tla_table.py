"""The lesson's table from the TLA+ spec to the code names real actions and real functions.

Not graded. The lesson ties `tests/tla/Replication.tla` (§5.4) to the code with a
correspondence table rather than by replaying the spec's actions against simulator
traces; this keeps the table from drifting: every row's TLA+ name is defined in the
spec, and every function it names is defined in the module it names.
"""

from __future__ import annotations

import re
from pathlib import Path

from dynamo.course import course_root

ROOT = course_root()
LESSON = Path(__file__).with_name("lesson.md")
SPEC = ROOT / "tests" / "tla" / "Replication.tla"
ROW = re.compile(r"^\| `(\w+)` \| `(dynamo/[\w/]+\.py)` \| ([^|]+) \|", re.MULTILINE)


def rows() -> list[tuple[str, str, list[str]]]:
    """(TLA+ name, module, functions) for each row of the lesson's table."""
    text = LESSON.read_text(encoding="utf-8")
    return [(name, module, re.findall(r"`(\w+)`", functions))
            for name, module, functions in ROW.findall(text)]


def test_every_row_names_a_spec_definition_and_functions_of_its_module() -> None:
    found = rows()
    assert len(found) >= 10, f"the lesson's TLA+ table has {len(found)} rows"
    spec = SPEC.read_text(encoding="utf-8")
    for name, module, functions in found:
        assert re.search(rf"^{name}(\(.*\))? ==", spec, re.MULTILINE), (
            f"lesson.md maps `{name}`, which {SPEC.name} does not define")
        source = (ROOT / module).read_text(encoding="utf-8")
        assert functions, f"the row of `{name}` names no function"
        for function in functions:
            assert re.search(rf"def {function}\(", source), f"{module} has no {function}"


def test_the_log_replicas_own_definitions_are_in_the_table() -> None:
    """The spec's parts that are about the role all appear: who may stand, how quorums weigh,
    and the invariant that a log replica never leads."""
    names = {name for name, _, _ in rows()}
    assert {"MayStand", "WriteQuorums", "ElectionQuorums", "LogReplicaNeverLeads",
            "QuorumsIntersect", "Propose", "Accept", "Commit"} <= names, names
