"""The documentation site builds strictly, as CI checks it: every warning (a broken link or
anchor, a reference that resolves nowhere, a docstring docutils cannot read) fails the build. The
pages made at build time say what a reader looks for there: the API reference documents
`LambdaExecutor.map`, the command line page each subcommand's help, and LocalLambda's checklist
marks Invoke implemented."""

import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """The strict build, as CI runs it; with --keep-going, its pages are written despite warnings."""
    built = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html", str(DOCS), str(built)]
    return built, subprocess.run(command, capture_output=True, text=True, timeout=240)


@pytest.fixture(scope="module")
def site(build):
    return build[0]


def test_the_site_builds_without_a_warning(build):
    _, done = build
    assert done.returncode == 0, f"the site's build failed:\n{done.stderr}"


def text(page: Path) -> str:
    """A built page's text, its tags removed."""
    return unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def test_the_api_reference_documents_lambda_executor_map(site):
    page = (site / "reference" / "api.html").read_text(encoding="utf-8")
    assert 'id="lambda_executor.LambdaExecutor.map"' in page


def test_the_command_line_page_has_each_subcommands_help(site):
    page = text(site / "reference" / "cli.html")
    for subcommand in ("demo", "local", "deploy", "invoke", "logs", "tune"):
        assert f"usage: lambda-executor {subcommand}" in page


def test_local_lambdas_checklist_lists_invoke_as_implemented(site):
    page = text(site / "reference" / "local-lambda-operations.html")
    assert re.search(r"Invoke\s+POST\s+/2015-03-31/functions/\{FunctionName\}/invocations\s+implemented", page)
    assert re.search(r"InvokeWithResponseStream\s+POST\s+\S+\s+no", page)
