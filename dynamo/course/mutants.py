"""Mutation testing of assignment regions: do a chapter's graded tests catch wrong solutions?

A *mutant* is the reference solution with one small mistake of the kind a student
makes: an operator swapped (`+` for `-`), a boundary moved (`<` for `<=`, `1` for
`0` or `2`), a condition negated, a statement dropped, a different index, a return
value replaced by None, two arguments swapped. Mutants are made only inside the
chapter's `# BEGIN ASSIGNMENT` regions, the code a student writes. The chapter's
graded tests run on each mutant; a mutant they fail on is *killed*. A mutant that
passes every graded test *survives*: a student with that mistake would get full
marks. Each survivor must either be killed by a new graded test or be listed in the
chapter's `chapter.toml` as equivalent (it behaves exactly like the reference), with
the reason:

    [[equivalent]]
    mutant = "ch09-example:merge+4:LtE->Lt"
    reason = "the two timestamps are never equal here, so < and <= agree"

Mutant ids are deterministic: the region id, the function and the line counted from
the region's BEGIN line, then the mutation, e.g. `ch02-recovery:recover_tail+6:1->0`
(`#2` tells apart two equal mutations on one line). Editing code outside a region
never renames its mutants.

Why our own AST mutator rather than mutmut or cosmic-ray: both mutate whole
modules, and neither can be restricted to line ranges inside a function, which is
what a region is.

Why it is fast enough for every CI run: pytest collects the graded tests once, in
one process (with the region functions stubbed meanwhile, so a test module cannot
compute its expectations from the reference at import time). Then, for the
reference and for each mutant, a forked child swaps the mutated function's
`__code__` in (every reference to the function, in the node code and in the tests,
sees the mistake), runs the collected tests until the first failure and exits.
After the reference's run, the quickest tests go first: most mutants fail a unit
test and need not wait for a simulation. Nothing outlives a child, so no mutant's
run can affect another's, and nothing is cached from one run of the command to the
next. A child that runs too long (a mutant that loops forever) is killed and counts
as killed, as the grader's timeout would fail it.
"""

from __future__ import annotations

import ast
import copy
import gc
import importlib
import json
import os
import select
import signal
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, FunctionType, ModuleType
from typing import Any

from dynamo.course.chapters import CHAPTER_FILE, Chapter
from dynamo.course.regions import Region, find_regions

# Set for the graded tests: only pass or fail counts, so a failing simulated test may skip
# explaining itself (shrinking the failing run takes dozens of reruns).
QUICK_FAILURE = "DYNAMO_LAB_QUICK_FAILURE"
TIMEOUT_FLOOR_S = 20.0  # a mutant's run may take this long, or 10x the reference's, before it is killed

BINARY = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
          ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv}
# Each comparison: its boundary moved, and its negation.
COMPARE: dict[type, tuple[type, ...]] = {
    ast.Lt: (ast.LtE, ast.GtE), ast.LtE: (ast.Lt, ast.Gt),
    ast.Gt: (ast.GtE, ast.LtE), ast.GtE: (ast.Gt, ast.Lt),
    ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,),
    ast.In: (ast.NotIn,), ast.NotIn: (ast.In,), ast.Is: (ast.IsNot,), ast.IsNot: (ast.Is,),
}
BOOLEAN = {ast.And: ast.Or, ast.Or: ast.And}
DROPPABLE = (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Raise, ast.If, ast.For)


class MutationError(RuntimeError):
    """Mutation testing could not run (the reference fails its tests, a region is not in a function...)."""


@dataclass(frozen=True)
class Mutant:
    """One mistake planted in a region: its id, where it is and the mutated line."""

    id: str
    region: Region
    function: str  # qualified name of the function holding the region
    line: int  # line number in the file
    mutation: str  # e.g. "Lt->LtE"
    site: int  # position of the mutated node in ast.walk order of the module
    source: str  # the mutated statement as Python source, for the report


@dataclass(frozen=True)
class Equivalent:
    """A mutant the chapter declares equivalent to the reference, and why."""

    mutant: str
    reason: str


@dataclass(frozen=True)
class Outcome:
    """What the graded tests did to one mutant: "killed", "timeout" or "survived"."""

    mutant: Mutant
    result: str
    killed_by: str = ""  # the first graded test that failed on it
    seconds: float = 0.0


@dataclass(frozen=True)
class MutationReport:
    """Every mutant of a chapter's regions, what became of it, and the chapter's equivalents."""

    chapter: Chapter
    outcomes: tuple[Outcome, ...]
    equivalents: tuple[Equivalent, ...]
    seconds: float

    @property
    def killed(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.result != "survived"]

    @property
    def survivors(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.result == "survived"]

    @property
    def listed(self) -> list[Outcome]:
        """Survivors the chapter lists as equivalent."""
        names = {equivalent.mutant for equivalent in self.equivalents}
        return [outcome for outcome in self.survivors if outcome.mutant.id in names]

    @property
    def unlisted(self) -> list[Outcome]:
        """Survivors nobody has explained: a wrong solution that would get full marks."""
        names = {equivalent.mutant for equivalent in self.equivalents}
        return [outcome for outcome in self.survivors if outcome.mutant.id not in names]

    @property
    def stale(self) -> list[Equivalent]:
        """Listed equivalents that are no mutant any more, or that the tests now kill."""
        surviving = {outcome.mutant.id for outcome in self.survivors}
        return [equivalent for equivalent in self.equivalents if equivalent.mutant not in surviving]

    @property
    def ok(self) -> bool:
        return not self.unlisted and not self.stale


# Generating mutants ---------------------------------------------------------------


def chapter_regions(root: Path, chapter: Chapter) -> list[Region]:
    """The chapter's assignment regions in `root/dynamo`, paths relative to `root`."""
    ids = {assignment.id for assignment in chapter.assignments}
    regions = []
    for path in sorted((root / "dynamo").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        regions += [r for r in find_regions(text, str(path.relative_to(root))) if r.id in ids]
    if not regions:
        raise MutationError(f"{chapter.name}: no assignment region of {sorted(ids)} under {root / 'dynamo'}")
    return regions


def mutants_of(root: Path, regions: list[Region]) -> list[Mutant]:
    """Every mutant of `regions`, in file and source order, with unique ids."""
    mutants: list[Mutant] = []
    by_file: dict[str, list[Region]] = {}
    for region in regions:
        by_file.setdefault(region.path, []).append(region)
    for path, in_file in by_file.items():
        tree = ast.parse((root / path).read_text(encoding="utf-8"), path)
        for region in in_file:
            mutants += _mutants_of_region(tree, region)
    return mutants


def _mutants_of_region(tree: ast.Module, region: Region) -> list[Mutant]:
    function = _enclosing_function(tree, region)
    inside = {id(node) for node in ast.walk(function) if _within(node, region)} - _annotations(function)
    # Dropping a function's last `return x` is the same mistake as `return None`.
    last = function.body[-1]
    candidates = sorted(
        (node.lineno, node.col_offset, site, mutation)  # type: ignore[attr-defined]
        for site, node in enumerate(ast.walk(tree)) if id(node) in inside
        for mutation, _ in _mutations(node)
        if not (node is last and mutation == "drop-Return")
    )
    found: list[Mutant] = []
    seen: dict[str, int] = {}
    for line, _, site, mutation in candidates:
        base = f"{region.id}:{function.qualname}+{line - region.begin}:{mutation}"  # type: ignore[attr-defined]
        seen[base] = seen.get(base, 0) + 1
        mutant_id = base if seen[base] == 1 else f"{base}#{seen[base]}"
        statement = _statement_at(apply(tree, site, mutation), line)
        found.append(Mutant(mutant_id, region, function.qualname, line, mutation, site, statement))  # type: ignore[attr-defined]
    return found


def _annotations(function: ast.AST) -> set[int]:
    """The nodes of the type annotations in `function`: a local's annotation never runs."""
    found: set[int] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.AnnAssign):
            found.update(id(inner) for inner in ast.walk(node.annotation))
    return found


def _within(node: ast.AST, region: Region) -> bool:
    line = getattr(node, "lineno", None)
    return line is not None and region.begin < line < region.end


def _enclosing_function(tree: ast.Module, region: Region) -> ast.FunctionDef | ast.AsyncFunctionDef:
    """The innermost function whose body holds the region, its qualname attached (the END
    line is a comment after the function's last statement, so only BEGIN is compared)."""
    best = None
    for node, qualname in _functions(tree.body, ""):
        if node.lineno < region.begin <= (node.end_lineno or 0):
            best = node
            best.qualname = qualname  # type: ignore[union-attr]
    if best is None:
        raise MutationError(f"{region.path}:{region.begin}: region {region.id} is not inside a function; "
                            "only function bodies can be mutated")
    return best


def _functions(body: list[ast.stmt], prefix: str) -> Iterator[tuple[ast.AST, str]]:
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node, prefix + node.name
            yield from _functions(node.body, f"{prefix}{node.name}.<locals>.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node.body, f"{prefix}{node.name}.")


def _mutations(node: ast.AST) -> Iterator[tuple[str, Callable[[ast.AST], ast.AST | None]]]:
    """(name, edit) of each mutation that applies to `node`; an edit changes the node in
    place, or returns a node to put in its place."""
    if isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in BINARY:
        new = BINARY[type(node.op)]
        yield f"{type(node.op).__name__}->{new.__name__}", _set(op=new())
    if isinstance(node, ast.Compare):
        for index, op in enumerate(node.ops):
            for new in COMPARE.get(type(op), ()):
                name = f"{type(op).__name__}->{new.__name__}" + (f"@{index}" if len(node.ops) > 1 else "")
                yield name, _compare(index, new)
    if isinstance(node, ast.BoolOp):
        new = BOOLEAN[type(node.op)]
        yield f"{type(node.op).__name__}->{new.__name__}", _set(op=new())
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
        yield f"drop-{type(node.op).__name__}", lambda n: n.operand  # type: ignore[attr-defined]
    if isinstance(node, ast.If | ast.While) and not isinstance(node.test, ast.Compare | ast.UnaryOp):
        yield f"negate-{type(node).__name__}", lambda n: _set(test=ast.UnaryOp(ast.Not(), n.test))(n)  # type: ignore[attr-defined]
    if isinstance(node, ast.Constant):
        yield from _constant(node.value)
    if isinstance(node, ast.Subscript) and _is_index(node.slice):
        for index in (0, -1):
            yield f"index->{index}", _set(slice=ast.Constant(index))
    if isinstance(node, ast.Call):
        for index in range(len(node.args) - 1):
            if not any(isinstance(arg, ast.Starred) for arg in node.args[index:index + 2]):
                yield f"swap-args-{index}-{index + 1}", _swap(index)
    if isinstance(node, ast.Return) and node.value is not None and not _is_none(node.value):
        yield "return-None", _set(value=ast.Constant(None))
    if isinstance(node, DROPPABLE):
        yield f"drop-{type(node).__name__}", lambda n: ast.Pass()


def _constant(value: Any) -> Iterator[tuple[str, Callable[[ast.AST], ast.AST | None]]]:
    if isinstance(value, bool):
        yield f"{value}->{not value}", _set(value=not value)
    elif isinstance(value, int | float):
        for new in (value + 1, value - 1):
            yield f"{value}->{new}", _set(value=new)


def _is_index(index: ast.AST) -> bool:
    """A computed index (a constant one is already shifted by the constant mutations)."""
    return not isinstance(index, ast.Constant | ast.Slice | ast.Tuple)


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _set(**fields: Any) -> Callable[[ast.AST], None]:
    def edit(node: ast.AST) -> None:
        for name, value in fields.items():
            setattr(node, name, value)
    return edit


def _compare(index: int, new: type) -> Callable[[ast.AST], None]:
    def edit(node: ast.AST) -> None:
        node.ops[index] = new()  # type: ignore[attr-defined]
    return edit


def _swap(index: int) -> Callable[[ast.AST], None]:
    def edit(node: ast.AST) -> None:
        args = node.args  # type: ignore[attr-defined]
        args[index], args[index + 1] = args[index + 1], args[index]
    return edit


def apply(tree: ast.Module, site: int, mutation: str) -> ast.Module:
    """A copy of `tree` with `mutation` applied to the node at `site` (ast.walk order)."""
    mutated = copy.deepcopy(tree)
    nodes = list(ast.walk(mutated))
    target = nodes[site]
    edits = dict(_mutations(target))
    if mutation not in edits:
        raise MutationError(f"no mutation {mutation!r} at site {site}")
    replacement = edits[mutation](target)
    if replacement is not None:
        _replace(nodes, target, replacement)
    return ast.fix_missing_locations(mutated)


def _replace(nodes: list[ast.AST], old: ast.AST, new: ast.AST) -> None:
    ast.copy_location(new, old)
    for parent in nodes:
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list) and any(item is old for item in value):
                value[[item is old for item in value].index(True)] = new
                return
    raise MutationError("a mutated node has no parent")


def _statement_at(tree: ast.Module, line: int) -> str:
    """The innermost simple statement (or compound statement's header) at `line`."""
    best: ast.AST | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.lineno <= line <= (node.end_lineno or node.lineno):
            if best is None or node.lineno >= best.lineno:  # type: ignore[attr-defined]
                best = node
    if best is None:
        return ""
    text = ast.unparse(best)
    return text.splitlines()[0] if isinstance(best, ast.If | ast.For | ast.While) else " ".join(text.split())


# Running the graded tests on each mutant ------------------------------------------


def equivalents_of(chapter: Chapter) -> tuple[Equivalent, ...]:
    """The `[[equivalent]]` entries of the chapter's chapter.toml."""
    where = chapter.folder / CHAPTER_FILE
    data = tomllib.loads(where.read_text(encoding="utf-8"))
    found = []
    for entry in data.get("equivalent", []):
        if not isinstance(entry, dict) or set(entry) != {"mutant", "reason"} or not str(entry["reason"]).strip():
            raise MutationError(f"{where}: each [[equivalent]] has exactly `mutant` and a non-empty `reason`")
        found.append(Equivalent(str(entry["mutant"]), str(entry["reason"])))
    return tuple(found)


def run_mutants(root: Path, chapter: Chapter) -> MutationReport:
    """Run the chapter's graded tests on the reference, then on every mutant of its regions.

    pytest collects the graded tests once, in this process; then, in its run loop, a
    forked child per mutant puts the mutated code in place and runs the collected tests.
    """
    started = time.monotonic()
    root = root.resolve()
    mutants = mutants_of(root, chapter_regions(root, chapter))
    equivalents = equivalents_of(chapter)
    sys.dont_write_bytecode = True
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only the plugins graded tests need
    os.environ[QUICK_FAILURE] = "1"
    loop = _MutationLoop([_patch(root, mutant) for mutant in mutants], _stubs(root, mutants))
    import pytest

    with tempfile.TemporaryDirectory(prefix="dynamo-mutants-", dir=_scratch_folder()) as scratch:
        arguments = _pytest_arguments(root, chapter, Path(scratch))
        with _silenced():  # pytest's own report of the session means nothing here
            pytest.main(arguments, plugins=[loop])
    if loop.error:
        raise MutationError(f"{chapter.name}: {loop.error}")
    outcomes = tuple(Outcome(mutant, *result) for mutant, result in zip(mutants, loop.results, strict=True))
    return MutationReport(chapter, outcomes, equivalents, time.monotonic() - started)


def _scratch_folder() -> str | None:
    """Where the tests' tmp_path folders go: memory if the machine has it, since the WAL
    tests fsync hundreds of times and what they check does not depend on a real disk."""
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


def _pytest_arguments(root: Path, chapter: Chapter, scratch: Path) -> list[str]:
    """The graded tests, stopping at the first failure, with nothing cached between runs.

    Assertions are not rewritten (`--assert=plain`): only pass or fail matters here.
    Each child's first tmp_path wipes `--basetemp`, so no run sees another's files.
    """
    tests = [str(chapter.folder / graded.test) for graded in chapter.graded]
    return [*tests, f"--rootdir={root}", "-c", str(root / "pyproject.toml"), "-x", "-q",
            "--assert=plain", f"--basetemp={scratch / 'run'}", "-p", "no:cacheprovider",
            "-o", "addopts=", "-W", "ignore::pytest.PytestConfigWarning"]


@contextmanager
def _silenced() -> Iterator[None]:
    """File descriptors 1 and 2 to /dev/null (the forked children inherit them)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    quiet = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, quiet):
            os.close(fd)


@dataclass
class _Swap:
    """A live function and the code to run in it instead of its own."""

    function: FunctionType
    code: CodeType

    def __call__(self) -> None:
        self.function.__code__ = self.code


def _patch(root: Path, mutant: Mutant) -> _Swap:
    """The mutated code of the function holding the mutant, ready to swap in.

    Every reference to the function (in the node code, in the tests) sees the mistake,
    since the function object stays the same and only its code changes.
    """
    path = root / mutant.region.path
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    code = _code_named(compile(apply(tree, mutant.site, mutant.mutation), str(path), "exec"), mutant.function)
    return _Swap(_function_named(_module_of(root, mutant.region.path), mutant.function), code)


def _stubs(root: Path, mutants: list[Mutant]) -> list[_Swap]:
    """Each mutated function made to raise while the tests are collected: a graded test that
    called the assignment at import time would compute its expectations from the reference."""
    stub = compile("def stub(*args, **kwargs):\n    raise NotImplementedError('called while the graded "
                   "tests were imported: call the assignment inside a test')", "<stub>", "exec")
    code = _code_named(stub, "stub")
    functions = {(mutant.region.path, mutant.function) for mutant in mutants}
    return [_Swap(_function_named(_module_of(root, path), name), code) for path, name in sorted(functions)]


def _module_of(root: Path, relative: str) -> ModuleType:
    name = relative.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
    module = importlib.import_module(name)
    if Path(module.__file__ or "").resolve() != (root / relative).resolve():
        raise MutationError(f"{name} is imported from {module.__file__}, not from {root / relative}")
    return module


def _code_named(code: CodeType, qualname: str) -> CodeType:
    for const in code.co_consts:
        if isinstance(const, CodeType):
            if const.co_qualname == qualname:
                return const
            if qualname.startswith(const.co_qualname + "."):
                return _code_named(const, qualname)
    raise MutationError(f"no code for {qualname} in the mutated module")


def _function_named(module: ModuleType, qualname: str) -> FunctionType:
    if "<locals>" in qualname:
        raise MutationError(f"{qualname}: a region in a nested function cannot be mutated")
    found: Any = module
    for part in qualname.split("."):
        found = vars(found)[part]
    found = getattr(found, "__wrapped__", found)
    if not isinstance(found, FunctionType) or found.__closure__:
        raise MutationError(f"{module.__name__}.{qualname} is not a plain function without a closure")
    return found


class _MutationLoop:
    """A pytest plugin that replaces the run loop: the reference once, then each mutant, each
    in a forked child running every collected test until the first failure."""

    def __init__(self, patches: list[_Swap], stubs: list[_Swap]) -> None:
        self.patches = patches
        self.stubs = stubs
        self.results: list[tuple[str, str, float]] = []
        self.error = ""
        self.failed = ""  # in a child: the first test that failed
        self.durations: dict[str, float] = {}  # in a child: seconds per test

    def pytest_collection(self, session: Any) -> Any:
        originals = [_Swap(stub.function, stub.function.__code__) for stub in self.stubs]
        for stub in self.stubs:
            stub()
        try:
            session.perform_collect()
        finally:
            for original in originals:
                original()
        return True

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.failed = self.failed or f"collecting {report.nodeid.split('/')[-1]}"
            self.error = self.error or f"the graded tests do not collect: {report.longreprtext.strip()[-600:]}"

    def pytest_runtest_logreport(self, report: Any) -> None:
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration
        if report.failed and not self.failed:
            file, _, name = report.location
            self.failed = f"{Path(file).name}::{name}"

    def pytest_runtestloop(self, session: Any) -> bool:
        if self.error:
            return True
        gc.freeze()  # a child's gc.collect (pytest runs it) then skips what the parent built
        result, test, seconds, durations = self._run(session, None, timeout=600.0)
        if result != "survived":
            self.error = f"the reference fails its graded tests ({test or result}); fix that first"
            return True
        timeout = max(TIMEOUT_FLOOR_S, 10 * seconds)
        # Quickest tests first: most mutants fail a unit test, and need not wait for a simulation.
        session.items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
        self.results = [self._run(session, patch, timeout)[:3] for patch in self.patches]
        return True

    def _run(
        self, session: Any, patch: _Swap | None, timeout: float
    ) -> tuple[str, str, float, dict[str, float]]:
        """(result, first failing test, seconds, seconds per test) of one run in a child."""
        began = time.monotonic()
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            self._child(session, patch, write)  # never returns
        os.close(write)
        output = _read_until(read, timeout)
        os.close(read)
        if output is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout", f"ran over {timeout:.0f} s", timeout, {}
        _, status = os.waitpid(pid, 0)
        result, test, durations = _verdict(output, status)
        return result, test, time.monotonic() - began, durations

    def _child(self, session: Any, patch: _Swap | None, write: int) -> None:
        code = 1
        try:
            if patch is not None:
                patch()
            items = session.items
            for index, item in enumerate(items):
                following = items[index + 1] if index + 1 < len(items) else None
                item.config.hook.pytest_runtest_protocol(item=item, nextitem=following)
                if session.shouldfail or session.shouldstop:
                    break
            os.write(write, json.dumps({"failed": self.failed, "durations": self.durations}).encode())
            code = 0
        finally:
            os._exit(code)


def _read_until(fd: int, timeout: float) -> bytes | None:
    """Everything written to `fd` until its writer closes it; None after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    output = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 65536)
        if not chunk:
            return bytes(output)
        output.extend(chunk)


def _verdict(output: bytes, status: int) -> tuple[str, str, dict[str, float]]:
    try:
        told = json.loads(output)
    except ValueError:
        return "killed", f"the test run crashed (exit status {os.waitstatus_to_exitcode(status)})", {}
    return ("killed" if told["failed"] else "survived"), told["failed"], told["durations"]


# The report ----------------------------------------------------------------------


def format_mutation_report(report: MutationReport, *, verbose: bool = False) -> str:
    """The figures, each unlisted survivor with its mutated line, and stale equivalents."""
    chapter = report.chapter
    lines = [f"Chapter {chapter.number}: {chapter.title}: mutation testing of its assignment regions", ""]
    if verbose:
        lines += [f"  {outcome.result:<8} {outcome.seconds:5.1f} s  {outcome.mutant.id}  {outcome.killed_by}"
                  for outcome in report.outcomes]
        lines.append("")
    lines.append(summary_line(report))
    if verbose:
        lines.append(f"({report.seconds:.0f} s)")
    for outcome in report.unlisted:
        mutant = outcome.mutant
        lines += ["", f"SURVIVED {mutant.id}", f"  {mutant.region.path}:{mutant.line}: {mutant.source}",
                  "  every graded test passes on this mutant: kill it with a graded test, or list it in "
                  f"chapters/{chapter.name}/chapter.toml as [[equivalent]] with the reason it behaves as the reference"]
    for equivalent in report.stale:
        lines += ["", f"STALE [[equivalent]] {equivalent.mutant}",
                  "  no surviving mutant has this id any more (killed, or the region changed): remove the entry"]
    return "\n".join(lines)


def summary_line(report: MutationReport) -> str:
    return (f"mutants {len(report.outcomes)}, killed {len(report.killed)}, "
            f"equivalent {len(report.listed)}, unlisted survivors {len(report.unlisted)}")
