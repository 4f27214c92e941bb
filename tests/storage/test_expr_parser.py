"""The expression parser: grammar, precedence, and DynamoDB's text-only refusals.

Developer Guide, "Using expressions in DynamoDB"; error wording as DynamoDB
answers it (recorded by dynalite's test suite).
"""

import pytest

from dynamo.storage.errors import ValidationException
from dynamo.storage.expressions.ast import (
    AddAction,
    And,
    Arithmetic,
    Between,
    Call,
    Clause,
    Comparison,
    DeleteAction,
    In,
    NameRef,
    Not,
    Or,
    PathRef,
    Projection,
    RemoveAction,
    SetAction,
    Update,
    ValueRef,
)
from dynamo.storage.expressions.parser import (
    parse_condition,
    parse_projection,
    parse_update,
)
from dynamo.storage.expressions.unparse import unparse


def path(*elements):
    return PathRef(tuple(elements))


def reason(parse, text):
    with pytest.raises(ValidationException) as caught:
        parse(text)
    return caught.value.message


# ------------------------------------------------------------------- shapes
def test_nested_paths_with_names_and_indexes():
    tree = parse_condition("a.#b[2].c = :v")
    assert tree == Comparison("=", path("a", NameRef("#b"), 2, "c"), ValueRef(":v"))


def test_whitespace_is_allowed_inside_paths():
    assert parse_condition("a . b [ 1 ] = :v") == parse_condition("a.b[1] = :v")


def test_and_binds_tighter_than_or():
    tree = parse_condition("a = :a OR b = :b AND c = :c")
    assert isinstance(tree, Or)
    assert tree.operands[0] == Comparison("=", path("a"), ValueRef(":a"))
    assert isinstance(tree.operands[1], And)


def test_not_binds_tighter_than_and():
    tree = parse_condition("NOT a = :a AND b = :b")
    assert isinstance(tree, And)
    assert tree.operands[0] == Not(Comparison("=", path("a"), ValueRef(":a")))


def test_parentheses_override_precedence():
    tree = parse_condition("(a = :a OR b = :b) AND c = :c")
    assert isinstance(tree, And) and isinstance(tree.operands[0], Or)


def test_chains_flatten_into_one_node():
    """A 300-term filter is one And node, not 300 levels of recursion."""
    text = " AND ".join(f"a{i} = :v" for i in range(300))
    tree = parse_condition(text)
    assert isinstance(tree, And) and len(tree.operands) == 300


def test_keywords_are_case_insensitive_and_whole_words():
    tree = parse_condition("ordering = :a and notes between :b AND :c")
    assert tree == And((Comparison("=", path("ordering"), ValueRef(":a")),
                        Between(path("notes"), ValueRef(":b"), ValueRef(":c"))))


def test_in_and_functions():
    tree = parse_condition("a IN (:x, :y) OR attribute_exists(b) OR size(c) > :n")
    assert tree == Or((In(path("a"), (ValueRef(":x"), ValueRef(":y"))),
                       Call("attribute_exists", (path("b"),)),
                       Comparison(">", Call("size", (path("c"),)), ValueRef(":n"))))


def test_a_parenthesised_operand():
    assert parse_condition("(a) = :v") == Comparison("=", path("a"), ValueRef(":v"))


def test_update_clauses_in_any_order():
    tree = parse_update("remove x[1] SET a = b + :c, d = list_append(d, :l) "
                        "ADD s :s DELETE t :t")
    assert tree == Update((
        Clause("REMOVE", (RemoveAction(path("x", 1)),)),
        Clause("SET", (SetAction(path("a"), Arithmetic("+", path("b"), ValueRef(":c"))),
                       SetAction(path("d"), Call("list_append", (path("d"), ValueRef(":l")))))),
        Clause("ADD", (AddAction(path("s"), ValueRef(":s")),)),
        Clause("DELETE", (DeleteAction(path("t"), ValueRef(":t")),)),
    ))


def test_projection_paths():
    assert parse_projection("a, b.c[1], #d") == Projection(
        (path("a"), path("b", "c", 1), path(NameRef("#d"))))


# ------------------------------------------------------------ syntax errors
@pytest.mark.parametrize(("parse", "text", "message"), [
    (parse_condition, "a b", 'Syntax error; token: "b", near: "a b"'),
    (parse_condition, "!!!", 'Syntax error; token: "!", near: "!!"'),
    (parse_condition, "attribute_type()", 'Syntax error; token: ")", near: "()"'),
    (parse_condition, "a = :v AND b", 'Syntax error; token: "<EOF>", near: "b"'),
    (parse_projection, "a,", 'Syntax error; token: "<EOF>", near: ","'),
    (parse_projection, "l[a]", 'Syntax error; token: "a", near: "[a]"'),
    (parse_update, "SET", 'Syntax error; token: "<EOF>", near: "SET"'),
    (parse_update, "SET a = ", 'Syntax error; token: "<EOF>", near: "= "'),
])
def test_syntax_errors_name_the_token_and_its_neighbours(parse, text, message):
    assert reason(parse, text) == message


def test_empty_expression():
    assert reason(parse_condition, "") == "The expression can not be empty;"


def test_expression_size_limit_is_4096_bytes():
    """4 KB of expression text is allowed, one byte more is not."""
    ok = "a = :v AND " + "b" * (4096 - 16) + " = :v"
    assert len(ok.encode()) == 4096
    parse_condition(ok)
    assert reason(parse_condition, ok + " ") == (
        "Expression size has exceeded the maximum allowed size; expression size: 4097")


# --------------------------------------------------------- semantic refusals
@pytest.mark.parametrize(("text", "message"), [
    ("((a = :v))", "The expression has redundant parentheses;"),
    ("((a)) = :v", "The expression has redundant parentheses;"),
    ("foo(a)", "Invalid function name; function: foo"),
    ("size(a)", "The function is not allowed to be used this way in an expression; "
                "function: size"),
    ("attribute_exists(a) = :v", "The function is not allowed to be used this way in an "
                                 "expression; function: attribute_exists"),
    ("name = :v", "Attribute name is a reserved keyword; reserved keyword: name"),
    ("a.Size = :v", "Attribute name is a reserved keyword; reserved keyword: Size"),
    ("begins_with(a, :b, :c)", "Incorrect number of operands for operator or function; "
                               "operator or function: begins_with, number of operands: 3"),
    ("attribute_exists(:v)", "Operator or function requires a document path; "
                             "operator or function: attribute_exists"),
])
def test_condition_refusals(text, message):
    assert reason(parse_condition, text) == message


def test_reserved_words_are_fine_behind_placeholders():
    assert parse_condition("#name = :v") == Comparison("=", path(NameRef("#name")), ValueRef(":v"))


def test_the_in_operator_takes_at_most_100_operands():
    options = ", ".join(f":v{i}" for i in range(101))
    assert reason(parse_condition, f"a IN ({options})") == (
        "The IN operator is provided with too many operands; number of operands: 101")
    parse_condition(f"a IN ({options.rsplit(',', 1)[0]})")


def test_unknown_function_outranks_a_reserved_word():
    assert reason(parse_condition, "foo(name)") == "Invalid function name; function: foo"


@pytest.mark.parametrize(("text", "message"), [
    ("SET a = :v SET b = :v", 'The "SET" section can only be used once in an update '
                              "expression;"),
    ("SET a = size(b)", "Invalid function name; function: size"),
    ("SET a = if_not_exists(:v, :w)", "Operator or function requires a document path; "
                                      "operator or function: if_not_exists"),
    ("SET a = list_append(:v)", "Incorrect number of operands for operator or function; "
                                "operator or function: list_append, number of operands: 1"),
    ("REMOVE value", "Attribute name is a reserved keyword; reserved keyword: value"),
])
def test_update_refusals(text, message):
    assert reason(parse_update, text) == message


def test_arithmetic_takes_plain_operands():
    with pytest.raises(ValidationException, match="Syntax error"):
        parse_update("SET a = (b + :c) + :d")


# ------------------------------------------------------------------ unparse
@pytest.mark.parametrize("text", [
    "a.b[2] = :v AND NOT (x < y OR begins_with(#n, :p))",
    "a = :a OR b = :b AND c = :c",
    "(a = :a OR b = :b) AND c = :c",
    "NOT (a = :a AND b = :b)",
    "a BETWEEN :lo AND :hi",
    "size(#s.x[0]) >= :n",
])
def test_unparse_round_trips_conditions(text):
    tree = parse_condition(text)
    assert parse_condition(unparse(tree)) == tree


def test_unparse_prints_updates_and_projections():
    assert unparse(parse_update("set a=b+:c remove x[1]")) == "SET a = b + :c REMOVE x[1]"
    assert unparse(parse_projection("a,b . c[1]")) == "a, b.c[1]"


def test_a_long_run_of_unknown_characters_is_one_syntax_error():
    assert reason(parse_condition, "!" * 4000) == 'Syntax error; token: "!", near: "!!"'
    assert reason(parse_condition, "a = :v AND " + "! " * 1900) == (
        'Syntax error; token: "!", near: "AND ! !"')


def test_nesting_is_bounded():
    """Deeper than 100 levels is refused instead of exhausting Python's stack."""
    deep = "NOT " * 150 + "a = :v"
    assert reason(parse_condition, deep) == "The expression has too many levels of nesting;"
    assert isinstance(parse_condition("NOT " * 50 + "a = :v"), Not)
