"""What an executor's invocations came to, as a text table in a terminal and an HTML table in a
notebook."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Optional

from .timeline import Timeline

# Lambda's list prices in us-east-1 (docs/lambda-pricing.md gives them with their sources): per
# GB-second of billed duration by architecture, per request, per GB restored from a SnapStart snapshot.
PRICES_PER_GB_SECOND = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
PRICE_PER_REQUEST = 0.0000002
PRICE_PER_GB_RESTORED = 0.0001397998
# What a spend cap prices at, not knowing the function: the dearer rate, so it never lets more through.
PRICE_PER_GB_SECOND = PRICES_PER_GB_SECOND["x86_64"]


@dataclass(frozen=True)
class Stats:
    """What an executor's invocations came to since it started; :meth:`LambdaExecutor.stats` makes it.

    Billing figures (cold starts, billed duration, GB-seconds, cost) come from Lambda's REPORT
    lines, so they cover only invocations made with the log tail (``log_tail=True``, ``warm()``,
    a ``max_cost``); ``reported`` says how many those are. It prints as a table, and shows as an
    HTML one in a notebook.

    Attributes:
        invocations (int): Invocations ended.
        failures (int): Invocations that failed.
        throttles (int): Throttles (429) met and absorbed by retrying.
        retries (int): Retries made.
        retrying (int): Invocations waiting to be retried now.
        reported (int): Invocations with a REPORT line (made with the log tail).
        cold_starts (int): Reported invocations that started an execution environment.
        billed_ms (float): Milliseconds billed, of the reported invocations.
        gb_seconds (float): GB-seconds billed, of the reported invocations.
        restored_gb (float): GB restored from SnapStart snapshots.
        latency_p50 (Optional[float]): Median seconds from first send to end; None without calls.
        latency_p90 (Optional[float]): 90th percentile of the same.
        latency_p99 (Optional[float]): 99th percentile of the same.
        latency_max (Optional[float]): The longest.
        from_journal (int): Results a journal already held (nothing sent).
        resent_in_flight (int): Calls a journal showed in flight when an earlier run stopped,
            sent again (they may have run twice).
        journal_unrecorded (int): Outcomes the journal could not write (a rerun sends them again).
        max_cost (Optional[float]): The spend cap, in US dollars; None without one.
        spent (Optional[float]): What the calls that ran cost at the executor's prices, with a cap.
        not_sent_over_cap (int): Calls the spend cap kept from being sent.
        chunks (int): Invocations that carried chunks of Python function calls (counted among
            ``invocations`` too).
        chunked_calls (int): The calls those chunks carried.
        chunked_call_failures (int): Those calls that failed (all of a chunk's, if its invocation
            failed).
        concurrency_limits (dict[str, int]): Each function's current in-flight limit.
        binding_limits (dict[str, str]): The limit of Lambda's that throttled each function last,
            and what the executor keeps to (``"request rate: 198/s"``, ...).
        billed_by_function (dict[str, dict[str, float]]): What was billed, by function
            (``reported``, ``cold_starts``, ``billed_ms``, ``gb_seconds``, ``restored_gb``).
        priced_at (dict[str, tuple[str, float]]): Each function's architecture and price per
            GB-second (``"x86_64, assumed: ..."`` where its configuration could not be read).
        price_per_request (float): US dollars per request.
        price_per_gb_restored (float): US dollars per GB restored from a SnapStart snapshot.
        timeline (Optional[Timeline]): The last calls as a picture, when the stats were taken.
    """

    invocations: int
    failures: int
    throttles: int
    retries: int
    retrying: int
    reported: int
    cold_starts: int
    billed_ms: float
    gb_seconds: float
    restored_gb: float
    latency_p50: Optional[float]
    latency_p90: Optional[float]
    latency_p99: Optional[float]
    latency_max: Optional[float]
    # With a journal: results it already held (nothing sent), and calls it showed in flight when
    # an earlier run stopped, sent again (they may have run twice).
    from_journal: int = 0
    resent_in_flight: int = 0
    # Outcomes the journal could not write (a full disk, its file gone): a rerun sends them again.
    journal_unrecorded: int = 0
    # With a spend cap (`LambdaExecutor(max_cost=...)`): the cap, what the calls that ran cost at
    # the executor's prices, and the calls it kept from being sent.
    max_cost: Optional[float] = None
    spent: Optional[float] = None
    not_sent_over_cap: int = 0
    # Python functions called through the agent in chunks (map's chunksize): the invocations that
    # carried them (counted among `invocations` too), the calls, and the calls that failed (a call
    # fails alone; a chunk's invocation that failed fails all of its calls).
    chunks: int = 0
    chunked_calls: int = 0
    chunked_call_failures: int = 0
    concurrency_limits: dict[str, int] = field(default_factory=dict)
    # The limit of Lambda's that throttled each function last, and what the executor keeps to:
    # "request rate: 198/s", "reserved concurrency: 20", "account concurrency or scaling: ...".
    binding_limits: dict[str, str] = field(default_factory=dict)
    # What was billed by function (reported, cold_starts, billed_ms, gb_seconds, restored_gb), and
    # the rate per GB-second each was priced at, with its architecture ("arm64"; "x86_64, assumed:
    # ..." where the function's configuration could not be read).
    billed_by_function: dict[str, dict[str, float]] = field(default_factory=dict)
    priced_at: dict[str, tuple[str, float]] = field(default_factory=dict)
    price_per_request: float = PRICE_PER_REQUEST
    price_per_gb_restored: float = PRICE_PER_GB_RESTORED
    # The last calls as a picture (`executor.timeline()` when these stats were taken).
    timeline: Optional[Timeline] = field(default=None, repr=False, compare=False)

    @property
    def estimated_cost(self) -> Optional[float]:
        """US dollars for the reported invocations; None if none reported.

        It prices each function's GB-seconds at its rate, the requests, and the GB restored by
        SnapStart.
        """
        if not self.reported:
            return None
        duration = sum(
            billed["gb_seconds"] * self.priced_at[name][1] for name, billed in self.billed_by_function.items()
        )
        return duration + self.reported * self.price_per_request + self.restored_gb * self.price_per_gb_restored

    def rows(self) -> list[tuple[str, str]]:
        """Lays the figures out as the table's rows.

        Returns:
            ``(name, value)`` pairs, the values formatted for reading.
        """

        def seconds(value: Optional[float]) -> str:
            return "-" if value is None else f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"

        unreported = "- (needs log_tail=True)"
        cost = self.estimated_cost
        rows = [
            ("invocations", f"{self.invocations:,}"),
            ("failures", f"{self.failures:,}"),
            ("throttles absorbed", f"{self.throttles:,}"),
            ("retries", f"{self.retries:,}" + (f" ({self.retrying} waiting)" if self.retrying else "")),
            (
                "latency p50 / p90 / p99 / max",
                " / ".join(
                    seconds(v) for v in (self.latency_p50, self.latency_p90, self.latency_p99, self.latency_max)
                ),
            ),
            ("cold starts", f"{self.cold_starts:,} of {self.reported:,} reported" if self.reported else unreported),
            (
                "billed",
                f"{self.billed_ms / 1000:,.1f} s = {self.gb_seconds:,.3f} GB-s" if self.reported else unreported,
            ),
            ("estimated cost", f"${cost:,.6f}" if cost is not None else unreported),
        ]
        rows += [
            (f"priced at: {name}", f"${rate:.10f}/GB-s ({architecture})")
            for name, (architecture, rate) in sorted(self.priced_at.items())
        ]
        if self.chunks:
            rows.append(
                (
                    "calls in chunks",
                    f"{self.chunked_calls:,} in {self.chunks:,} invocations, {self.chunked_call_failures:,} failed",
                )
            )
        if self.from_journal or self.resent_in_flight:
            rows += [
                ("from the journal", f"{self.from_journal:,} (not sent again)"),
                ("resent after a stop", f"{self.resent_in_flight:,} (in flight when it stopped: may have run twice)"),
            ]
        if self.journal_unrecorded:
            rows.append(("not in the journal", f"{self.journal_unrecorded:,} outcomes (a rerun sends them again)"))
        if self.max_cost is not None:
            not_sent = f"; {self.not_sent_over_cap:,} calls not sent" if self.not_sent_over_cap else ""
            rows.append(("spend cap", f"${self.spent or 0:,.6f} of ${_dollars(self.max_cost)}{not_sent}"))
        rows += [
            (f"concurrency limit: {name}", f"{limit:,}") for name, limit in sorted(self.concurrency_limits.items())
        ]
        rows += [(f"binding limit: {name}", binding) for name, binding in sorted(self.binding_limits.items())]
        return rows

    def __str__(self) -> str:
        rows = self.rows()
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(name)}</th>"
            f"<td style='text-align:right'>{html.escape(value)}</td></tr>"
            for name, value in self.rows()
        )
        return f"<table>{cells}</table>"


def _dollars(value: float) -> str:
    """Dollars as set, to the hundredth of a cent's millionth: a cap of a few calls is a fraction of a cent."""
    return f"{value:,.8f}".rstrip("0").rstrip(".")
