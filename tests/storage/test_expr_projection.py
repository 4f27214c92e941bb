"""Projections keep the selected paths in their nested structure.

Developer Guide, "Projection expressions".
"""

from dynamo.storage.expressions import compile_request, project
from dynamo.storage.keys import KeyAttribute, KeySchema

SCHEMA = KeySchema(KeyAttribute("pk", "S"))
ITEM = {
    "pk": {"S": "k"},
    "a": {"M": {"b": {"L": [{"M": {"c": {"N": "1"}, "d": {"N": "2"}}},
                            {"M": {"c": {"N": "3"}}},
                            {"S": "tail"}]},
                "e": {"S": "e"}}},
    "s": {"S": "text"},
}


def paths(text, names=None):
    params = {"ProjectionExpression": text}
    if names:
        params["ExpressionAttributeNames"] = names
    return compile_request("GetItem", params, SCHEMA).projection


def test_top_level_attributes():
    assert project(ITEM, paths("pk, s")) == {"pk": {"S": "k"}, "s": {"S": "text"}}


def test_nested_path_keeps_its_structure():
    assert project(ITEM, paths("a.b[1].c")) == {
        "a": {"M": {"b": {"L": [{"M": {"c": {"N": "3"}}}]}}}}


def test_several_paths_merge_and_list_elements_keep_their_order():
    result = project(ITEM, paths("a.b[2], a.e, a.b[0].d"))
    assert result == {"a": {"M": {"b": {"L": [{"M": {"d": {"N": "2"}}}, {"S": "tail"}]},
                                  "e": {"S": "e"}}}}


def test_paths_leading_nowhere_are_left_out():
    assert project(ITEM, paths("absent, a.b[7], s.x, a.zz")) == {}


def test_projection_copies():
    result = project(ITEM, paths("a.e"))
    result["a"]["M"]["e"]["S"] = "changed"
    assert ITEM["a"]["M"]["e"] == {"S": "e"}


def test_placeholders():
    assert project(ITEM, paths("#x.#y", {"#x": "a", "#y": "e"})) == {"a": {"M": {"e": {"S": "e"}}}}
