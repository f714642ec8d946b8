"""Layers point one way: no source file imports one that imports it back, directly or through
others, in any Rust crate or in the Python package (docs/development.md draws the
layers). A file's imports are what it names of the others: `use crate::...`, `use super::...` and
paths written in code for Rust (a `mod x;` declaration is not an import, a `pub use` is), every
`import` and `from ... import` for Python, those inside functions too."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components of more than one file: each holds an import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def cycle_in(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """One cycle through a component's first file, to name in a failure."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node] & members):
            if target == start:
                return [*paths[node], start]
            if target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    return component


# Rust


def rust_code(text: str) -> str:
    """The code of a file without comments, string literals and its unit tests (an inline
    `mod tests` names its own file's items through `super`)."""
    text = re.sub(r"#\[cfg\(test\)\]\s*mod tests\b.*", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'r#*"(?:.|\n)*?"#*', '""', text)
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


def rust_modules(source: Path) -> dict[tuple[str, ...], Path]:
    """Each file of a crate's src by its module path (lib.rs is the root, ())."""
    modules = {}
    for file in source.rglob("*.rs"):
        parts = file.relative_to(source).with_suffix("").parts
        if parts[-1] in ("lib", "mod"):
            parts = parts[:-1]
        modules[parts] = file
    return modules


def use_paths(code: str, at: int) -> tuple[list[list[str]], int]:
    """The paths of a path tree starting at `at` (`a::b`, `a::{b, c::d}`, `a::b::C`), each as
    its segments, and where the tree ends."""
    segments: list[str] = []
    while True:
        while at < len(code) and code[at].isspace():
            at += 1
        if code.startswith("{", at):
            paths, at = [], at + 1
            while True:
                inner, at = use_paths(code, at)
                paths += [segments + path for path in inner]
                while at < len(code) and code[at] in " \t\n,":
                    at += 1
                if code.startswith("}", at):
                    return paths, at + 1
                if at >= len(code):
                    return paths, at
        word = IDENTIFIER.match(code, at)
        if not word:
            return [segments], at
        segments.append(word.group())
        at = word.end()
        if not code.startswith("::", at):
            return [segments], at
        at += 2


def rust_graph(crate: Path) -> dict[str, set[str]]:
    source = crate / "src"
    modules = rust_modules(source)
    graph: dict[str, set[str]] = {}
    for module, file in modules.items():
        name = str(file.relative_to(ROOT))
        graph.setdefault(name, set())
        code = rust_code(file.read_text())
        # `child::...` names a child module of this one (Rust 2018's paths), in `use` or in code.
        for start in re.finditer(r"(?<![:\w])(?=([A-Za-z_][A-Za-z0-9_]*)::)", code):
            if (*module, start.group(1)) in modules:
                for path in use_paths(code, start.end())[0]:
                    add_edge(graph[name], modules, file, (*module, *path))
        for start in re.finditer(r"\b(crate|super|self)::", code):
            if code[max(0, start.start() - 1)] == ":":
                continue  # `$crate::` or a path that merely ends in `self`
            head = start.group(1)
            base = {"crate": (), "super": module[:-1], "self": module}[head]
            paths, _ = use_paths(code, start.end())
            for path in paths:
                path = [part for part in path if part != "self"]
                while path and path[0] == "super":
                    base, path = base[:-1], path[1:]
                add_edge(graph[name], modules, file, (*base, *path))
    return graph


def add_edge(targets: set[str], modules: dict[tuple[str, ...], Path], file: Path, full: tuple[str, ...]) -> None:
    """An edge from `file` to the file that defines what `full` names: the longest prefix of it
    that is a module."""
    for length in range(len(full), -1, -1):
        target = modules.get(full[:length])
        if target is not None:
            if target != file:
                targets.add(str(target.relative_to(ROOT)))
            return


def test_no_rust_file_imports_one_that_imports_it_back():
    for crate in sorted((ROOT / "crates").iterdir()):
        graph = rust_graph(crate)
        cycles = [" -> ".join(cycle_in(component, graph)) for component in strongly_connected(graph)]
        assert not cycles, f"import cycles in {crate.name}:\n" + "\n".join(cycles)


# Python


def python_graph(package: Path) -> dict[str, set[str]]:
    modules = {}
    # The extension module is known by its stub (a leaf: it imports nothing of the package).
    for file in sorted(package.rglob("*.py*")):
        if file.suffix not in (".py", ".pyi") or (file.suffix == ".pyi" and file.with_suffix(".py").exists()):
            continue
        parts = (package.name, *file.relative_to(package).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = file
    graph: dict[str, set[str]] = {}
    for module, file in modules.items():
        name = str(file.relative_to(ROOT))
        graph.setdefault(name, set())
        this_package = module if file.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Import):
                named = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = this_package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                origin = ".".join(part for part in (base if node.level else "", node.module or "") if part)
                # `from package import module` imports the module; `from module import name`, the module.
                named = [
                    f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin for alias in node.names
                ]
            else:
                continue
            for target in named:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and modules[target] != file:
                    graph[name].add(str(modules[target].relative_to(ROOT)))
    return graph


def test_no_python_module_imports_one_that_imports_it_back():
    graph = python_graph(ROOT / "python" / "lambda_executor")
    cycles = [" -> ".join(cycle_in(component, graph)) for component in strongly_connected(graph)]
    assert not cycles, "import cycles in lambda_executor:\n" + "\n".join(cycles)
