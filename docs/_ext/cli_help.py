"""The `lambda-executor-help` marker becomes the `--help` of the command and of each subcommand,
as the installed package prints it: the CLI's own parser runs in-process at build time.
"""

import contextlib
import io
import os
import re

from generated_markdown import register
from lambda_executor.cli import main
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

# Help is wrapped to the terminal's width: a fixed one keeps the page the same on every machine.
HELP_WIDTH = "100"
# argparse lists the subcommands as `{demo,local,...}` under the positional arguments.
SUBCOMMANDS = re.compile(r"^\s+\{([\w,-]+)\}", re.MULTILINE)


def help_text(*words: str) -> str:
    """What `lambda-executor WORDS --help` prints."""
    printed = io.StringIO()
    width = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_WIDTH
    try:
        with contextlib.redirect_stdout(printed), contextlib.suppress(SystemExit):
            main([*words, "--help"])
    finally:
        if width is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = width
    return printed.getvalue()


def section(heading: str, text: str) -> str:
    return f"## `{heading}`\n\n```text\n{text.rstrip()}\n```\n"


def every_help() -> str:
    top = help_text()
    listed = SUBCOMMANDS.search(top)
    if listed is None:
        raise ExtensionError("lambda-executor --help lists no subcommands")
    sections = [section("lambda-executor", top)]
    sections += [section(f"lambda-executor {name}", help_text(name)) for name in listed[1].split(",")]
    return "\n".join(sections)


def setup(app: Sphinx) -> dict[str, object]:
    register(app, "lambda-executor-help", every_help)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
