"""Runs one documentation page's code blocks in order, as a reader would: `python run_doc_page.py
STEPS.json`, in the page's own working directory, started by tests/docs/test_code_blocks.py.

Each step is one block: a file the page asks to save is written; a Python block is run in the
namespace of the blocks before it (one script, as in a notebook); a shell block is run by bash,
and what it exports stays set for the blocks after it (one shell session); the server block
(`lambda-executor local`) is started in the background and what it prints to export is set, as a
reader pastes it into their other terminal. Exits 1 naming the block that failed."""

import json
import linecache
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

SERVER_START_SECONDS = 30
# Variables bash sets itself: not part of what a block exports.
SHELL_OWN = {"_", "SHLVL", "PWD", "OLDPWD"}


def run_shell(code):
    """Runs `code` with bash; the environment it ends with becomes this process's."""
    with tempfile.NamedTemporaryFile(suffix=".env") as dump:
        script = f"set -euo pipefail\n{code}\nenv -0 > {shlex.quote(dump.name)}\n"
        subprocess.run(["bash", "-c", script], check=True, timeout=120)
        entries = Path(dump.name).read_bytes().decode().split("\0")
    exported = dict(entry.split("=", 1) for entry in entries if "=" in entry)
    for name in set(os.environ) - set(exported) - SHELL_OWN:
        del os.environ[name]
    os.environ.update({name: value for name, value in exported.items() if name not in SHELL_OWN})


def start_server(code):
    """Starts the long-running command in `code`, waits until it is ready, and sets the `export`
    lines it printed, as a reader copies them into another terminal."""
    server = subprocess.Popen(["bash", "-c", f"exec {code.strip()}"], stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + SERVER_START_SECONDS
    printed = []
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        if not line:
            raise RuntimeError(f"the server exited before it was ready; it printed:\n{''.join(printed)}")
        printed.append(line)
        if line.strip().startswith("export "):
            for assignment in shlex.split(line.strip())[1:]:
                name, _, value = assignment.partition("=")
                os.environ[name] = value
        if line.startswith("Press Ctrl-C to stop."):
            return server
    raise RuntimeError(f"the server was not ready in {SERVER_START_SECONDS} s; it printed:\n{''.join(printed)}")


def stop_server(server):
    """Ctrl-C, as the reader stops it."""
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def main():
    steps = json.loads(Path(sys.argv[1]).read_text())
    # The blocks are a script saved in the reader's folder: its modules import from there.
    sys.path[0] = os.getcwd()
    namespace = {"__name__": "__main__"}
    servers = []
    try:
        for step in steps:
            where = f"{step['page']}:{step['line']}"
            print(f"--- {where} ({step['kind']})", flush=True)
            try:
                if step["kind"] == "file":
                    path = Path(step["path"])
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(step["code"])
                elif step["kind"] == "server":
                    servers.append(start_server(step["code"]))
                elif step["kind"] == "python":
                    # Registered so that a traceback shows the page's lines.
                    linecache.cache[where] = (len(step["code"]), None, step["code"].splitlines(True), where)
                    exec(compile(step["code"], where, "exec"), namespace)
                else:
                    run_shell(step["code"])
                sys.stdout.flush()
            except BaseException:
                print(f"\nthe {step['kind']} block at {where} failed:\n{step['code']}", file=sys.stderr)
                traceback.print_exc()
                return 1
    finally:
        for server in servers:
            stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
