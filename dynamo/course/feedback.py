"""Feedback a student can act on when their code raises an exception the test did not expect.

An assertion in a graded test already says what was expected, in the paper's terms. An
unexpected exception (a `KeyError: 'B'` out of the student's recovery code, say) says
nothing of the kind, and the one line pytest's report keeps of it throws away where it
happened. So the grader loads this module into the graded pytest run as a plugin; for
every failing test it records

- the failing check's sentence: the first paragraph of the test's docstring;
- the test's own line that was running (file, line and source);
- the deepest frame inside the student's files (the files holding the chapter's
  assignment regions; failing that, anything in the copy's `dynamo/`), and the frame
  that raised, when that is somewhere else;
- the exception itself.

The grader reads those records back (`read_feedback`) and prints them under the score
table (`Feedback.explain`):

    check: Recovery cuts a torn tail at the last whole record (§5.1).
    test:  chapters/02-wal/test_recovery_tail.py:57 in test_a_torn_tail_is_truncated
             report = recover(log_dir)
    yours: dynamo/wal/recovery.py:118 in recover_tail
             batch = batches[scan.last_lsn]
    KeyError: 'B'

Why a file loaded by path and not `-p dynamo.course.feedback`: in the graded run,
`import dynamo` must load the student's copy, which may not have this module (or a
different one). So this module imports nothing but the standard library, and the grader
copies it beside the run under a name of its own (`PLUGIN_NAME`).
"""

from __future__ import annotations

import json
import os
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PLUGIN_NAME = "dynamo_lab_grade_feedback"
OUTPUT_VARIABLE = "DYNAMO_GRADE_FEEDBACK"  # the JSON-lines file the plugin appends to
FILES_VARIABLE = "DYNAMO_GRADE_STUDENT_FILES"  # the student's files, os.pathsep-separated
ROOT_VARIABLE = "DYNAMO_GRADE_CODE_ROOT"  # the copy under test (its dynamo/ is the fallback)


@dataclass(frozen=True)
class Frame:
    """One line of a traceback: where, in which function, and its source."""

    path: str
    line: int
    function: str
    source: str

    def show(self, label: str) -> list[str]:
        return [f"{label:<6} {self.path}:{self.line} in {self.function}", f"         {self.source}"]


@dataclass(frozen=True)
class Feedback:
    """What one failing test reported about its exception."""

    classname: str
    name: str
    check: str
    exception: str
    unexpected: bool  # an exception the test did not expect, not a failed assertion
    test: Frame | None
    yours: Frame | None
    raised: Frame | None

    def explain(self) -> list[str]:
        """The lines the grader prints for this failure."""
        lines = [f"check: {self.check}"] if self.check else []
        if self.test is not None:
            lines += self.test.show("test:")
        if self.yours is not None:
            lines += self.yours.show("yours:")
        if self.raised is not None and self.raised != self.yours:
            lines += self.raised.show("raised:")
        return [*lines, self.exception]


def read_feedback(path: Path) -> dict[tuple[str, str], Feedback]:
    """The records the plugin wrote, by JUnit (classname, name)."""
    found: dict[tuple[str, str], Feedback] = {}
    if not path.is_file():
        return found
    for line in path.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        frames = {key: Frame(**data[key]) if data[key] else None for key in ("test", "yours", "raised")}
        record = Feedback(
            classname=data["classname"],
            name=data["name"],
            check=data["check"],
            exception=data["exception"],
            unexpected=data["unexpected"],
            **frames,
        )
        found.setdefault((record.classname, record.name), record)  # the first failing phase
    return found


# --- the pytest plugin: runs inside the graded test run --------------------------------


def pytest_exception_interact(node: Any, call: Any, report: Any) -> None:
    """pytest calls this for every test phase that raised; record what the student needs."""
    output = os.environ.get(OUTPUT_VARIABLE)
    if not output or call.excinfo is None or not hasattr(node, "function"):
        return
    error = call.excinfo.value
    frames = traceback.extract_tb(call.excinfo.tb)
    classname, name = _junit_names(node.nodeid)
    record = {
        "classname": classname,
        "name": name,
        "check": _sentence(node.function.__doc__),
        "exception": "".join(traceback.format_exception_only(type(error), error)).strip(),
        # pytest.fail and pytest.raises' "DID NOT RAISE" are not Exceptions: they are checks.
        "unexpected": isinstance(error, Exception) and not isinstance(error, AssertionError),
        "test": _frame(_test_frame(frames, node), Path(str(node.config.rootpath))),
        "yours": _student_frame(frames),
        "raised": _frame(frames[-1] if frames else None, _code_root()),
    }
    with open(output, "a", encoding="utf-8") as stream:
        stream.write(json.dumps(record) + "\n")


def _test_frame(frames: list[traceback.FrameSummary], node: Any) -> traceback.FrameSummary | None:
    """The test function's own line that was running (not a helper's in the same file)."""
    test_file = Path(str(node.path)).resolve()
    in_file = [frame for frame in frames if Path(frame.filename).resolve() == test_file]
    own = [frame for frame in in_file if frame.name == node.function.__name__]
    return (own or in_file or [None])[-1]


def _student_frame(frames: list[traceback.FrameSummary]) -> dict[str, Any] | None:
    root = _code_root()
    mine = {Path(name).resolve() for name in os.environ.get(FILES_VARIABLE, "").split(os.pathsep) if name}
    frame = _last(frames, lambda path: path in mine)
    if frame is None:  # not in the assignment's files: the deepest frame in the copy's dynamo/
        frame = _last(frames, lambda path: root / "dynamo" in path.parents)
    return _frame(frame, root)


def _code_root() -> Path:
    return Path(os.environ.get(ROOT_VARIABLE, ".")).resolve()


def _last(frames: list[traceback.FrameSummary], wanted: Any) -> traceback.FrameSummary | None:
    for frame in reversed(frames):
        if wanted(Path(frame.filename).resolve()):
            return frame
    return None


def _frame(frame: traceback.FrameSummary | None, root: Path) -> dict[str, Any] | None:
    if frame is None:
        return None
    path = Path(frame.filename).resolve()
    shown = path.relative_to(root).as_posix() if root in path.parents else str(path)
    return {"path": shown, "line": frame.lineno or 0, "function": frame.name, "source": (frame.line or "").strip()}


def _sentence(docstring: str | None) -> str:
    """The first paragraph of a docstring, on one line."""
    paragraph = (docstring or "").strip().split("\n\n")[0]
    return " ".join(paragraph.split())


def _junit_names(nodeid: str) -> tuple[str, str]:
    """(classname, name) as pytest's JUnit XML report spells a test (see junitxml.mangle_test_address)."""
    path, *names = nodeid.replace("::()", "").split("::")
    names.insert(0, re.sub(r"\.py$", "", path.replace("/", ".")))
    return ".".join(names[:-1]), names[-1]
