"""Properties of the expression languages, checked on generated input.

- Printing a tree and parsing the text gives the same tree back, for
  generated conditions, updates and projections.
- No text, however malformed, makes the parser or compile_request raise
  anything but ValidationException: a client mistake is never a server error.
"""

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from dynamo.storage.errors import ValidationException
from dynamo.storage.expressions import compile_request, unparse
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
from dynamo.storage.expressions.names import is_reserved
from dynamo.storage.expressions.parser import parse_condition, parse_projection, parse_update
from dynamo.storage.keys import KeyAttribute, KeySchema

NAME_CHARS = string.ascii_letters + string.digits + "_"
# A bare name starts with a letter: DynamoDB refuses `_c` as a syntax error.
names = st.text(NAME_CHARS, min_size=1, max_size=6).filter(
    lambda n: n[0].isalpha() and not is_reserved(n))
placeholders = st.text(NAME_CHARS, min_size=1, max_size=4)
paths = st.builds(
    lambda head, tail: PathRef((head, *tail)),
    st.one_of(names, placeholders.map(lambda p: NameRef("#" + p))),
    st.lists(st.one_of(names, placeholders.map(lambda p: NameRef("#" + p)),
                       st.integers(0, 999)), max_size=3))
values = placeholders.map(lambda p: ValueRef(":" + p))
operands = st.one_of(paths, values, paths.map(lambda p: Call("size", (p,))))

leaves = st.one_of(
    st.builds(Comparison, st.sampled_from(["=", "<>", "<", "<=", ">", ">="]), operands, operands),
    st.builds(Between, operands, operands, operands),
    st.builds(lambda s, o: In(s, tuple(o)), operands, st.lists(operands, min_size=1, max_size=4)),
    st.builds(lambda f, p: Call(f, (p,)),
              st.sampled_from(["attribute_exists", "attribute_not_exists"]), paths),
    st.builds(lambda f, p, v: Call(f, (p, v)),
              st.sampled_from(["attribute_type", "begins_with", "contains"]), paths, operands),
)


def _combined(children):
    return st.one_of(
        st.builds(Not, children),
        st.lists(children, min_size=2, max_size=3).map(lambda cs: And(tuple(cs))),
        st.lists(children, min_size=2, max_size=3).map(lambda cs: Or(tuple(cs))),
    )


conditions = st.recursive(leaves, _combined, max_leaves=8)


def flattened(tree):
    """The tree the parser builds: `a AND (b AND c)` is one And of three."""
    if isinstance(tree, Not):
        return Not(flattened(tree.operand))
    if isinstance(tree, (And, Or)):
        operands = []
        for operand in map(flattened, tree.operands):
            same = isinstance(operand, type(tree))
            operands.extend(operand.operands if same else (operand,))
        return type(tree)(tuple(operands))
    return tree

update_operands = st.one_of(
    paths, values,
    st.builds(lambda p, v: Call("if_not_exists", (p, v)), paths, values),
    st.builds(lambda a, b: Call("list_append", (a, b)), st.one_of(paths, values),
              st.one_of(paths, values)))
set_values = st.one_of(update_operands,
                       st.builds(Arithmetic, st.sampled_from("+-"), update_operands,
                                 update_operands))
clauses = {
    "SET": st.builds(SetAction, paths, set_values),
    "REMOVE": st.builds(RemoveAction, paths),
    "ADD": st.builds(AddAction, paths, values),
    "DELETE": st.builds(DeleteAction, paths, values),
}
updates = st.lists(st.sampled_from(list(clauses)), min_size=1, max_size=4, unique=True).flatmap(
    lambda keywords: st.tuples(*(
        st.lists(clauses[k], min_size=1, max_size=3).map(
            lambda actions, k=k: Clause(k, tuple(actions)))
        for k in keywords)).map(lambda cs: Update(tuple(cs))))
projections = st.lists(paths, min_size=1, max_size=4).map(lambda ps: Projection(tuple(ps)))


@settings(max_examples=200, deadline=None)
@given(conditions)
def test_conditions_round_trip(tree):
    parsed = parse_condition(unparse(tree))
    assert parsed == flattened(tree)
    assert parse_condition(unparse(parsed)) == parsed


@settings(max_examples=100, deadline=None)
@given(updates)
def test_updates_round_trip(tree):
    assert parse_update(unparse(tree)) == tree


@settings(max_examples=100, deadline=None)
@given(projections)
def test_projections_round_trip(tree):
    assert parse_projection(unparse(tree)) == tree


EXPRESSIONISH = st.lists(st.sampled_from(list("ab#:()[].,=<>+- 0123_\t") + [
    "AND ", "OR ", "NOT ", "BETWEEN ", "IN ", "SET ", "REMOVE ", "ADD ", "DELETE ", "size",
    "begins_with", "attribute_exists", "if_not_exists", "list_append", ":v", "#n"]),
    max_size=25).map("".join)
ANY_TEXT = st.one_of(st.text(max_size=40), EXPRESSIONISH)


def _only_validation_errors(call, *args):
    try:
        call(*args)
    except ValidationException:
        pass


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT)
def test_parsers_raise_only_validation_errors(text):
    for parse in (parse_condition, parse_update, parse_projection):
        _only_validation_errors(parse, text)


SCHEMA = KeySchema(KeyAttribute("pk", "S"), KeyAttribute("sk", "N"))


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT, st.sampled_from(["ConditionExpression", "UpdateExpression",
                                  "KeyConditionExpression", "FilterExpression",
                                  "ProjectionExpression"]))
def test_compile_raises_only_validation_errors(text, parameter):
    operation = {"ConditionExpression": "PutItem", "UpdateExpression": "UpdateItem",
                 "KeyConditionExpression": "Query", "FilterExpression": "Scan",
                 "ProjectionExpression": "GetItem"}[parameter]
    params = {parameter: text, "ExpressionAttributeNames": {"#n": "n", "#pk": "pk"},
              "ExpressionAttributeValues": {":v": {"N": "1"}, ":s": {"S": "x"}}}
    _only_validation_errors(compile_request, operation, params, SCHEMA)
