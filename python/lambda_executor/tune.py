"""Choosing a function's memory size by measurement (`LambdaExecutor.tune`, `lambda-executor
tune`): for each size, $LATEST's memory is set, a version published and a temporary alias pointed
at it, and the function is run through an executor (paced, throttle-aware) with the events given.
Each size is reported by its billed durations (from the REPORT lines), its cost per invocation at
the function's architecture's price with the request charge, and its cold starts, counted apart.

Afterwards $LATEST's memory is what it was (or the size chosen, with `apply`), and every version
and alias the run made is deleted: by this process in the end, after an error or Ctrl-C, and by a
guard process of its own session if this one dies first (SIGKILL included). What a run made is
named by its run id: aliases `tune-RUN-MEMORY`, versions described `lambda-executor tune RUN ...`.
"""

from __future__ import annotations

import html
import json
import math
import subprocess
import sys
import uuid
from concurrent.futures import wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional, Protocol

from ._core import ControlPlane
from .errors import FunctionError
from .futures import LambdaFuture
from .stats import PRICE_PER_REQUEST, PRICES_PER_GB_SECOND

if TYPE_CHECKING:
    from ._core import _ClientSettings

DEFAULT_MEMORY_SIZES = (128, 256, 512, 1024, 1769, 3008)
STRATEGIES = ("cost", "speed", "balanced")
# Lambda's memory sizes: 128 MB to 10,240 MB, in 1 MB steps.
MIN_MEMORY, MAX_MEMORY = 128, 10_240
DESCRIPTION = "lambda-executor tune"


class Runner(Protocol):
    """What tune runs calls through: an executor asking for log tails (REPORT lines)."""

    def submit(self, fn: str, /, *args: Any, **kwargs: Any) -> LambdaFuture: ...


@dataclass
class SizeResult:
    """One memory size's measurements: billed durations of warm invocations (the mean with the
    top and bottom fifth left out, and p90), cost per invocation, cold starts and their Init
    Duration, and the first failure if any call failed."""

    memory: int
    invocations: int = 0
    failures: int = 0
    error: Optional[str] = None
    billed_ms: Optional[float] = None
    billed_ms_p90: Optional[float] = None
    cost: Optional[float] = None
    cold_starts: int = 0
    cold_start_ms: Optional[float] = None


@dataclass
class TuneResult:
    """What `tune` measured, per memory size, and the size its strategy chose (None when no size
    ran without failures and with REPORT lines). Prints as a table; a notebook shows a chart too."""

    function: str
    architecture: str
    price_per_gb_second: float
    strategy: str
    sizes: list[SizeResult] = field(default_factory=list)
    best: Optional[int] = None
    applied: Optional[str] = None

    def rows(self) -> list[list[str]]:
        header = ["memory MB", "billed ms (mean)", "p90 ms", "cost / invocation", "cold starts", "init ms", "failed"]
        rows = [header]
        for size in self.sizes:
            rows.append(
                [
                    f"{size.memory}{' *' if size.memory == self.best else ''}",
                    _number(size.billed_ms, "{:,.1f}"),
                    _number(size.billed_ms_p90, "{:,.0f}"),
                    _number(size.cost, "${:.10f}"),
                    str(size.cold_starts),
                    _number(size.cold_start_ms, "{:,.0f}"),
                    f"{size.failures} of {size.invocations}" + (f": {size.error}" if size.error else ""),
                ]
            )
        return rows

    def summary(self) -> str:
        priced = f"{self.architecture} at ${self.price_per_gb_second:.10f}".rstrip("0") + "/GB-s"
        best = f"{self.best} MB" if self.best is not None else "none (no size ran without failures and REPORT lines)"
        applied = f"; applied: {self.applied}" if self.applied else ""
        return f"{self.function} ({priced}): best for {self.strategy}: {best}{applied}"

    def __str__(self) -> str:
        rows = self.rows()
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
        return "\n".join([self.summary(), *lines])

    def _repr_html_(self) -> str:
        rows = self.rows()
        head = "".join(f"<th>{html.escape(cell)}</th>" for cell in rows[0])
        body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows[1:])
        table = f"<p>{html.escape(self.summary())}</p><table><tr>{head}</tr>{body}</table>"
        return table + self.chart()

    def chart(self) -> str:
        """Billed duration and cost per invocation by memory size, as SVG bars side by side."""
        measured = [size for size in self.sizes if size.billed_ms is not None and size.cost is not None]
        if not measured:
            return ""
        width, height, bar = 640, 200, 560 / (2 * len(measured) + 1)
        longest = max(size.billed_ms or 0 for size in measured) or 1
        dearest = max(size.cost or 0 for size in measured) or 1
        parts = [
            f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height + 40}' "
            "font-family='sans-serif' font-size='11'>",
            f"<text x='10' y='14'>billed ms (blue, longest {longest:,.0f}) and cost (orange, dearest "
            f"${dearest:.8f}) by memory</text>",
        ]
        for index, size in enumerate(measured):
            left = 40 + bar * (2 * index + 0.5)
            bars = ((0, (size.billed_ms or 0) / longest, "#4c78a8"), (1, (size.cost or 0) / dearest, "#f58518"))
            for offset, value, colour in bars:
                tall = value * (height - 30)
                parts.append(
                    f"<rect x='{left + offset * bar * 0.8:.1f}' y='{height - tall:.1f}' width='{bar * 0.75:.1f}' "
                    f"height='{tall:.1f}' fill='{colour}'/>"
                )
            label = f"<text x='{left + bar * 0.8:.1f}' y='{height + 14}' text-anchor='middle'>{size.memory}</text>"
            parts.append(label)
        parts.append("</svg>")
        return "".join(parts)


def _number(value: Optional[float], form: str) -> str:
    return "-" if value is None else form.format(value)


def check(function: str, memory_sizes: tuple[int, ...], invocations: int, concurrency: int, strategy: str) -> None:
    """ValueError for what tune cannot run with, before anything is changed."""
    if ":" in function:
        raise ValueError(f"tune sets $LATEST's memory: give the function's name, not a qualified one ({function!r})")
    if not memory_sizes or any(not MIN_MEMORY <= size <= MAX_MEMORY for size in memory_sizes):
        raise ValueError(f"memory sizes are {MIN_MEMORY} to {MAX_MEMORY} MB, not {list(memory_sizes)}")
    if invocations < 1 or concurrency < 1:
        raise ValueError("invocations and concurrency are 1 or more")
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy is one of {', '.join(STRATEGIES)}, not {strategy!r}")


def tune(
    control: ControlPlane,
    runner: Runner,
    client: _ClientSettings,
    function: str,
    events: list[Any],
    memory_sizes: tuple[int, ...],
    invocations: int,
    concurrency: int,
    strategy: str,
    apply: bool,
    alias: Optional[str],
    include_cold: bool,
) -> TuneResult:
    """Measures `function` at each memory size (see the module's docstring), then undoes what it
    did, and applies the best size if asked (to $LATEST, or to `alias` as a version of its own)."""
    configuration = control.get_function(function)
    if configuration is None:
        raise ValueError(f"there is no function {function!r} to tune")
    original = configuration["memory"]
    architecture = (configuration.get("architectures") or ["x86_64"])[0]
    price = PRICES_PER_GB_SECOND.get(architecture, PRICES_PER_GB_SECOND["x86_64"])
    result = TuneResult(function, architecture, price, strategy)
    run = uuid.uuid4().hex[:8]
    guard = Guard(client, function, run, original)
    memory_after, keep = original, None
    try:
        versions = {}
        for memory in memory_sizes:
            control.wait_until_ready(function)
            control.set_memory(function, memory)
            control.wait_until_ready(function)
            version, _ = control.publish_version(function, description=f"{DESCRIPTION} {run} {memory} MB")
            versions[memory] = version
            name = f"tune-{run}-{memory}"
            control.set_alias(function, name, version)
            size = measure(runner, f"{function}:{name}", events, memory, invocations, concurrency, include_cold)
            if size.billed_ms is not None:
                size.cost = size.billed_ms / 1000 * memory / 1024 * price + PRICE_PER_REQUEST
            result.sizes.append(size)
        result.best = choose(result.sizes, strategy)
        if apply and result.best is not None:
            if alias is None:
                memory_after, result.applied = result.best, f"$LATEST set to {result.best} MB"
            else:
                keep = versions[result.best]
                control.set_alias(function, alias, keep)
                result.applied = f"alias {alias} points at version {keep} ({result.best} MB)"
    finally:
        cleaned = False
        try:
            clean_up(control, function, run, memory_after, keep)
            cleaned = True
        finally:
            guard.release(cleaned)
    return result


def measure(
    runner: Runner, target: str, events: list[Any], memory: int, invocations: int, concurrency: int, include_cold: bool
) -> SizeResult:
    """One size: `concurrency` calls first to start the environments (their cold starts counted
    apart, unless `include_cold`), then `invocations` calls measured."""
    size = SizeResult(memory)
    warm_up = [] if include_cold else _run(runner, target, events, concurrency)
    if warm_up and all(future.exception() for future in warm_up):
        measured, warm_up = warm_up, []  # every environment failed to start or run: the size's answer
    else:
        measured = _run(runner, target, events, invocations)
    billed, colds = [], []
    for future in [*warm_up, *measured]:
        report = future.invocation.report if future.invocation else None
        if report is not None and report.init_duration_ms is not None:
            colds.append(report.init_duration_ms)
    for future in measured:
        size.invocations += 1
        error = future.exception()
        report = future.invocation.report if future.invocation else None
        if error is not None:
            size.failures += 1
            size.error = size.error or _said(error)
        elif report is not None and (include_cold or report.init_duration_ms is None):
            billed.append(report.billed_duration_ms)
    size.cold_starts, size.cold_start_ms = len(colds), (sum(colds) / len(colds) if colds else None)
    if billed:
        billed.sort()
        cut = len(billed) // 5
        kept = billed[cut : len(billed) - cut] or billed
        size.billed_ms = sum(kept) / len(kept)
        size.billed_ms_p90 = billed[max(math.ceil(0.9 * len(billed)) - 1, 0)]
    return size


def _run(runner: Runner, target: str, events: list[Any], calls: int) -> list[LambdaFuture]:
    futures = [runner.submit(target, events[index % len(events)]) for index in range(calls)]
    wait(futures)
    return futures


def _said(error: BaseException) -> str:
    text = f"{error.error_type}: {error.error_message}" if isinstance(error, FunctionError) else f"{error}"
    first = text.splitlines()[0] if text else type(error).__name__
    return first[:160]


def choose(sizes: list[SizeResult], strategy: str) -> Optional[int]:
    """The size the strategy picks among those that ran without failures: the cheapest, the
    fastest, or (balanced) the least of cost and duration each over its largest; the smaller
    memory on a tie."""
    candidates = [size for size in sizes if size.failures == 0 and size.billed_ms is not None and size.cost]
    if not candidates:
        return None
    longest = max(size.billed_ms or 0 for size in candidates) or 1
    dearest = max(size.cost or 0 for size in candidates) or 1

    def score(size: SizeResult) -> tuple[float, int]:
        cost, duration = (size.cost or 0) / dearest, (size.billed_ms or 0) / longest
        value = {"cost": cost, "speed": duration, "balanced": (cost + duration) / 2}[strategy]
        return round(value, 9), size.memory

    return min(candidates, key=score).memory


def clean_up(control: ControlPlane, function: str, run: str, memory: Optional[int], keep: Optional[str] = None) -> None:
    """Deletes the run's aliases and versions (but `keep`), and sets $LATEST's memory to `memory`."""
    for name, _ in control.aliases(function):
        if name.startswith(f"tune-{run}-"):
            control.delete_alias(function, name)
    for version, description in control.versions(function):
        if description.startswith(f"{DESCRIPTION} {run} ") and version != keep:
            control.delete_version(function, version)
    configuration = control.get_function(function)
    if memory is not None and configuration is not None and configuration["memory"] != memory:
        control.wait_until_ready(function)
        control.set_memory(function, memory)


class Guard:
    """A process in a session of its own (Ctrl-C at the terminal does not reach it) that undoes a
    run if this process ends without saying it has undone it itself: SIGKILL closes the pipe."""

    def __init__(self, client: _ClientSettings, function: str, run: str, memory: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from lambda_executor.tune import guard; guard()"],
            stdin=subprocess.PIPE,
            start_new_session=True,
        )
        assert self.process.stdin is not None
        # A CA bundle's path as text (JSON has no PathLike); the settings hold no credentials.
        plain = (str, bool, int, float, dict, type(None))
        settings = {key: value if isinstance(value, plain) else str(value) for key, value in client.items()}
        line = {"client": settings, "function": function, "run": run, "memory": memory}
        self.process.stdin.write(json.dumps(line).encode() + b"\n")
        self.process.stdin.flush()

    def release(self, cleaned: bool) -> None:
        """Ends the guard: at once if this process `cleaned` up, else after it has."""
        assert self.process.stdin is not None
        if cleaned:
            self.process.stdin.write(b"done\n")
        self.process.stdin.close()
        self.process.wait()


def guard() -> None:
    """The guard process: wait for the end of the pipe; clean up unless told it is done."""
    header = json.loads(sys.stdin.buffer.readline())
    last = b""
    for line in sys.stdin.buffer:
        last = line.strip()
    if last == b"done":
        return
    control = ControlPlane(client=header["client"])
    clean_up(control, header["function"], header["run"], header["memory"])
