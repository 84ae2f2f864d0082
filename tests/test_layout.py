"""How the code is laid out: honest package exports, and no import cycle among modules.

Both checks walk every package and module under `gridledger`, so packages added later
(``client/``, ``cli/``) are held to them without a change here.
"""

from __future__ import annotations

import ast
import importlib
import types
from pathlib import Path

import grimp
import pytest

import gridledger

SOURCE = Path(gridledger.__file__).parent
PACKAGES = sorted(
    ".".join(("gridledger", *init.parent.relative_to(SOURCE).parts))
    for init in SOURCE.rglob("__init__.py")
)


def init_file(package: str) -> Path:
    return SOURCE.joinpath(*package.split(".")[1:], "__init__.py")


def is_docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)


def is_import(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Import | ast.ImportFrom)


def is_all(statement: ast.stmt) -> bool:
    targets = statement.targets if isinstance(statement, ast.Assign) else []
    if isinstance(statement, ast.AnnAssign):
        targets = [statement.target]
    return [getattr(target, "id", None) for target in targets] == ["__all__"]


def is_type_checking_imports(statement: ast.stmt) -> bool:
    """``if TYPE_CHECKING:`` holding only imports (the types of lazy exports)."""
    return (
        isinstance(statement, ast.If)
        and ast.unparse(statement.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
        and not statement.orelse
        and all(is_import(inner) for inner in statement.body)
    )


def is_lazy_getattr(statement: ast.stmt) -> bool:
    """A module-level ``def __getattr__(name)`` (PEP 562), for exports imported on first use."""
    return isinstance(statement, ast.FunctionDef) and statement.name == "__getattr__"


ALLOWED = (is_docstring, is_import, is_all, is_type_checking_imports, is_lazy_getattr)


def imported_names(tree: ast.Module) -> set[str]:
    """The names the ``__init__`` binds by importing (at top level or for type checking)."""
    statements = [s for s in tree.body if is_import(s)]
    for statement in tree.body:
        if is_type_checking_imports(statement):
            statements.extend(statement.body)  # type: ignore[attr-defined]
    names = set()
    for statement in statements:
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            continue
        for alias in statement.names:  # type: ignore[attr-defined]
            names.add(alias.asname or alias.name.split(".")[0])
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_an_init_holds_nothing_but_exports(package: str) -> None:
    tree = ast.parse(init_file(package).read_text())
    others = [
        f"line {s.lineno}: {ast.unparse(s).splitlines()[0]}"
        for s in tree.body
        if not any(allowed(s) for allowed in ALLOWED)
    ]
    assert not others, (
        f"{init_file(package).relative_to(SOURCE.parent)} may hold only a docstring, imports, "
        f"__all__ and a lazy __getattr__; move these into a module: {others}"
    )


@pytest.mark.parametrize("package", PACKAGES)
def test_all_names_exactly_the_public_names_of_a_package(package: str) -> None:
    module = importlib.import_module(package)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list), f"{package} has no __all__ list"
    assert len(exported) == len(set(exported)), f"{package}.__all__ repeats a name"
    missing = [name for name in exported if not hasattr(module, name)]
    assert not missing, f"{package}.__all__ names what it does not have: {missing}"

    tree = ast.parse(init_file(package).read_text())
    public = {name for name in imported_names(tree) if not name.startswith("_")}
    public.discard("TYPE_CHECKING")  # imported for the types of lazy exports
    public |= {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and name != "TYPE_CHECKING"
        and not (isinstance(value, types.ModuleType) and value.__name__ == f"{package}.{name}")
    }  # a submodule is bound on its package when imported: not an export
    unexported = sorted(public - set(exported))
    assert not unexported, f"{package} has public names missing from __all__: {unexported}"


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of the import graph, by Tarjan's algorithm
    (iterative: the graph is deeper than Python's recursion limit allows for)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, imported = work[-1]
            following = next(imported, None)
            if following is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[module])
                if low[module] == index[module]:
                    components.append(pop_component(stack, on_stack, module))
            elif following not in index:
                index[following] = low[following] = len(index)
                stack.append(following)
                on_stack.add(following)
                work.append(
                    (following, iter(sorted(graph.find_modules_directly_imported_by(following))))
                )
            elif following in on_stack:
                low[module] = min(low[module], index[following])
    return components


def pop_component(stack: list[str], on_stack: set[str], root: str) -> list[str]:
    component = []
    while True:
        module = stack.pop()
        on_stack.discard(module)
        component.append(module)
        if module == root:
            return sorted(component)


def test_strongly_connected_finds_a_cycle_and_nothing_else() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")]:
        graph.add_import(importer=importer, imported=imported)
    found = sorted(strongly_connected(graph))
    assert found == [["p.a", "p.b", "p.c"], ["p.d"]]


def test_no_module_of_gridledger_imports_itself_through_others() -> None:
    """Imports under ``if TYPE_CHECKING:`` count too: a cycle of types is still two modules
    that each need the other to be read. None is needed today; if one ever is, the shared
    type belongs in a third module that both import."""
    graph = grimp.build_graph("gridledger", exclude_type_checking_imports=False, cache_dir=None)
    cycles = [component for component in strongly_connected(graph) if len(component) > 1]
    assert not cycles, f"import cycles among gridledger's modules: {cycles}"
