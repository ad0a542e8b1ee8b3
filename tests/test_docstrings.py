"""Every Sphinx cross-reference in styletx's docstrings names an object that exists.

A reference such as :func:`styletx.music.grid.build_grid` goes stale silently when a
function is renamed or a module moves; this test imports every module and resolves
every ``:func:``/``:class:``/``:meth:``/``:mod:``/``:data:``/``:attr:``/``:exc:`` reference
in its source, qualified names by import and bare names in the module's own namespace
(or on one of its classes, for methods and attributes named from inside a class).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from itertools import pairwise
from pathlib import Path

import pytest

import styletx

_ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|exc|obj):`~?([A-Za-z_][\w.]*)(?:\(\))?`")


def _modules() -> list[str]:
    names = ["styletx"]
    for info in pkgutil.walk_packages(styletx.__path__, "styletx."):
        if info.name != "styletx.__main__":
            names.append(info.name)
    return sorted(names)


def _attr(obj: object, name: str) -> object:
    """``getattr``, also finding dataclass fields that have no class-level default."""
    if name in getattr(obj, "__dataclass_fields__", {}):
        return getattr(obj, name, None)
    return getattr(obj, name)


def _walk(obj: object, names: list[str]) -> object:
    for name in names:
        obj = _attr(obj, name)
    return obj


def _resolve_qualified(name: str) -> object:
    """Import the longest module prefix of ``name`` and walk attributes from it.

    A function or class must be named by the module that defines it, or by a package that
    exports it in ``__all__``: a name another module merely imports is not its home.
    """
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        obj = _walk(module, parts[cut:])
        home = getattr(obj, "__module__", None)
        if (cut == len(parts) - 1 and (inspect.isfunction(obj) or inspect.isclass(obj))
                and home != module.__name__ and parts[cut] not in getattr(module, "__all__", ())):
            raise AttributeError(f"{name} is {home}.{parts[cut]}, imported into {module.__name__}")
        return obj
    raise ImportError(name)


def _resolve(module: object, name: str) -> object:
    if hasattr(module, name.split(".")[0]):
        return _walk(module, name.split("."))
    try:
        return _resolve_qualified(name)
    except ImportError:
        if "." in name:
            raise
    # A bare method or attribute named inside a class's docstring: look on the module's classes.
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if cls.__module__ == module.__name__ and (
            hasattr(cls, name) or name in getattr(cls, "__dataclass_fields__", {})
            or name in getattr(cls, "__annotations__", {})
        ):
            return getattr(cls, name, None)
    raise AttributeError(name)


def _docstrings(source: str) -> list[str]:
    tree = ast.parse(source)
    nodes = [tree, *(n for n in ast.walk(tree)
                     if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef))]
    out = [d for n in nodes if (d := ast.get_docstring(n, clean=False))]
    # Attribute docstrings: a bare string expression right after an assignment.
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for prev, stmt in pairwise(body):
                if (isinstance(prev, ast.Assign | ast.AnnAssign) and isinstance(stmt, ast.Expr)
                        and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)):
                    out.append(stmt.value.value)
    return out


@pytest.mark.parametrize("name", _modules())
def test_docstring_references_resolve(name: str) -> None:
    module = importlib.import_module(name)
    source = Path(module.__file__).read_text(encoding="utf-8")
    broken = []
    for doc in _docstrings(source):
        for ref in _ROLE.findall(doc):
            try:
                _resolve(module, ref)
            except (ImportError, AttributeError):
                broken.append(ref)
    assert not broken, f"{name}: docstring references that name nothing: {sorted(set(broken))}"


def test_a_broken_reference_is_caught() -> None:
    """The resolver itself: a real name resolves, a stale one does not."""
    grid = importlib.import_module("styletx.music.grid")
    assert _resolve(grid, "styletx.music.grid.build_grid") is grid.build_grid
    assert _resolve(grid, "Grid.meta") is grid.Grid.meta
    with pytest.raises((ImportError, AttributeError)):
        _resolve(grid, "styletx.midi_io.read_midi")
    with pytest.raises(AttributeError):  # grid imports bar_starts; timing defines it
        _resolve(grid, "styletx.music.grid.bar_starts")
    with pytest.raises(AttributeError):
        _resolve(grid, "no_such_function")
