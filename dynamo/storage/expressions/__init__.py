"""DynamoDB's expression languages: conditions, filters, key conditions, updates, projections.

The public face of the package (Developer Guide, "Using expressions in
DynamoDB"); the chapter on storage reads the modules in this order:

- grammar.lark, parser.py: text to syntax tree (ast.py), cached per text;
- names.py: `#name` / `:value` placeholders and reserved words;
- checks.py, compile.py: a request's expressions checked as DynamoDB does,
  compiled into a `CompiledRequest`; operands.py is the table of which value
  types each comparator and function takes; envelope.py, the wording of
  DynamoDB's 2026 validation framework; legacy.py maps the old parameters onto
  the same tree; keyrange.py turns a key condition into a B-tree range;
- conditions.py (`evaluate`), update.py (`apply_update`),
  projection.py (`project`): running them against items;
- unparse.py: trees back to text.
"""

from dynamo.storage.expressions.ast import Condition, Path, Update
from dynamo.storage.expressions.compile import (
    CompiledRequest,
    check_style,
    compile_expressions,
    compile_request,
)
from dynamo.storage.expressions.conditions import evaluate
from dynamo.storage.expressions.keyrange import KeyRange
from dynamo.storage.expressions.projection import project
from dynamo.storage.expressions.unparse import unparse
from dynamo.storage.expressions.update import UpdatedItem, apply_update

__all__ = [
    "CompiledRequest",
    "Condition",
    "KeyRange",
    "Path",
    "Update",
    "UpdatedItem",
    "apply_update",
    "check_style",
    "compile_expressions",
    "compile_request",
    "evaluate",
    "project",
    "unparse",
]
