"""The deployment package `lambda-executor deploy` uploads: the given files and folders at the
code root, the agent, and the requirements installed for Lambda's platform (in the package, or in
a layer of their own), zipped the same way every time (so an unchanged bundle has an unchanged
CodeSha256), and checked against Lambda's size limits before anything is sent."""

from __future__ import annotations

import base64
import hashlib
import io
import math
import platform
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
# Lambda refuses a request of more bytes than this ("Request must be smaller than 69905067 bytes
# for the CreateFunction operation"): a zip sent in the request, base64 in JSON, is 50 MiB at most.
REQUEST_LIMIT = 69_905_067
# What the rest of a CreateFunction request may take (environment, tags, layers).
REQUEST_ROOM = 64 * 1024
# A function and its layers, unzipped ("Unzipped size must be smaller than 262144000 bytes").
UNZIPPED_LIMIT = 262_144_000
# A layer's folder that Lambda's Python runtimes put on the path (/opt/python).
LAYER_PYTHON = "python"
# --slim: what a function never loads, in the requirements only (serverless-python-requirements'
# slim does the same): test suites, caches, type stubs, C and Cython sources and headers.
SLIM_FOLDERS = {"tests", "__pycache__"}
SLIM_SUFFIXES = {".pyc", ".pyi", ".pyx", ".pxd", ".pxi", ".c", ".cpp", ".h", ".hpp"}


def stage(
    paths: Iterable[Path],
    root: Path,
    requirements: Optional[Path] = None,
    runtime: str = "python3.12",
    architecture: str = "x86_64",
    slim: bool = False,
) -> None:
    """Lays the bundle out under `root`: each file by its name, each folder as a folder of that
    name, then lambda_executor/agent.py, then the requirements (slimmed, with `slim`)."""
    root.mkdir(parents=True, exist_ok=True)
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
        install_requirements(requirements, root, runtime, architecture, slim)


def stage_layer(requirements: Path, root: Path, runtime: str, architecture: str, slim: bool = False) -> None:
    """Lays a layer of the requirements out under `root`, in the folder Lambda puts on the path."""
    install_requirements(requirements, root / LAYER_PYTHON, runtime, architecture, slim)


def requirements_digest(requirements: Path, runtime: str, architecture: str, slim: bool) -> str:
    """What decides what the requirements install, hashed: while it is the same, a layer built from
    them can be reused."""
    facts = f"{runtime}\n{architecture}\n{'slim' if slim else 'full'}\n".encode()
    return hashlib.sha256(facts + requirements.read_bytes()).hexdigest()


def install_requirements(requirements: Path, root: Path, runtime: str, architecture: str, slim: bool) -> None:
    """pip, asked for wheels of Lambda's platform (manylinux, the runtime's CPython), not this
    machine's; then, with `slim`, what they hold that a function never loads is left out."""
    installed = root / ".requirements" if slim else root
    _pip_install(requirements, installed, runtime, architecture)
    if slim:
        slim_folder(installed, architecture)
        shutil.copytree(installed, root, dirs_exist_ok=True)
        shutil.rmtree(installed)


def _pip_install(requirements: Path, root: Path, runtime: str, architecture: str) -> None:
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


def slim_folder(root: Path, architecture: str) -> None:
    """Removes from installed requirements what a function never loads (see SLIM_FOLDERS and
    SLIM_SUFFIXES) and the debug symbols of their shared libraries (with `strip`, when this
    machine has it and runs the same architecture)."""
    for folder in sorted(p for p in root.rglob("*") if p.is_dir() and p.name in SLIM_FOLDERS):
        if folder.exists():  # not inside a folder removed already
            shutil.rmtree(folder)
    for path in [p for p in root.rglob("*") if p.is_file() and p.suffix in SLIM_SUFFIXES]:
        path.unlink()
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
    strip = shutil.which("strip")
    if strip is None or machine.get(platform.machine().lower()) != architecture:
        return
    libraries = [str(p) for p in root.rglob("*.so*") if p.is_file() and not p.is_symlink()]
    for start in range(0, len(libraries), 200):
        # A library strip cannot read is left as it is.
        subprocess.run([strip, "--strip-debug", *libraries[start : start + 200]], capture_output=True)


def unzipped_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def check_unzipped(roots: Iterable[Path], layers_size: int = 0) -> None:
    """ValueError, naming the largest packages, if the folders and `layers_size` bytes of layers
    are more than Lambda takes unzipped."""
    roots = list(roots)
    total = sum(map(unzipped_size, roots)) + layers_size
    if total < UNZIPPED_LIMIT:
        return
    sizes = [(unzipped_size(p) if p.is_dir() else p.stat().st_size, p.name) for r in roots for p in _entries(r)]
    largest = ", ".join(f"{name} {size / 1e6:,.0f} MB" for size, name in sorted(sizes, reverse=True)[:8])
    raise ValueError(
        f"the function is {total / 1e6:,.0f} MB unzipped, more than the {UNZIPPED_LIMIT / 1e6:,.0f} MB Lambda takes "
        f"(code and layers together); nothing was sent. Largest: {largest}. Leave some out, or try --slim"
    )


def _entries(root: Path) -> list[Path]:
    """The top-level entries of a bundle or a layer (a layer's are under python/)."""
    inner = root / LAYER_PYTHON
    folder = inner if inner.is_dir() and not (root / "lambda_executor").exists() else root
    return [p for p in folder.iterdir() if not p.name.endswith(".dist-info")]


def fits_in_request(package: bytes) -> bool:
    """True if Lambda takes the zip in the request itself; a larger one goes through S3."""
    return 4 * math.ceil(len(package) / 3) + REQUEST_ROOM <= REQUEST_LIMIT


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
