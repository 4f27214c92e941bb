"""The coverage-guided fuzzer's crashers, kept as regressions, and its harness kept working.

`atheris_parsers.py` fuzzes the expression and number parsers; every input it
found that raised anything but DynamoDB's own errors (a 500 for the client)
is listed here, fixed, and checked to get DynamoDB's answer. The seeds must
compile cleanly (else the fuzzer starts from nothing), and a short run of the
real harness shows the on-demand command still works.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import parser_targets as targets
import pytest

from dynamo.storage.errors import ValidationException
from dynamo.storage.expressions import compile_request
from dynamo.storage.numbers import NOT_A_NUMBER, parse_number

HERE = Path(__file__).resolve().parent

# (input, what DynamoDB answers). Found by `atheris_parsers.py numbers`: Python's
# Decimal cannot hold an exponent past about 1e18 and raised InvalidOperation.
NUMBER_CRASHERS = [
    ("9.9999999999999999999999e9999999999999999125",
     f"{NOT_A_NUMBER}: 9.9999999999999999999999e9999999999999999125"),
    ("-1e-99999999999999999999", f"{NOT_A_NUMBER}: -1e-99999999999999999999"),
]


@pytest.mark.parametrize(("text", "message"), NUMBER_CRASHERS)
def test_number_crashers_get_a_validation_exception(text: str, message: str) -> None:
    with pytest.raises(ValidationException) as refused:
        parse_number(text)
    assert refused.value.message == message
    targets.number_target(text.encode())  # and the fuzz target itself runs clean


def test_the_seeds_compile_and_run_against_the_item() -> None:
    """Each seed is a valid expression, so the fuzzer starts deep inside the code."""
    for kind, text in targets.SEED_EXPRESSIONS:
        operation, params = targets.expression_request(kind, text)
        compile_request(operation, params, targets.SCHEMA)
        targets.run_expression(kind, text)
    for text in targets.SEED_NUMBERS:
        targets.number_target(text.encode())


def test_the_number_target_catches_a_wrong_sum(monkeypatch: pytest.MonkeyPatch) -> None:
    """The target's exactness check is live: an addition that rounds is a crash."""
    targets.run_number("0.1", "0.2")
    targets.run_number("99999999999999999999999999999999999999", "1")  # 39 digits: refused
    monkeypatch.setattr(targets.numbers, "add", lambda a, b: round(a + b, 0))
    with pytest.raises(AssertionError):
        targets.run_number("0.1", "0.2")


@pytest.mark.parametrize(("target", "runs"), [("numbers", 1000), ("expressions", 50)])
def test_the_atheris_harness_runs(target: str, runs: int, tmp_path: Path) -> None:
    """The on-demand command, for a few inputs: libFuzzer reports them all done, no crash."""
    done = subprocess.run(
        [sys.executable, str(HERE / "atheris_parsers.py"), target, f"--runs={runs}",
         f"--artifacts={tmp_path}"],
        capture_output=True, text=True, timeout=240, cwd=HERE)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"Done {runs} runs" in done.stderr
    assert not list(tmp_path.glob("crash-*"))
