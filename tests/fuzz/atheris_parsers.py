"""Coverage-guided fuzzing of the expression and number parsers, with atheris (libFuzzer).

atheris instruments the Python bytecode of `dynamo.storage` so libFuzzer sees
which branches an input reached, and mutates the inputs that reach new ones.
The targets are `parser_targets.py`'s: an expression compiled and run against
an item, a Number parsed and added. Anything but a DynamoError (the answer a
client gets) is a crash: libFuzzer stops, writes the input to
`crash-<sha1>` under --artifacts, and the input belongs in
`test_parser_crashers.py` once fixed.

    .venv/bin/python tests/fuzz/atheris_parsers.py expressions --runs 1000000
    .venv/bin/python tests/fuzz/atheris_parsers.py numbers --runs 1000000

Each run starts from the seeds of `parser_targets.py` and the grammar's
tokens (a libFuzzer dictionary); libFuzzer's last lines give the inputs run
and the time ("Done 1000000 runs in N second(s)").
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["dynamo.storage"]):
    import parser_targets

# libFuzzer dictionary entries: the words and symbols of DynamoDB's expression grammar.
TOKENS = (
    "SET", "REMOVE", "ADD", "DELETE", "AND", "OR", "NOT", "BETWEEN", "IN", "=", "<>", "<", "<=",
    ">", ">=", "(", ")", "[", "]", ",", ".", "+", "-", "attribute_exists(", "attribute_not_exists(",
    "attribute_type(", "begins_with(", "contains(", "size(", "if_not_exists(", "list_append(",
    *parser_targets.NAMES, *parser_targets.VALUES, "pk", "sk", "[0]", "[99999999999]",
)
NUMBER_TOKENS = ("e", "E", "+", "-", ".", "0", "9" * 38, "e125", "e-130", "\x00")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=("expressions", "numbers"))
    parser.add_argument("--runs", type=int, default=1_000_000, help="inputs to run")
    parser.add_argument("--artifacts", default=".", help="where crash files go")
    parser.add_argument("--seed", type=int, default=1, help="libFuzzer's random seed")
    args = parser.parse_args(argv)
    expressions = args.target == "expressions"
    target = parser_targets.expression_target if expressions else parser_targets.number_target
    seeds = (parser_targets.SEEDS_BYTES if expressions
             else tuple(text.encode() for text in parser_targets.SEED_NUMBERS))
    tokens = TOKENS if expressions else NUMBER_TOKENS
    with tempfile.TemporaryDirectory(prefix="dynamo-fuzz-") as work:
        corpus, dictionary = Path(work) / "corpus", Path(work) / "tokens.dict"
        corpus.mkdir()
        for number, seed in enumerate(seeds):
            (corpus / f"seed-{number}").write_bytes(seed)
        dictionary.write_text("".join(f"{_quoted(token)}\n" for token in tokens))
        flags = [sys.argv[0], f"-runs={args.runs}", f"-seed={args.seed}",
                 f"-dict={dictionary}", f"-artifact_prefix={Path(args.artifacts).resolve()}/",
                 f"-max_len={256 if expressions else 128}", "-print_final_stats=1", str(corpus)]
        atheris.Setup(flags, target)
        # libFuzzer runs the inputs, prints "Done N runs in S second(s)" and its stats,
        # and exits the process itself (status 0, or 1 with the crash written out).
        atheris.Fuzz()
    return 0


def _quoted(token: str) -> str:
    """A libFuzzer dictionary entry: the token in double quotes, with \\xNN escapes."""
    return '"' + "".join(c if c.isalnum() or c in "#:()[]<>=,.+-_ " else f"\\x{ord(c):02x}"
                         for c in token) + '"'


if __name__ == "__main__":
    sys.exit(main())
