"""The trace: a canonical text record of everything a simulated run did.

One line per event, in the order the simulator handled them: when (simulated
milliseconds), what (deliver, timer, client request, reply, persist, crash,
...), where, and the message or effect printed canonically. Canonical means
independent of the Python process: dataclasses print field by field, sets and
frozensets print sorted (their iteration order depends on the hash seed), and
floats print with `repr`, which round-trips exactly.

So the trace is the run's fingerprint: the determinism test asserts that one
(seed, scenario) gives the same trace bytes in two processes, and a failing
run's trace is what the minimiser shrinks and the replay command prints
(TigerBeetle's and FoundationDB's simulators work the same way).
"""

from __future__ import annotations

import hashlib
from dataclasses import fields, is_dataclass
from typing import Any


def canonical(value: Any) -> str:
    """Print a value the same way in every process."""
    if is_dataclass(value) and not isinstance(value, type):
        inner = ", ".join(f"{f.name}={canonical(getattr(value, f.name))}" for f in fields(value))
        return f"{type(value).__name__}({inner})"
    if isinstance(value, tuple):
        return "(" + ", ".join(canonical(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(canonical(v) for v in value) + "]"
    if isinstance(value, set | frozenset):
        return "{" + ", ".join(sorted(canonical(v) for v in value)) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{canonical(k)}: {canonical(v)}" for k, v in value.items()) + "}"
    return repr(value)


class Trace:
    """An append-only list of canonical trace lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def record(self, now_ms: float, what: str, where: str, detail: Any = None) -> None:
        line = f"{now_ms:.6f} {what} {where}"
        if detail is not None:
            line += " " + canonical(detail)
        self.lines.append(line)

    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)

    def digest(self) -> str:
        """SHA-256 of the trace text: equal digests, byte-identical traces."""
        return hashlib.sha256(self.text().encode()).hexdigest()

    def __len__(self) -> int:
        return len(self.lines)
