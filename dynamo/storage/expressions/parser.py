"""Parse expression text into the syntax tree of ast.py.

grammar.lark holds the grammar; lark's LALR(1) parser turns text into a parse
tree, and `_Builder` walks that tree into frozen AST nodes, checking what
DynamoDB checks from the text alone (Developer Guide, "Expressions" and
"Reserved words"):

- syntax, reported as DynamoDB does: `Syntax error; token: "b", near: "a b"`
  (the offending token, and the text from the token before it to the token
  after it);
- redundant parentheses, `((a = :x))`;
- function names, their number of operands, and where each may be used
  (`size` only as an operand; the others only as conditions);
- attribute names that are reserved words, used without a `#placeholder`;
- each update section (SET, REMOVE, ADD, DELETE) at most once.

Like DynamoDB, the builder notes the first problem of each kind and reports
the most important kind (the `_PRIORITY` tables), not merely the first seen.

Parsing is pure text-to-tree, so results are cached per text: a busy table
sees the same few expressions over and over. Substituting `#names` and
`:values` happens afterwards (names.py), so the cache is independent of them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path as FilePath

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from dynamo.storage.errors import ValidationException
from dynamo.storage.expressions.ast import (
    AddAction,
    And,
    Arithmetic,
    Between,
    Call,
    Clause,
    Comparison,
    Condition,
    DeleteAction,
    In,
    NameRef,
    Not,
    Operand,
    Or,
    PathRef,
    Projection,
    RemoveAction,
    SetAction,
    Update,
    ValueRef,
)
from dynamo.storage.expressions.names import is_reserved

MAX_EXPRESSION_BYTES = 4096
MAX_IN_OPERANDS = 100
# Deeper trees than this are refused rather than risk Python's recursion limit;
# DynamoDB's own bound is not documented (4 KB of text bounds it anyway).
MAX_NESTING = 100

# Functions of condition expressions and of update expressions, with arity.
CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
    "size": 1,
}
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
PATH_FUNCTIONS = {"attribute_exists", "attribute_not_exists", "if_not_exists"}

_PRIORITY = {
    "condition": ("parens", "unknown_function", "misused_function", "reserved", "operand",
                  "function", "nesting"),
    "update": ("reserved", "unknown_function", "section", "parens", "function", "nesting"),
    "projection": ("reserved", "nesting"),
}
# A document path may name at most 32 levels, the top-level attribute included
# (Developer Guide, "Service, account, and table quotas": nested attribute depth).
MAX_PATH_DEPTH = 32

_CHAINS = {And: "and_", Or: "or_"}

_GRAMMAR = (FilePath(__file__).parent / "grammar.lark").read_text()
_LARK = Lark(_GRAMMAR, parser="lalr", start=["condition", "update", "projection"],
             propagate_positions=True)


class InvalidExpression(ValidationException):
    """An expression DynamoDB refuses; `reason` lacks the "Invalid X: " prefix.

    compile.py adds the prefix naming the parameter (ConditionExpression,
    UpdateExpression, ...), which the parser cannot know.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ------------------------------------------------------------------ public
@lru_cache(maxsize=4096)
def parse_condition(text: str) -> Condition:
    """Parse a condition, filter or key-condition expression."""
    return _parse(text, "condition")  # type: ignore[return-value]


@lru_cache(maxsize=4096)
def parse_update(text: str) -> Update:
    """Parse an UpdateExpression."""
    return _parse(text, "update")  # type: ignore[return-value]


@lru_cache(maxsize=4096)
def parse_projection(text: str) -> Projection:
    """Parse a ProjectionExpression."""
    return _parse(text, "projection")  # type: ignore[return-value]


def _parse(text: str, kind: str) -> Condition | Update | Projection:
    if text == "":
        raise InvalidExpression("The expression can not be empty;")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_EXPRESSION_BYTES:
        raise InvalidExpression("Expression size has exceeded the maximum allowed size; "
                                f"expression size: {size}")
    try:
        tree = _LARK.parse(text, start=kind)
    except UnexpectedInput as error:
        raise syntax_error(text, _error_position(text, error)) from None
    builder = _Builder(text)
    try:
        result = builder.build(kind, tree)
    except RecursionError:
        raise InvalidExpression("The expression has too many levels of nesting;") from None
    builder.raise_first(kind)
    return result


# ----------------------------------------------------------- syntax errors
def _error_position(text: str, error: UnexpectedInput) -> int:
    if isinstance(error, UnexpectedToken) and error.token.type != "$END":
        return error.token.start_pos or 0
    if isinstance(error, UnexpectedCharacters):
        return error.pos_in_stream
    return len(text)


def syntax_error(text: str, position: int) -> InvalidExpression:
    """DynamoDB's syntax error for the token starting at `position`.

    `near` spans from the token before the offending one to the token after
    it, e.g. `a b` gives token "b", near "a b"; `a,` gives "<EOF>", near ",".
    """
    before = _tokens(text[:position], 0)
    offending = _tokens(text, position, limit=2)
    if not offending:
        near = text[before[-1][0]:] if before else ""
        return InvalidExpression(f'Syntax error; token: "<EOF>", near: "{near}"')
    start, end, value = offending[0]
    near_start = before[-1][0] if before else start
    near_end = offending[1][1] if len(offending) > 1 else end
    return InvalidExpression(f'Syntax error; token: "{value}", near: "{text[near_start:near_end]}"')


def _tokens(text: str, offset: int, limit: int | None = None) -> list[tuple[int, int, str]]:
    """(start, end, text) of the tokens from `offset` on, at most `limit` of them.

    A character no terminal matches counts as a token of its own.
    """
    tokens: list[tuple[int, int, str]] = []
    while offset < len(text) and (limit is None or len(tokens) < limit):
        try:
            for token in _lexer().lex(text[offset:]):
                tokens.append((offset + token.start_pos, offset + token.end_pos, token.value))
                if limit is not None and len(tokens) >= limit:
                    break
            break
        except UnexpectedCharacters as error:
            bad = offset + error.pos_in_stream
            tokens.append((bad, bad + 1, text[bad]))
            offset = bad + 1
    return tokens


@cache
def _lexer() -> Lark:
    """A lexer-only Lark, built at the first syntax error and kept.

    A parser's Lark builds a new lexer on every `lex()` call (milliseconds each),
    which made every syntax error cost more CPU than a whole GetItem.
    """
    return Lark(_GRAMMAR, parser=None, lexer="basic", start=["condition", "update", "projection"])


# ----------------------------------------------------------------- builder
class _Builder:
    """Turns lark's parse tree into AST nodes, noting DynamoDB's text-only errors."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.errors: dict[str, str] = {}
        self.sections: set[str] = set()

    def note(self, kind: str, message: str) -> None:
        self.errors.setdefault(kind, message)

    def raise_first(self, kind: str) -> None:
        for error_kind in _PRIORITY[kind]:
            if error_kind in self.errors:
                raise InvalidExpression(self.errors[error_kind])

    def build(self, kind: str, tree: Tree) -> Condition | Update | Projection:
        if kind == "condition":
            return self.condition(tree.children[0], 0)
        if kind == "update":
            return Update(tuple(self.clause(child) for child in tree.children))
        return Projection(tuple(self.path(child) for child in tree.children))

    # -- conditions
    def condition(self, node: Tree | Token, depth: int) -> Condition:
        if depth > MAX_NESTING:
            raise InvalidExpression("The expression has too many levels of nesting;")
        assert isinstance(node, Tree)
        kids = node.children
        match node.data:
            case "or_":
                return Or(self.chain(node, Or, depth))
            case "and_":
                return And(self.chain(node, And, depth))
            case "not_":
                return Not(self.condition(kids[1], depth + 1))
            case "compare":
                op = str(kids[1])
                return Comparison(op, self.operand(kids[0], depth), self.operand(kids[2], depth))
            case "between":
                return Between(*(self.operand(kid, depth) for kid in (kids[0], kids[2], kids[4])))
            case "in_":
                return self.in_(kids, depth)
            case "call":
                return self.condition_function(kids, depth)
            case "group":
                self.check_redundant(kids[0])
                return self.condition(kids[0], depth + 1)
        # A bare operand where a condition belongs: `a AND b = :x`.
        raise syntax_error(self.text, node.meta.end_pos)

    def chain(self, node: Tree, kind: type[And] | type[Or], depth: int) -> tuple[Condition, ...]:
        """The operands of `a AND b AND c` (or OR), flattened into one tuple.

        lark gives a left-deep tree for a chain; walking its spine in a loop
        keeps a 400-term filter from costing 400 levels of recursion.
        """
        spine: list[Tree | Token] = []
        while isinstance(node, Tree) and node.data == _CHAINS[kind]:
            spine.append(node.children[2])
            node = node.children[0]
        spine.append(node)
        operands: list[Condition] = []
        for part in reversed(spine):
            condition = self.condition(part, depth + 1)
            operands.extend(condition.operands if isinstance(condition, kind) else (condition,))
        return tuple(operands)

    def in_(self, kids: list, depth: int) -> In:
        options = tuple(self.operand(kid, depth) for kid in kids[2:])
        if len(options) > MAX_IN_OPERANDS:
            self.note("operand", "The IN operator is provided with too many operands; "
                                 f"number of operands: {len(options)}")
        return In(self.operand(kids[0], depth), options)

    def condition_function(self, kids: list, depth: int) -> Call:
        name = str(kids[0])
        self.check_known(name, CONDITION_FUNCTIONS, UPDATE_FUNCTIONS)
        if name == "size":
            self.note("misused_function", _misused(name))
        return self.checked_call(name, kids[1:], CONDITION_FUNCTIONS,
                                 lambda kid: self.operand(kid, depth + 1))

    def operand(self, node: Tree | Token, depth: int) -> Operand:
        if depth > MAX_NESTING:
            raise InvalidExpression("The expression has too many levels of nesting;")
        assert isinstance(node, Tree)
        match node.data:
            case "path":
                return self.path(node)
            case "value":
                return ValueRef(str(node.children[0]))
            case "call":
                name = str(node.children[0])
                self.check_known(name, CONDITION_FUNCTIONS, UPDATE_FUNCTIONS)
                if name in CONDITION_FUNCTIONS and name != "size":
                    self.note("misused_function", _misused(name))
                return self.checked_call(name, node.children[1:], CONDITION_FUNCTIONS,
                                         lambda kid: self.operand(kid, depth + 1))
            case "group":
                self.check_redundant(node.children[0])
                return self.operand(node.children[0], depth + 1)
        # A condition where an operand belongs: `a = (b = :c)`.
        raise self.misplaced(node)

    def check_known(self, name: str, here: dict[str, int], elsewhere: dict[str, int]) -> None:
        """A function of the other language (`if_not_exists` in a condition) is misused;
        a name neither language has is unknown."""
        if name in elsewhere:
            self.note("misused_function", _misused(name))
        elif name not in here:
            self.note("unknown_function", f"Invalid function name; function: {name}")

    def checked_call(self, name: str, arg_nodes: list, arities: dict[str, int],
                     operand: Callable[[Tree], Operand]) -> Call:
        args = tuple(operand(kid) for kid in arg_nodes)
        arity = arities.get(name)
        bucket = "operand" if arities is CONDITION_FUNCTIONS else "function"
        if arity is not None and arity != len(args):
            self.note(bucket, "Incorrect number of operands for operator or function; "
                              f"operator or function: {name}, number of operands: {len(args)}")
        elif name in PATH_FUNCTIONS and not isinstance(args[0], PathRef):
            self.note("function", "Operator or function requires a document path; "
                                  f"operator or function: {name}")
        return Call(name, args)

    def check_redundant(self, inner: Tree | Token) -> None:
        if isinstance(inner, Tree) and inner.data == "group":
            self.note("parens", "The expression has redundant parentheses;")

    def misplaced(self, node: Tree) -> InvalidExpression:
        first = node.children[0]
        if isinstance(first, Token):
            return syntax_error(self.text, first.start_pos or 0)
        return syntax_error(self.text, first.meta.end_pos)

    # -- updates
    def clause(self, node: Tree) -> Clause:
        keyword = str(node.children[0]).upper()
        if keyword in self.sections:
            self.note("section", f'The "{keyword}" section can only be used once in an '
                                 "update expression;")
        self.sections.add(keyword)
        kids = node.children[1:]
        match node.data:
            case "set_clause":
                return Clause("SET", tuple(self.set_action(kid) for kid in kids))
            case "remove_clause":
                return Clause("REMOVE", tuple(RemoveAction(self.path(kid)) for kid in kids))
        make = AddAction if node.data == "add_clause" else DeleteAction
        pairs = zip(kids[0::2], kids[1::2], strict=True)
        return Clause(keyword, tuple(make(self.path(path), ValueRef(str(value)))
                                     for path, value in pairs))

    def set_action(self, node: Tree) -> SetAction:
        path, _, value = node.children
        return SetAction(self.path(path), self.set_value(value, 0))

    def set_value(self, node: Tree, depth: int) -> Operand:
        if node.data == "arithmetic":
            left, op, right = node.children
            return Arithmetic(str(op), self.update_operand(left, depth + 1),
                              self.update_operand(right, depth + 1))
        if node.data == "group":
            self.check_redundant(node.children[0])
            return self.set_value(node.children[0], depth + 1)
        return self.update_operand(node, depth)

    def update_operand(self, node: Tree, depth: int) -> Operand:
        if depth > MAX_NESTING:
            raise InvalidExpression("The expression has too many levels of nesting;")
        match node.data:
            case "path":
                return self.path(node)
            case "value":
                return ValueRef(str(node.children[0]))
            case "call":
                name = str(node.children[0])
                # `size` and the other condition functions stay "Invalid function name"
                # here, as recorded (the update language has no misuse rule for them).
                self.check_known(name, UPDATE_FUNCTIONS, {})
                return self.checked_call(name, node.children[1:], UPDATE_FUNCTIONS,
                                         lambda kid: self.update_operand(kid, depth + 1))
            case "group":
                self.check_redundant(node.children[0])
                return self.update_operand(node.children[0], depth + 1)
        # `(a + b) + c`: arithmetic takes plain operands only.
        raise self.misplaced(node)

    # -- paths
    def path(self, node: Tree) -> PathRef:
        elements: list[str | int | NameRef] = []
        for token in node.children:
            if token.type == "INDEX":
                elements.append(int(token))
            elif token.type == "NAME_REF":
                elements.append(NameRef(str(token)))
            else:
                if is_reserved(token):
                    self.note("reserved", "Attribute name is a reserved keyword; "
                                          f"reserved keyword: {token}")
                elements.append(str(token))
        if len(elements) > MAX_PATH_DEPTH:
            self.note("nesting", "The document path has too many nesting levels; "
                                 f"nesting levels: {len(elements)}")
        return PathRef(tuple(elements))


def _misused(name: str) -> str:
    return f"The function is not allowed to be used this way in an expression; function: {name}"
