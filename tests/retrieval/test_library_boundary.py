"""`retrieval/` is a library: the service uses it, it never reaches back into the service."""

from __future__ import annotations

import ast

from assistant.settings import PROJECT_ROOT


def _imports(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_retrieval_imports_nothing_from_the_service() -> None:
    files = sorted((PROJECT_ROOT / "retrieval").glob("*.py"))
    assert len(files) > 5
    reaching_back = {
        f.name: sorted(n for n in _imports(f.read_text()) if n.split(".")[0] == "assistant")
        for f in files
    }
    assert {name: found for name, found in reaching_back.items() if found} == {}


def test_the_check_sees_an_import_of_the_service() -> None:
    assert "assistant.db" in _imports("from assistant.db import tables as t\n")
    assert "assistant" in _imports("import assistant\n")
