"""Every code block of the README, the quick start and the guide runs, offline, against the
LocalLambda the quick start starts.

A page's blocks run in order in a directory of its own (tests/docs/run_doc_page.py): Python
blocks in one namespace, shell blocks in one shell session. Every page but the quick start first
gets what the quick start makes: its files, and its `lambda-executor local` serving them.

A block is marked by an HTML comment on the line before its fence (invisible on GitHub and on
the site):

    <!-- docs-test: file app.py -->          the page asks the reader to save it: written there
    <!-- docs-test: server -->               a command that serves until Ctrl-C: started in the
                                             background, its `export` lines set for what follows
    <!-- docs-test: parse-only (needs AWS) --> only checked to parse (ast.parse, bash -n): it
                                             needs real AWS, a pip install, another machine...

A page may also say, anywhere outside a block's line, what AWS it needs beside the Lambda:

    <!-- docs-test: s3 BUCKET -->            moto's server on 127.0.0.1 is the page's S3 and IAM
                                             (AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_IAM, set
                                             before the quick start's LocalLambda starts, so that
                                             its handlers reach that S3 too), with the bucket made

Blocks in `python`, `sh`, `bash` or `shell` run; other languages (`text`, `json`, `console`
output) are shown, not run."""

import ast
import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).parent / "run_doc_page.py"
QUICKSTART = "docs/quickstart.md"
PAGES = [
    "README.md",
    "docs/index.md",
    QUICKSTART,
    *sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docs" / "guide").glob("*.md")),
    # The fact sheets, should one show code.
    *sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docs").glob("lambda-*.md") if "```" in path.read_text()),
]
# Pages for contributors, whose commands build, test or benchmark the project itself: each of their
# blocks is marked parse-only.
CONTRIBUTOR_PAGES = ["docs/development.md", "docs/benchmarks.md"]
PYTHON = {"python", "py"}
SHELL = {"sh", "bash", "shell"}
MARK = re.compile(r"<!--\s*docs-test:\s*(?P<kind>[a-z-]+)\s*(?P<argument>.*?)\s*-->")
FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
PAGE_SECONDS = 120


@dataclass
class Block:
    page: str
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    mark: str  # "", "file", "server" or "parse-only"
    argument: str  # the file's path, or why it is only parsed

    def step(self):
        kind = self.mark if self.mark in ("file", "server") else ("python" if self.language in PYTHON else "shell")
        return {"page": self.page, "line": self.line, "kind": kind, "path": self.argument, "code": self.code}


def blocks_of(page):
    """The fenced code blocks of a Markdown page, each with the mark on the line before it."""
    lines = (ROOT / page).read_text().splitlines()
    blocks = []
    number = 0
    while number < len(lines):
        opening = FENCE.match(lines[number])
        if not opening:
            number += 1
            continue
        fence, info = opening["fence"], opening["info"].strip()
        end = number + 1
        while end < len(lines) and not lines[end].startswith(fence):
            end += 1
        assert end < len(lines), f"{page}:{number + 1}: a code block is not closed"
        previous = next((line for line in reversed(lines[:number]) if line.strip()), "")
        mark = MARK.search(previous)
        language = info.split()[0].lower() if info else ""
        code = "\n".join(lines[number + 1 : end]) + "\n"
        blocks.append(
            Block(page, number + 1, language, code, mark["kind"] if mark else "", mark["argument"] if mark else "")
        )
        number = end + 1
    return blocks


PAGE_MARK = re.compile(r"^<!--\s*docs-test:\s*s3\s+(?P<bucket>[a-z0-9][a-z0-9.-]{2,62})\s*-->$")


def buckets_of(page):
    """The buckets of the page's `<!-- docs-test: s3 BUCKET -->` lines."""
    return [mark["bucket"] for line in (ROOT / page).read_text().splitlines() if (mark := PAGE_MARK.match(line))]


def runnable(block):
    return block.mark == "file" or (block.mark != "parse-only" and block.language in PYTHON | SHELL)


@pytest.mark.parametrize("page", PAGES + CONTRIBUTOR_PAGES)
def test_every_block_parses_and_its_mark_is_known(page):
    for block in blocks_of(page):
        where = f"{page}:{block.line}"
        if page in CONTRIBUTOR_PAGES and block.language in PYTHON | SHELL:
            assert block.mark == "parse-only", f"{where}: a contributor's command is marked parse-only (why)"
        assert block.mark != "s3", f"{where}: the s3 mark is the page's: on a line of its own, not before a block"
        assert block.mark in ("", "file", "server", "parse-only"), f"{where}: unknown mark {block.mark!r}"
        if block.mark == "parse-only":
            assert re.fullmatch(r"\(.+\)", block.argument), f"{where}: say why it is only parsed, in parentheses"
        if block.mark == "file":
            assert block.argument and not Path(block.argument).is_absolute(), f"{where}: a file needs a relative path"
        if block.mark == "server":
            assert block.language in SHELL, f"{where}: a server is a shell command"
        if block.language in PYTHON:
            try:
                ast.parse(block.code, filename=where)
            except SyntaxError as error:
                pytest.fail(f"{where}: {error}")
        elif block.language in SHELL:
            checked = subprocess.run(["bash", "-n"], input=block.code, capture_output=True, text=True, timeout=10)
            assert checked.returncode == 0, f"{where}: {checked.stderr}"


def test_the_quick_start_starts_a_server_of_its_files():
    blocks = blocks_of(QUICKSTART)
    assert [block.mark for block in blocks].count("server") == 1
    assert any(block.mark == "file" and block.argument == "app.py" for block in blocks)


def reader_environment(tmp_path):
    """A machine with no AWS configuration: what the pages set is all there is."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment.update(
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(tmp_path / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-aws-credentials"),
        # The Python the tests run under runs the examples' `python` and `lambda-executor`.
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}",
    )
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        environment.pop(name, None)
        environment.pop(name.lower(), None)
    return environment


def aws_beside_lambda(page, request):
    """What the page's marks ask beside the quick start's Lambda, as the environment that reaches
    it: moto's server as S3 and IAM, with the page's buckets."""
    buckets = buckets_of(page)
    if not buckets:
        return {}
    moto = request.getfixturevalue("moto_server")
    s3 = boto3.client("s3", endpoint_url=moto, region_name="us-east-1")
    for bucket in buckets:
        s3.create_bucket(Bucket=bucket)
    return {"AWS_ENDPOINT_URL_S3": moto, "AWS_ENDPOINT_URL_IAM": moto}


@pytest.mark.parametrize("page", PAGES)
def test_every_block_runs_against_local_lambda(page, tmp_path, request):
    steps = [block.step() for block in blocks_of(page) if runnable(block)]
    # A page whose every block is only parsed would hide its feature from the tests.
    assert steps, f"{page} has no block to run"
    if page != QUICKSTART:
        # The guide's examples run against what the quick start serves.
        setup = [block.step() for block in blocks_of(QUICKSTART) if block.mark in ("file", "server")]
        steps = setup + steps
    workdir = tmp_path / "reader"
    workdir.mkdir()
    steps_file = tmp_path / "steps.json"
    steps_file.write_text(json.dumps(steps))
    log = tmp_path / "output.txt"
    with log.open("w") as output:
        # A session of its own: on a timeout, the page's server and its environments end with it.
        runner = subprocess.Popen(
            [sys.executable, str(RUNNER), str(steps_file)],
            cwd=workdir,
            env={**reader_environment(tmp_path), **aws_beside_lambda(page, request)},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = runner.wait(timeout=PAGE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait()
            code = None
    printed = log.read_text()
    assert code == 0, f"{page}: {'timed out' if code is None else 'a block failed'}:\n{printed[-6000:]}"
