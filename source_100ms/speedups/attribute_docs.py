"""A faster `attributes_doc.get_attributes_doc` for serpyco-rs (installed by `source_100ms.speedups`, before the CDK
is imported).

Why: importing the CDK builds a serpyco-rs `Serializer` for each Airbyte protocol message type, and serpyco-rs
reads the docstring of every attribute of every protocol class (for JSON-schema descriptions) with
`attributes_doc.get_attributes_doc`. That calls `inspect.getsource` for each class and its bases, and for a class
`inspect` parses the whole module file again each time: 0.45 s of the connector's 1.6 s start-up (`python -X
importtime`: `airbyte_cdk.models.airbyte_protocol_serializers` 0.47 s), paid by every `spec`, `check`,
`discover` and `read`.

Here each source file is parsed once, and a class is found in that tree by its qualified name exactly as
`inspect.findsource` finds it (the first class definition, in source order, whose dotted path of enclosing
classes and functions, with `<locals>` after a function, equals the qualified name). The attribute docstrings
are then read from the class body with the same rules as `attributes_doc`. Any class this cannot place (no
source file, not found, a class built at run time) is handed to the original function, so the results are the
original's; a unit test compares the two on every protocol class. The CDK allows any serpyco-rs 1.x: where a
version keeps the function elsewhere, nothing is replaced and only the start-up is slower.
"""

from __future__ import annotations

import ast
import inspect
import linecache
from functools import lru_cache

try:
    from attributes_doc import get_attributes_doc as _original
except ImportError:  # a serpyco-rs that does not read docstrings with attributes_doc: nothing to speed up
    _original = None


class _NotPlaced(Exception):
    """A class whose definition this module does not find; the original function reads it."""


@lru_cache(maxsize=16)
def _classes_of(filename: str) -> dict[str, ast.ClassDef]:
    """Every class definition of one source file by qualified name, the first in source order kept."""
    lines = linecache.getlines(filename)
    if not lines:
        return {}
    found: dict[str, ast.ClassDef] = {}

    def visit(node: ast.AST, path: tuple[str, ...]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                inner = (*path, child.name)
                found.setdefault(".".join(inner), child)
                visit(child, inner)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, (*path, child.name, "<locals>"))
            else:
                visit(child, path)

    visit(ast.parse("".join(lines)), ())
    return found


def _class_node(cls: type) -> ast.ClassDef | None:
    """The class's definition; None where `inspect.getsource` would raise (built-in, no source)."""
    try:
        filename = inspect.getsourcefile(cls)
    except TypeError:
        return None
    if not filename:
        raise _NotPlaced
    linecache.checkcache(filename)
    node = _classes_of(filename).get(cls.__qualname__)
    if node is None:
        raise _NotPlaced
    return node


def get_attributes_doc(cls: type) -> dict[str, str]:
    """What `attributes_doc.get_attributes_doc(cls)` returns: attribute name to the docstring under it."""
    result: dict[str, str] = {}
    try:
        for parent in reversed(cls.mro()):
            node = _class_node(parent)
            if node is None:
                continue
            for statement, following in zip(node.body, node.body[1:], strict=False):
                if not isinstance(statement, ast.Assign | ast.AnnAssign) or not isinstance(following, ast.Expr):
                    continue
                value = following.value
                if isinstance(value, ast.JoinedStr):
                    raise _NotPlaced  # the original raises its own error for this: let it
                if not isinstance(value, ast.Constant) or not isinstance(value.value, str):
                    continue
                targets = [statement.target] if isinstance(statement, ast.AnnAssign) else statement.targets
                for target in targets:
                    if isinstance(target, ast.Name):
                        result[target.id] = value.value
    except _NotPlaced:
        return _original(cls)
    return result


@lru_cache(maxsize=1)
def cached_get_attributes_doc():
    """The one cached function every serpyco-rs module gets (cached, as serpyco-rs caches the original)."""
    return lru_cache(get_attributes_doc)
