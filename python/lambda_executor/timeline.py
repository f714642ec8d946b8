"""A picture of a run: each call as a bar from its first send to its end, grouped by function, with
its attempts (a throttled one marked, the waits between them drawn), its cold start and its failure;
below, the calls in flight beside each function's concurrency limit, and the requests sent per
second. SVG made here, no plotting library: inline in a notebook, or saved as .svg or .html. The
engine keeps the last 10,000 calls (`kept`); older ones are counted in `dropped`."""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Union

WIDTH, LEFT, RIGHT = 960, 130, 20
CALLS_HEIGHT, CHART_HEIGHT, GAP = 360, 110, 34
COLOURS = {
    "attempt": "#4c78a8",
    "throttled": "#f58518",
    "failed": "#e45756",
    "cold": "#54a24b",
    "wait": "#f58518",
    "retry wait": "#9d9d9d",
    "in flight": "#4c78a8",
    "limit": "#e45756",
    "requests": "#72b7b2",
}


class Timeline:
    """A picture of an executor's last calls; :meth:`LambdaExecutor.timeline` makes it.

    Each call is a bar from its first send to its end, grouped by function, with its attempts (a
    throttled one marked, the waits between them drawn), its cold start and its failure; below,
    the calls in flight beside each function's concurrency limit, and the requests sent per
    second. It shows inline in a notebook; :meth:`save` writes it to a file.

    Args:
        snapshot: The engine's record of the calls.

    Attributes:
        calls (list[dict]): The calls kept, each with its function, attempts, limit, cold start
            and failure.
        dropped (int): Older calls let go.
        kept (int): How many calls the engine keeps at most (10,000).
    """

    def __init__(self, snapshot: dict[str, Any]) -> None:
        """Makes the picture of the engine's record; the executor makes it."""
        self.calls: list[dict[str, Any]] = snapshot["calls"]
        self.dropped: int = snapshot["dropped"]
        self.kept: int = snapshot["kept"]

    def __repr__(self) -> str:
        return f"Timeline({len(self.calls)} calls, {self.dropped} older ones let go)"

    def _repr_html_(self) -> str:
        return self.svg()

    def save(self, path: Union[str, Path]) -> Path:
        """Writes the picture to a file: an SVG image, or an HTML page holding it.

        Args:
            path: The file to write, whose suffix says which: ``.svg`` or ``.html``.

        Returns:
            The path written.

        Raises:
            ValueError: The suffix is neither ``.svg`` nor ``.html``.
        """
        path = Path(path)
        if path.suffix not in (".svg", ".html"):
            raise ValueError(f"a timeline is saved as .svg or .html, not {path.suffix or 'no suffix'}: {path}")
        svg = self.svg()
        text = (
            svg
            if path.suffix == ".svg"
            else f"<!doctype html>\n<meta charset='utf-8'>\n<title>timeline</title>\n{svg}\n"
        )
        path.write_text(text, encoding="utf-8")
        return path

    def svg(self) -> str:
        """Draws the picture.

        Returns:
            The picture, as SVG text.
        """
        attempts = [attempt for call in self.calls for attempt in call["attempts"]]
        if not attempts:
            return _svg(60, ["<text x='10' y='30'>no calls yet</text>"])
        start = min(attempt["start"] for attempt in attempts)
        span = max(max(attempt["end"] for attempt in attempts) - start, 1e-3)
        scale = (WIDTH - LEFT - RIGHT) / span

        def x(seconds: float) -> float:
            return LEFT + (seconds - start) * scale

        shown = f"{len(self.calls):,} calls" + (f" (the last kept; {self.dropped:,} older)" if self.dropped else "")
        parts = [f"<text x='10' y='16' font-weight='bold'>{shown} over {span:,.2f} s</text>", _legend(WIDTH - 560, 16)]
        parts += self._bars(x, top=30)
        charts_top = 30 + CALLS_HEIGHT + GAP
        parts += self._in_flight(x, start, span, charts_top)
        parts += self._rate(x, start, span, charts_top + CHART_HEIGHT + GAP)
        parts += _axis(x, start, span, charts_top + 2 * CHART_HEIGHT + GAP + 4)
        return _svg(charts_top + 2 * CHART_HEIGHT + GAP + 24, parts)

    def _bars(self, x: Any, top: float) -> list[str]:
        """Each function's calls in rows (a call in the first row free at its start)."""
        by_function: dict[str, list[list[dict]]] = defaultdict(list)
        for call in sorted(self.calls, key=lambda call: call["attempts"][0]["start"]):
            rows = by_function[call["function"]]
            first = call["attempts"][0]["start"]
            row = next((row for row in rows if row[-1]["attempts"][-1]["end"] <= first), None)
            if row is None:
                rows.append([call])
            else:
                row.append(call)
        total_rows = sum(len(rows) for rows in by_function.values())
        height = CALLS_HEIGHT / max(total_rows, 1)
        parts, y = [], top
        for function, rows in sorted(by_function.items()):
            label_y = y + min(len(rows) * height, CALLS_HEIGHT) / 2 + 4
            parts.append(f"<text x='{LEFT - 6}' y='{label_y:.1f}' text-anchor='end'>{html.escape(function)}</text>")
            for row in rows:
                for call in row:
                    parts += _call(call, x, y, max(height * 0.8, 0.4))
                y += height
            parts.append(f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{y:.1f}' y2='{y:.1f}' stroke='#ddd'/>")
        return parts

    def _in_flight(self, x: Any, start: float, span: float, top: float) -> list[str]:
        """Calls in flight (from first send to end) over time, beside each function's limit."""
        changes = sorted(
            [(call["attempts"][0]["start"], 1) for call in self.calls]
            + [(call["attempts"][-1]["end"], -1) for call in self.calls]
        )
        steps, count = [(start, 0)], 0
        for seconds, change in changes:
            count += change
            steps.append((seconds, count))
        limits: dict[str, list[tuple[float, int]]] = defaultdict(list)
        for call in sorted(self.calls, key=lambda call: call["attempts"][-1]["end"]):
            limits[call["function"]].append((call["attempts"][-1]["end"], call["limit"]))
        peak = max([count for _, count in steps] + [limit for points in limits.values() for _, limit in points] + [1])
        y = _y_scale(top, peak)
        parts = _frame(top, f"in flight (peak {max(count for _, count in steps):,}) and concurrency limit", peak)
        parts.append(_step_path(steps, x, y, start + span, COLOURS["in flight"]))
        for points in limits.values():
            parts.append(_step_path(points, x, y, start + span, COLOURS["limit"], dashed=True))
        return parts

    def _rate(self, x: Any, start: float, span: float, top: float) -> list[str]:
        """Attempts sent per second, in 100 bins across the run."""
        bins = 100
        width = span / bins
        counts = [0] * bins
        for call in self.calls:
            for attempt in call["attempts"]:
                counts[min(int((attempt["start"] - start) / width), bins - 1)] += 1
        rates = [count / width for count in counts]
        peak = max(max(rates), 1.0)
        y = _y_scale(top, peak)
        parts = _frame(top, f"requests sent per second (peak {peak:,.0f}/s)", peak)
        for index, rate in enumerate(rates):
            if rate:
                left, right = x(start + index * width), x(start + (index + 1) * width)
                parts.append(_rect(left, y(rate), right - left, y(0) - y(rate), COLOURS["requests"]))
        return parts


def _call(call: dict, x: Any, y: float, height: float) -> list[str]:
    """One call: its attempts as bars, the waits between them as lines, its cold start and failure marked."""
    attempts = call["attempts"]
    parts = []
    total = attempts[-1]["end"] - attempts[0]["start"]
    what = [f"{call['function']}: {total:.3f} s", f"{len(attempts)} attempts"]
    what += ["cold start"] * call["cold_start"] + ["failed"] * call["failed"]
    middle = y + height / 2
    for index, attempt in enumerate(attempts):
        last = index == len(attempts) - 1
        colour = COLOURS["throttled"] if attempt["throttled"] else COLOURS["attempt"]
        if last and call["failed"]:
            colour = COLOURS["failed"]
        left, right = x(attempt["start"]), x(attempt["end"])
        parts.append(_rect(left, y, max(right - left, 0.5), height, colour, ", ".join(what) if index == 0 else None))
        if not last:
            wait = COLOURS["wait"] if attempt["throttled"] else COLOURS["retry wait"]
            following = x(attempts[index + 1]["start"])
            parts.append(
                f"<line x1='{right:.1f}' x2='{following:.1f}' y1='{middle:.1f}' y2='{middle:.1f}' "
                f"stroke='{wait}' stroke-dasharray='2,2'/>"
            )
    if call["cold_start"]:
        parts.append(_rect(x(attempts[0]["start"]), y, 2, height, COLOURS["cold"]))
    return parts


def _rect(left: float, top: float, width: float, height: float, colour: str, title: Any = None) -> str:
    inner = f"<title>{html.escape(title)}</title>" if title else ""
    end = f">{inner}</rect>" if inner else "/>"
    return f"<rect x='{left:.1f}' y='{top:.2f}' width='{width:.1f}' height='{height:.2f}' fill='{colour}'{end}"


def _y_scale(top: float, peak: float) -> Any:
    return lambda value: top + CHART_HEIGHT - value / peak * CHART_HEIGHT


def _frame(top: float, title: str, peak: float) -> list[str]:
    bottom = top + CHART_HEIGHT
    return [
        f"<text x='{LEFT}' y='{top - 6:.1f}'>{html.escape(title)}</text>",
        f"<text x='{LEFT - 6}' y='{top + 10:.1f}' text-anchor='end'>{peak:,.0f}</text>",
        f"<text x='{LEFT - 6}' y='{bottom:.1f}' text-anchor='end'>0</text>",
        f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{bottom:.1f}' y2='{bottom:.1f}' stroke='#999'/>",
    ]


def _step_path(
    points: Sequence[tuple[float, float]], x: Any, y: Any, end: float, colour: str, dashed: bool = False
) -> str:
    """A line that holds each value until the next."""
    commands = [f"M{x(points[0][0]):.1f},{y(points[0][1]):.1f}"]
    for seconds, following in points[1:]:
        commands.append(f"H{x(seconds):.1f}V{y(following):.1f}")
    commands.append(f"H{x(end):.1f}")
    dash = " stroke-dasharray='5,3'" if dashed else ""
    return f"<path d='{''.join(commands)}' fill='none' stroke='{colour}'{dash}/>"


def _axis(x: Any, start: float, span: float, top: float) -> list[str]:
    parts = []
    for tick in range(6):
        seconds = start + span * tick / 5
        parts.append(f"<text x='{x(seconds):.1f}' y='{top + 10:.1f}' text-anchor='middle'>{seconds:,.2f} s</text>")
    return parts


def _legend(left: float, top: float) -> str:
    items = [("attempt", "attempt"), ("throttled", "throttled"), ("wait", "throttle wait"), ("cold", "cold start")]
    items += [("failed", "failed"), ("limit", "concurrency limit")]
    parts = []
    for index, (key, label) in enumerate(items):
        left_of = left + index * 95
        parts.append(_rect(left_of, top - 9, 10, 10, COLOURS[key]))
        parts.append(f"<text x='{left_of + 14}' y='{top}'>{label}</text>")
    return "".join(parts)


def _svg(height: float, parts: list[str]) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{height:.0f}' "
        f"viewBox='0 0 {WIDTH} {height:.0f}' font-family='sans-serif' font-size='11'>" + "".join(parts) + "</svg>"
    )
