"""No two modules of ``imagestudio_nb.cloud`` import each other, directly or round a longer circle.

Every import counts: at module level, inside functions (local imports), and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import imagestudio_nb.cloud

PACKAGE = "imagestudio_nb.cloud"


def package_imports(folder: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports anywhere in its text (by ast)."""
    modules = {path.stem: path for path in folder.glob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            targets: list[str] = []  # imports from parent packages (level > 1) are outside this one
            if isinstance(node, ast.ImportFrom):
                if node.level == 1:  # from .x import y / from . import x
                    targets = [node.module.split(".")[0]] if node.module else [a.name for a in node.names]
                elif node.level == 0 and node.module and node.module.startswith(package + "."):
                    targets = [node.module[len(package) + 1:].split(".")[0]]
                elif node.level == 0 and node.module == package:
                    targets = [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name[len(package) + 1:].split(".")[0] for a in node.names
                           if a.name.startswith(package + ".")]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of modules (first repeated at the end), or ``None``."""
    state: dict[str, int] = {}   # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_no_import_cycle_within_the_cloud_package():
    graph = package_imports(Path(imagestudio_nb.cloud.__file__).parent, PACKAGE)
    graph.pop("__init__")  # the package front imports everything and nothing imports it back
    assert len(graph) >= 10 and "blob_sync" in graph["restore"]  # the walk sees real imports
    cycle = find_cycle(graph)
    assert cycle is None, "import circle in imagestudio_nb.cloud: " + " -> ".join(cycle or [])


def test_the_cycle_check_finds_a_circle_made_by_a_local_import(tmp_path):
    (tmp_path / "history.py").write_text("from .layout import x\n\ndef restore():\n    from .blob_sync import push\n")
    (tmp_path / "blob_sync.py").write_text("from .history import make_version\n")
    (tmp_path / "layout.py").write_text("import os\n")
    graph = package_imports(tmp_path, "pkg")
    assert graph == {"history": {"layout", "blob_sync"}, "blob_sync": {"history"}, "layout": set()}
    assert find_cycle(graph) == ["blob_sync", "history", "blob_sync"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    absolute = tmp_path / "verify.py"
    absolute.write_text("from pkg.layout import x\nimport pkg.verify\n")
    assert package_imports(tmp_path, "pkg")["verify"] == {"layout"}
