"""Markdown made at build time, so that a page cannot drift from what it documents.

A page holds an empty directive-shaped marker, a fenced block of two lines (```` ```{name} ````
then ```` ``` ````), which is replaced by what a function makes before MyST reads the page. Such a
page is read again at every build. A marker left unreplaced (its extension not loaded) is an
unknown directive, which a strict build fails on.
"""

from pathlib import Path
from typing import Callable

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment


def register(app: Sphinx, name: str, make: Callable[[], str]) -> None:
    """Replaces each ```` ```{name} ```` marker with `make()`'s Markdown."""
    marker = f"```{{{name}}}\n```"

    def replace(app: Sphinx, docname: str, source: list[str]) -> None:
        if marker in source[0]:
            source[0] = source[0].replace(marker, make())

    def pages_with_marker(
        app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
    ) -> list[str]:
        return [
            docname for docname in env.found_docs if marker in Path(env.doc2path(docname)).read_text(encoding="utf-8")
        ]

    app.connect("source-read", replace)
    app.connect("env-get-outdated", pages_with_marker)
