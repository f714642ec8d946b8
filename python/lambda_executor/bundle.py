"""The deployment package `lambda-executor deploy` uploads: the given files and folders at the
code root, the agent, and the requirements installed for Lambda's platform, zipped the same way
every time (so an unchanged bundle has an unchanged CodeSha256)."""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Optional

AGENT_HANDLER = "lambda_executor.agent.handler"
AGENT_SOURCE = Path(__file__).with_name("agent.py")
SKIPPED = {"__pycache__", ".git", ".mypy_cache", ".pytest_cache"}
# A package of its own in the bundle: the agent must import without the compiled core.
AGENT_PACKAGE_INIT = '"""lambda-executor\'s agent, as deployed (see agent.py)."""\n'


def stage(
    paths: Iterable[Path],
    root: Path,
    requirements: Optional[Path] = None,
    runtime: str = "python3.12",
    architecture: str = "x86_64",
) -> None:
    """Lays the bundle out under `root`: each file by its name, each folder as a folder of that
    name, then lambda_executor/agent.py, then the requirements."""
    for path in map(Path, paths):
        target = root / path.name
        if path.is_dir():
            shutil.copytree(
                path, target, ignore=lambda _, names: [n for n in names if n in SKIPPED or n.endswith(".pyc")]
            )
        else:
            shutil.copy2(path, target)
    agent_dir = root / "lambda_executor"
    agent_dir.mkdir(exist_ok=True)
    (agent_dir / "__init__.py").write_text(AGENT_PACKAGE_INIT)
    shutil.copy2(AGENT_SOURCE, agent_dir / "agent.py")
    if requirements is not None:
        install_requirements(requirements, root, runtime, architecture)


def install_requirements(requirements: Path, root: Path, runtime: str, architecture: str) -> None:
    """pip, asked for wheels of Lambda's platform (manylinux, the runtime's CPython), not this machine's."""
    platform = "manylinux2014_aarch64" if architecture == "arm64" else "manylinux2014_x86_64"
    version = runtime.removeprefix("python")
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--requirement",
        str(requirements),
        "--target",
        str(root),
        "--platform",
        platform,
        "--implementation",
        "cp",
        "--python-version",
        version,
        "--only-binary=:all:",
        "--upgrade",
        "--no-compile",
    ]  # .pyc files differ each time and Lambda compiles its own
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        detail = (run.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise RuntimeError(f"installing {requirements} for {runtime} on {architecture} failed: {detail}")


def zip_bytes(root: Path) -> bytes:
    """The folder as a zip with fixed timestamps and modes, entries in sorted order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        files = (p for p in root.rglob("*") if p.is_file() and p.suffix != ".pyc" and not SKIPPED & set(p.parts))
        for path in sorted(files):
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if path.stat().st_mode & 0o111 else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def code_sha256(package: bytes) -> str:
    """As Lambda reports it: base64 of the SHA-256 of the zip."""
    return base64.b64encode(hashlib.sha256(package).digest()).decode()
