"""The docstrings of `lambda_executor._core` as its stub (_core.pyi) writes them: autodoc reads
the extension module, whose own docstrings are the Rust doc comments, while IDEs and type checkers
read the stub. Where the stub documents a class, method or property, the reference shows that.
"""

import ast
from functools import cache
from pathlib import Path
from typing import Any, Union

import lambda_executor
from sphinx.application import Sphinx

STUB = Path(lambda_executor.__file__).with_name("_core.pyi")
CORE = "lambda_executor._core"


@cache
def stub_docstrings() -> dict[str, str]:
    """The stub's docstrings by qualified name (`LocalLambda`, `LocalLambda.add_function`)."""
    found: dict[str, str] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                docstring = ast.get_docstring(node)
                if docstring:
                    found[prefix + node.name] = docstring
                if isinstance(node, ast.ClassDef):
                    visit(node.body, f"{prefix}{node.name}.")

    visit(ast.parse(STUB.read_text(encoding="utf-8")).body, "")
    return found


def qualified_name(obj: Any) -> Union[str, None]:
    """The name in the stub of an object of the extension module (None for any other object)."""
    owner = getattr(obj, "__objclass__", obj)  # a method's or property's class
    if getattr(owner, "__module__", None) != CORE:
        return None
    return getattr(obj, "__qualname__", None)


def use_stub_docstring(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    docstring = stub_docstrings().get(qualified_name(obj) or "")
    if docstring is not None:
        lines[:] = docstring.splitlines()


def setup(app: Sphinx) -> dict[str, object]:
    # Before napoleon (priority 500) turns the Google-style sections into fields.
    app.connect("autodoc-process-docstring", use_stub_docstring, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
