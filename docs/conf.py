"""Sphinx's settings for lambda-executor's documentation site.

Build it strictly, as CI does (tests/docs/test_site.py):
python -m sphinx -W --keep-going -n -b html docs docs/_build/html
"""

import sys
from pathlib import Path

import lambda_executor

DOCS = Path(__file__).parent
# The site's own extensions: the CLI's help and LocalLambda's operations, made at build time,
# and _core's docstrings read from its stub.
sys.path.insert(0, str(DOCS / "_ext"))

project = "lambda-executor"
author = "the lambda-executor authors"
copyright = "the lambda-executor authors"
release = lambda_executor.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "cli_help",
    "local_lambda_operations",
    "stub_docstrings",
]

source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]

# `[text](page.md#a-heading)` links reach headings down to ###.
myst_heading_anchors = 3

# Docstrings are Google style ("Args:", "Returns:", "Raises:").
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# "Attributes:" sections as fields of their class: autodoc documents the attributes as members too.
napoleon_use_ivar = True

# Docstrings write code in single backquotes, as Markdown does.
default_role = "literal"

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
# Every public member is listed, and only our own docstrings are shown: those inherited from
# concurrent.futures are written for Python's documentation, with references that resolve there.
autodoc_default_options = {"undoc-members": True}
autodoc_inherit_docstrings = False

# Python's inventory is shipped (Debian's python3.11-doc, Python 3.11.2's documentation): a build
# never reaches the internet, and links still point at docs.python.org.
intersphinx_mapping = {"python": ("https://docs.python.org/3", str(DOCS / "_inventories" / "python.inv"))}

# Every reference must resolve (-n), save these, which no inventory can name.
nitpicky = True
nitpick_ignore = [
    # LambdaFunction's base, private: the type of a function reference names it.
    ("py:class", "lambda_executor.targets.DeployedFunction"),
]

html_theme = "furo"
html_title = f"lambda-executor {release}"
