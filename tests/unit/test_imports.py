"""The import graph has no circle: no two modules reach each other through run-time imports.

The graph is grimp's (the engine of import-linter), built over the four packages with the
imports under ``if TYPE_CHECKING:`` left out (they never run) and every other import kept,
including those hidden inside functions: a lazy import still makes a circle, it only moves
the failure from start-up to the first call. A circle is a strongly connected component of
more than one module (or a module importing itself).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Set
from pathlib import Path

import grimp

PACKAGES = ("console", "backends", "screens", "widgets")
ROOT = Path(__file__).resolve().parents[2]


def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True, cache_dir=None)


def circles(edges: Mapping[str, Set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module, or with a self-import
    (Tarjan's algorithm, iterative so a deep graph cannot overflow the stack)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(edges.get(target, ())))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in edges.get(node, ()):
                        found.append(sorted(component))
    return sorted(found)


def edges_of(g: grimp.ImportGraph) -> dict[str, set[str]]:
    return {m: set(g.find_modules_directly_imported_by(m)) for m in g.modules}


def test_the_import_graph_has_no_circle() -> None:
    g = graph()
    found = circles(edges_of(g))
    detail = [
        " -> ".join(c) + "; e.g. " + " -> ".join(g.find_shortest_chain(c[1], c[0]) or ())
        for c in found
    ]
    assert found == [], "import circles (move the shared part to a module both import):\n" + (
        "\n".join(detail)
    )


def test_the_circle_finder_finds_circles() -> None:
    """The check above can fail: a two-module circle, a longer one and a self-import are
    found, a chain and a diamond are not."""
    assert circles({"a": {"b"}, "b": {"a"}}) == [["a", "b"]]
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"a"}}) == [["a"]]
    assert circles({"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": set()}) == []
    g = grimp.ImportGraph()
    g.add_import(importer="x.store", imported="x.intake")
    g.add_import(importer="x.intake", imported="x.store")
    g.add_import(importer="x.leader", imported="x.store")
    assert circles(edges_of(g)) == [["x.intake", "x.store"]]


def _function_imports() -> Iterator[tuple[str, str, int]]:
    """(importer, imported, line) for every import inside a function body of the packages."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            module = ".".join(parts)
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for func in ast.walk(tree):
                if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(func):
                    if isinstance(node, ast.Import):
                        for alias in node.names:
                            yield module, alias.name, node.lineno
                    elif isinstance(node, ast.ImportFrom):
                        base = node.module or ""
                        if node.level:
                            anchor = parts if is_package else parts[:-1]
                            anchor = anchor[: len(anchor) - (node.level - 1)]
                            base = ".".join([*anchor, *([base] if base else [])])
                        for alias in node.names:
                            yield module, f"{base}.{alias.name}", node.lineno


def test_imports_inside_functions_are_in_the_graph() -> None:
    """No circle hides behind an import inside a function: every such import of one of the
    packages is an edge of the graph checked above."""
    g = graph()
    modules = set(g.modules)
    checked = 0
    missing = []
    for importer, imported, line in _function_imports():
        if imported.split(".")[0] not in PACKAGES:
            continue
        # ``from a.b import c`` imports the module a.b.c if there is one, else a.b.
        target = imported if imported in modules else imported.rpartition(".")[0]
        checked += 1
        if not g.direct_import_exists(importer=importer, imported=target):
            missing.append(f"{importer}:{line} -> {target}")
    assert checked > 0, "found no import inside a function: the scan is broken"
    assert missing == []
