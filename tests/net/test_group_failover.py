"""A replication group of real processes on loopback survives SIGKILL of its leader.

§6.1: a write is acknowledged once a quorum has it in its write-ahead logs, so
no acknowledged write is lost when one replica dies. §6.2: the others elect a
new leader, which serves once the old lease has run out.
"""

import asyncio
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

from dynamo.net.demo import run_demo
from dynamo.net.group import paxos_codec
from dynamo.paxos import PaxosConfig, replica_factory
from dynamo.paxos.log import AcceptedEntry
from dynamo.paxos.statemachine import WriteRecord
from dynamo.wal import WriteAheadLog


def test_leader_killed_with_sigkill_loses_no_acknowledged_write(tmp_path: Path) -> None:
    story: list[str] = []
    result = asyncio.run(run_demo(tmp_path, writes=4, say=story.append))
    assert len(result.acknowledged) == 8, story
    assert result.first_leader in {"a", "b", "c"}
    assert result.second_leader in {"a", "b", "c"} - {result.first_leader}, story
    assert result.lost == [], story


def durable_records(data_dir: Path) -> list[Any]:
    """What a replica's write-ahead log holds, read as a restart reads it (contract rule 3)."""
    log, _report = WriteAheadLog.open(data_dir)
    try:
        codec = paxos_codec()
        return [codec.loads(payload) for _lsn, payload in log.replay()]
    finally:
        log.close()


def written(records: list[Any]) -> set[tuple[str, str]]:
    """The (key, value) after-images a replica's log entries hold (§3: the log is the WAL)."""
    return {(change.item["k"]["S"], change.item["v"]["S"])
            for r in records if isinstance(r, AcceptedEntry) and isinstance(r.command, WriteRecord)
            for change in r.command.changes if change.item is not None}


def test_restarted_replica_recovers_its_log_from_disk(tmp_path: Path) -> None:
    """§6.1: a write is acknowledged once a quorum has it in its write-ahead log, so the logs
    on disk hold every acknowledged write twice or more; the leader killed mid-run keeps what
    it had accepted, and a replica rebuilt from its log alone knows every slot in it."""
    result = asyncio.run(run_demo(tmp_path, writes=2, say=lambda _line: None))
    assert len(result.acknowledged) == 4 and result.lost == []
    names = ("a", "b", "c")
    records = {name: durable_records(tmp_path / name / "wal") for name in names}
    accepted = {name: written(recs) for name, recs in records.items()}
    for key, value in result.acknowledged.items():
        holders = [name for name in names if (key, value) in accepted[name]]
        assert len(holders) >= 2, f"{key}={value} is durable only on {holders}"
    before_crash = {(k, v) for k, v in result.acknowledged.items() if k.startswith("before")}
    assert before_crash <= accepted[result.first_leader]
    rebuild = replica_factory(names, PaxosConfig())
    for name, recs in records.items():
        highest = max(r.index for r in recs if isinstance(r, AcceptedEntry))
        assert rebuild(name, recs, random.Random(0)).snapshot()["last_index"] >= highest, name


def test_python_m_dynamo_paxos_runs_the_group_as_processes() -> None:
    """The layer's own demo, as a student runs it: real processes, SIGKILL, nothing lost."""
    done = subprocess.run([sys.executable, "-m", "dynamo.paxos"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "started three replica processes" in done.stdout
    assert "none lost" in done.stdout
