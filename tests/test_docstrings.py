"""The public API documents itself: what `help()` shows and what the Sphinx site's API reference
is generated from (Google-style docstrings, as sphinx.ext.napoleon reads them)."""

import ast
import dataclasses
import inspect
import re
from pathlib import Path
from typing import Any, Optional

import lambda_executor
import pytest
from lambda_executor import LambdaExecutor, RetryPolicy, _core

STUB = Path(_core.__file__).with_name("_core.pyi")

# Made by the library, never by the user: their constructors' arguments are not documented.
MADE_BY_THE_LIBRARY = {"AsyncResult", "InvocationInfo", "LambdaFuture", "Report", "Stats", "Timeline"}
# Exported data, which carries no docstring of its own.
DATA = {"WARM_EVENT", "__version__"}


def _stub_tree() -> ast.Module:
    return ast.parse(STUB.read_text(encoding="utf-8"))


def _stub_returns() -> dict[str, Optional[str]]:
    """The stub's return annotation of each function and method ("Class.method"): the extension's
    own functions carry none at runtime."""
    returns = {}
    for node in _stub_tree().body:
        members = node.body if isinstance(node, ast.ClassDef) else [node]
        prefix = f"{node.name}." if isinstance(node, ast.ClassDef) else ""
        for member in members:
            if isinstance(member, ast.FunctionDef):
                returns[prefix + member.name] = ast.unparse(member.returns) if member.returns else None
    return returns


def _public_api() -> list[tuple[str, Any]]:
    """Every public object the package exports, and the public methods and properties of its
    classes that lambda_executor defines (what they inherit from the standard library is the
    standard library's, and right for them)."""
    found = []
    for name in lambda_executor.__all__:
        if name in DATA:
            continue
        value = getattr(lambda_executor, name)
        found.append((name, value))
        if not isinstance(value, type):
            continue
        for member in dir(value):
            if member.startswith("_"):
                continue
            owner = next(klass for klass in value.__mro__ if member in vars(klass))
            if owner.__module__.startswith("lambda_executor") and callable_or_property(vars(owner)[member]):
                found.append((f"{name}.{member}", vars(owner)[member]))
    return found


def callable_or_property(value: Any) -> bool:
    return callable(value) or inspect.isdatadescriptor(value)


PUBLIC_API = _public_api()
STUB_RETURNS = _stub_returns()


def _section(doc: str, title: str) -> str:
    """The text of a Google-style section ("Args:"), up to the next section or the end."""
    match = re.search(rf"^{title}:\n((?:[ \t]+.*\n?|\n)*)", doc, re.MULTILINE)
    return match.group(1) if match else ""


def _documented_parameters(doc: str) -> set[str]:
    """The names an "Args:" section documents (`name:`, `*args:`, `name (type):`)."""
    return set(re.findall(r"^    (\**\w+)(?: \(.*?\))?:", _section(doc, "Args"), re.MULTILINE))


def _parameters(function: Any) -> list[str]:
    """What a caller passes: the parameters but `self` and `cls`, with `*` and `**` marked. A class's
    are its own __init__'s where it has one (FunctionError's __new__ passes them on)."""
    if isinstance(function, type) and "__init__" in vars(function):
        function = vars(function)["__init__"]
    stars = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
    return [
        stars.get(parameter.kind, "") + parameter.name
        for parameter in inspect.signature(function).parameters.values()
        if parameter.name not in ("self", "cls")
    ]


@pytest.mark.parametrize(("name", "value"), PUBLIC_API, ids=[name for name, _ in PUBLIC_API])
def test_every_public_object_has_its_own_docstring(name, value):
    doc = value.__doc__
    assert doc and doc.strip(), f"{name} has no docstring"
    summary = inspect.cleandoc(doc).split("\n\n")[0]
    assert summary.endswith("."), f"{name}'s docstring does not open with a one-sentence summary: {summary!r}"
    # reST, not Markdown: Sphinx renders `x` as emphasis. Left once ``code`` and :role:`target` are
    # taken out, a backtick is Markdown's.
    rest = re.sub(r":[\w:]+:`[^`]+`", "", re.sub(r"``[^`]+``", "", doc))
    assert "`" not in rest, f"{name} quotes code with Markdown's single backticks"


@pytest.mark.parametrize(("name", "value"), PUBLIC_API, ids=[name for name, _ in PUBLIC_API])
def test_every_parameter_is_documented_under_args(name, value):
    if inspect.isdatadescriptor(value) or (isinstance(value, type) and name in MADE_BY_THE_LIBRARY):
        return
    if isinstance(value, type) and issubclass(value, BaseException) and "__init__" not in vars(value):
        return  # Exception's own (*args): the message
    parameters = _parameters(value)
    if not parameters:
        return
    documented = _documented_parameters(inspect.cleandoc(value.__doc__))
    assert documented, f"{name} takes {parameters} but its docstring has no Args: section"
    assert set(parameters) <= documented, f"{name}'s Args: leaves out {sorted(set(parameters) - documented)}"


@pytest.mark.parametrize(("name", "value"), PUBLIC_API, ids=[name for name, _ in PUBLIC_API])
def test_what_a_function_returns_is_documented(name, value):
    if isinstance(value, type) or inspect.isdatadescriptor(value):
        return
    if inspect.isasyncgenfunction(value):
        assert "\nYields:\n" in inspect.cleandoc(value.__doc__), f"{name} yields but says not what"
        return
    try:
        returns = inspect.signature(value).return_annotation
        returns = None if returns is inspect.Signature.empty else str(returns)
    except ValueError:
        returns = None
    if returns is None:  # the extension's own: annotated in the stub
        returns = STUB_RETURNS.get(name, STUB_RETURNS.get(f"{value.__qualname__}"))
    if returns in (None, "None"):
        return
    assert "\nReturns:\n" in inspect.cleandoc(value.__doc__), f"{name} returns {returns} but says not what"


def test_methods_overriding_the_standard_library_say_what_they_do_here():
    """concurrent.futures' generic docstrings ("Schedules the callable to be executed as
    fn(*args, **kwargs)") are wrong for an executor of Lambda invocations."""
    for klass in (LambdaExecutor, lambda_executor.LambdaFuture):
        for member, value in vars(klass).items():
            if callable(value) and not member.startswith("_"):
                assert value.__doc__, f"{klass.__name__}.{member} inherits the docstring of what it overrides"
    assert "fn(*args, **kwargs)" not in LambdaExecutor.submit.__doc__.splitlines()[0]


@pytest.mark.parametrize("name", sorted(set(lambda_executor.__all__) - DATA))
def test_a_constructor_does_not_say_initialize_self(name):
    """help(Class) shows __init__'s docstring, else object's: "Initialize self. See help(type(self))"."""
    klass = getattr(lambda_executor, name)
    init = vars(klass).get("__init__") if isinstance(klass, type) else None
    if inspect.isfunction(init) and not dataclasses.is_dataclass(klass):
        assert init.__doc__, f"{name}.__init__ has no docstring"


def test_errors_made_from_builtin_ones_say_what_they_are():
    error = lambda_executor.FunctionError("ZeroDivisionError", "division by zero")
    assert isinstance(error, ZeroDivisionError)
    assert "ZeroDivisionError" in type(error).__doc__ and "FunctionError" in type(error).__doc__


def _stub_documented() -> list[tuple[str, Optional[str]]]:
    """The classes, functions and methods the stub declares (the extension's own names, not the
    stub's private types), with their docstrings."""
    found = []

    def add(node: Any, qualified: str) -> None:
        found.append((qualified, ast.get_docstring(node)))

    for node in _stub_tree().body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            add(node, node.name)
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            add(node, node.name)
            for member in node.body:
                if isinstance(member, ast.FunctionDef) and member.name != "__new__":
                    add(member, f"{node.name}.{member.name}")
    return found


STUB_DOCUMENTED = _stub_documented()


@pytest.mark.parametrize(("name", "stub_doc"), STUB_DOCUMENTED, ids=[name for name, _ in STUB_DOCUMENTED])
def test_the_stub_carries_the_runtime_docstrings(name, stub_doc):
    """An IDE reads the stub, help() and Sphinx the extension: they say the same."""
    value: Any = _core
    for part in name.split("."):
        value = getattr(value, part)
    if type(value).__name__ == "wrapper_descriptor":  # a slot (__len__): Python's own docstring
        return
    runtime_doc = inspect.cleandoc(value.__doc__) if value.__doc__ else None
    assert stub_doc == runtime_doc


def test_the_stub_covers_every_public_class_of_the_extension():
    declared = {name for name, _ in STUB_DOCUMENTED}
    exported = {
        name for name in lambda_executor.__all__ if getattr(lambda_executor, name, None) in vars(_core).values()
    }
    assert exported - DATA <= declared


def test_the_executor_signature_shows_the_real_defaults():
    parameters = inspect.signature(LambdaExecutor).parameters
    assert parameters["max_workers"].default == 1000
    assert parameters["connect_timeout"].default == 10.0
    assert parameters["read_timeout"].default == 960.0
    assert repr(parameters["retry"].default) == repr(RetryPolicy())
    assert parameters["compress_over"].default == 64 * 1024
    # None is left only where it means "from the environment", "AWS's default" or "none": the
    # docstring says which.
    args = _section(inspect.cleandoc(LambdaExecutor.__doc__), "Args")
    for name, parameter in parameters.items():
        if parameter.default is None:
            entry = re.search(rf"^    {name}:((?:.*\n)(?:        .*\n)*)", args, re.MULTILINE)
            assert entry and "None" in entry.group(1), f"{name}=None: its Args entry says not what None means"


def test_help_shows_the_executor_parameters_rather_than_object_init():
    text = inspect.getdoc(LambdaExecutor.__init__)
    assert text and "Initialize self" not in text
    assert "connect_timeout" in inspect.getdoc(LambdaExecutor)
