"""(grid) Throttling across the space a user lives in: LambdaExecutor beside boto3's adaptive retry
mode, each cell in a fresh process with a LocalLambda of its own (so no cell inherits another's
learned limits or Lambda's token buckets), each cell's makespan as a multiple of its floor.

Cells: reserved concurrency 1, 2, 5, 20 and 200 (Lambda's request rate, 10/s per unit of it, on)
against functions of 0, 5 ms, 200 ms and 2 s; random throttles of 10% with no capacity meaning (a
reserved function, and an unreserved one 500 calls wide); and a reservation halved a third of the
way through and doubled back two thirds of the way. Each cell is sized to a floor of a few seconds;
one still running at 10x its floor is stopped and shown as such.

    python bench/throttle_grid.py [--json bench/grid.json] [--client LambdaExecutor] [--quick]

bench/run.py runs it as its (grid) scenario.
"""

import argparse
import json
import math
import os
import sys
import threading
import time

from table import print_columns

RATE_PER_UNIT = 10  # Lambda's requests per second per unit of reserved concurrency
STOP_AT_FLOORS = 10  # a cell still running at this multiple of its floor is stopped
STARTUP_SECONDS = 10  # a cell's process and LocalLambda starting
CLIENTS = ("LambdaExecutor", "boto3 adaptive")


def floor_seconds(calls, reserved, latency_ms):
    """The least time `calls` can take against a reservation and its request rate: Lambda's
    token bucket starts with one second's worth, then refills at the rate."""
    rate = RATE_PER_UNIT * reserved
    by_rate = max(0, calls - rate) / rate
    by_concurrency = math.ceil(calls / reserved) * latency_ms / 1000
    return max(by_rate, by_concurrency)


def cells(quick=False):
    """(name, options) for every cell; options: calls, reserved (None: unreserved), latency_ms,
    workers, throttle (a random share), schedule (reservation changes), floor."""
    target = 2.5 if quick else 5.0  # seconds of floor per cell
    grid = []
    for reserved in (1, 2, 5, 20, 200):
        for latency_ms in (0, 5, 200, 2000):
            rate = RATE_PER_UNIT * reserved
            if latency_ms * RATE_PER_UNIT < 1000:  # the request rate binds first
                calls = int(rate * (target + 1))
            else:
                calls = reserved * max(4, round(target * 1000 / latency_ms))
            grid.append(
                (
                    f"r{reserved} {latency_ms}ms",
                    {
                        "calls": calls,
                        "reserved": reserved,
                        "latency_ms": latency_ms,
                        "workers": max(64, 2 * reserved),
                        "floor": floor_seconds(calls, reserved, latency_ms),
                    },
                )
            )
    # Random throttles that say nothing of capacity.
    calls = 20 * round(target / 0.2)
    grid.append(
        (
            "r20 200ms 10% random",
            {
                "calls": calls,
                "reserved": 20,
                "latency_ms": 200,
                "workers": 64,
                "throttle": 0.1,
                "floor": floor_seconds(calls, 20, 200),
            },
        )
    )
    calls = 500 * round(target / 0.2)
    grid.append(
        (
            "unreserved 200ms 10% random",
            {
                "calls": calls,
                "reserved": None,
                "latency_ms": 200,
                "workers": 500,
                "throttle": 0.1,
                "floor": math.ceil(calls / 500) * 0.2,
            },
        )
    )
    # A reservation of 20 halved to 10 a third of the way through, doubled back two thirds of the way.
    third = round(target / 3 * 2, 1)  # each phase's seconds
    per_second = (100, 50, 100)  # 20 or 10 at 200 ms
    calls = int(sum(rate * third for rate in per_second))
    grid.append(
        (
            "r20 200ms halved, doubled",
            {
                "calls": calls,
                "reserved": 20,
                "latency_ms": 200,
                "workers": 64,
                "schedule": [(third, 10), (2 * third, 20)],
                "floor": 3 * third,
            },
        )
    )
    return grid


def run_cell(client, options):
    """In a child process: one client on one cell against a LocalLambda of its own."""
    from lambda_executor import LocalLambda

    account = 1000 + options["workers"]
    with LocalLambda(account_concurrency=account, scaling_limit=None, retry_after=1) as local:
        local.add_synthetic("f", latency_ms=options["latency_ms"], timeout=30, reserved_concurrency=options["reserved"])
        if options.get("throttle"):
            local.inject_faults("f", throttle=options["throttle"], seed=7)
        os.environ.update(
            AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1", NO_PROXY="*"
        )
        started = time.perf_counter()
        if options.get("schedule"):
            threading.Thread(target=follow_schedule, args=(local, options["schedule"], started), daemon=True).start()
        ok = run_client(client, local.endpoint_url, options)
        seconds = time.perf_counter() - started
        stats = local.stats("f")
        injected = local.injected_faults("f").get("throttle", 0)
    attempts = stats["invocations"] + stats["throttles"] + injected
    return {
        "client": client,
        "calls": options["calls"],
        "failed": options["calls"] - ok,
        "seconds": round(seconds, 2),
        "of_floor": round(seconds / options["floor"], 2),
        "attempts": attempts,
        "throttled_share": round((stats["throttles"] + injected) / max(attempts, 1), 3),
    }


def follow_schedule(local, schedule, started):
    for at, reserved in schedule:
        time.sleep(max(0.0, started + at - time.perf_counter()))
        local.set_reserved_concurrency("f", reserved)


def run_client(client, endpoint, options):
    """Runs the cell's calls; returns how many came back right."""
    events = [{"i": i} for i in range(options["calls"])]
    if client == "LambdaExecutor":
        from lambda_executor import LambdaExecutor

        ok = 0
        with LambdaExecutor(max_workers=options["workers"], endpoint_url=endpoint) as executor:
            try:
                for i, result in enumerate(executor.map("f", events)):
                    ok += result.get("i") == i
            except Exception as error:  # noqa: BLE001 - the rest count as failed
                print(f"LambdaExecutor: {error!r}", file=sys.stderr)
        return ok
    from concurrent.futures import ThreadPoolExecutor

    import boto3
    from botocore.config import Config

    config = Config(max_pool_connections=options["workers"], retries={"mode": "adaptive", "max_attempts": 10})
    lambda_client = boto3.client("lambda", endpoint_url=endpoint, config=config)

    def call(event):
        try:
            response = lambda_client.invoke(FunctionName="f", Payload=json.dumps(event))
            return json.loads(response["Payload"].read()).get("i") == event["i"]
        except Exception:  # noqa: BLE001 - counted as failed
            return False

    with ThreadPoolExecutor(options["workers"]) as pool:
        return sum(pool.map(call, events))


def run_grid(clients=CLIENTS, quick=False, only=None):
    """Every cell for every client, each in a child process; returns the rows."""
    import subprocess

    rows = []
    for name, options in cells(quick):
        if only and not any(part in name for part in only):
            continue
        for client in clients:
            try:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", client, json.dumps(options)],
                    capture_output=True,
                    text=True,
                    # Beyond this a cell says no more than that it is far off its floor.
                    timeout=STOP_AT_FLOORS * options["floor"] + STARTUP_SECONDS,
                )
            except subprocess.TimeoutExpired:
                out = None
            if out is None:
                row = {"client": client, "stopped_at_floors": STOP_AT_FLOORS}
            elif out.returncode == 0:
                row = json.loads(out.stdout.strip().splitlines()[-1])
            else:
                row = {"client": client, "error": out.stderr.strip()[-300:]}
            row.update(scenario="grid", cell=name, floor=round(options["floor"], 2))
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def print_grid(rows):
    """One line per cell: each client's multiple of the floor, share of attempts throttled, failures."""
    by_cell = {}
    for row in rows:
        if row.get("scenario") == "grid":
            by_cell.setdefault(row["cell"], {})[row["client"]] = row
    clients = sorted({client for cell in by_cell.values() for client in cell}, key=lambda c: CLIENTS.index(c))
    header = ["cell", "floor s"] + [f"{client}: x floor, throttled, failed" for client in clients]
    lines = [header]
    for cell, by_client in by_cell.items():
        line = [cell, str(next(iter(by_client.values()))["floor"])]
        for client in clients:
            row = by_client.get(client)
            if row is None:
                line.append("")
            elif "stopped_at_floors" in row:
                line.append(f">{row['stopped_at_floors']}x (stopped)")
            elif "error" in row:
                line.append("error: " + row["error"][-40:])
            else:
                line.append(f"{row['of_floor']:.2f}x  {100 * row['throttled_share']:.0f}%  {row['failed']}")
        lines.append(line)
    print_columns(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", help="write the rows here")
    parser.add_argument("--client", action="append", choices=CLIENTS)
    parser.add_argument("--cell", action="append", help="only cells whose name contains this (repeatable)")
    parser.add_argument("--quick", action="store_true", help="cells of half the floor")
    parser.add_argument("--table", metavar="JSON", help="only print the table of an earlier run's rows")
    args = parser.parse_args()
    if args.table:
        with open(args.table) as file:
            return print_grid(json.load(file))
    rows = run_grid(tuple(args.client or CLIENTS), args.quick, args.cell)
    if args.json:
        with open(args.json, "w") as file:
            json.dump(rows, file, indent=1)
    print_grid(rows)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(run_cell(sys.argv[2], json.loads(sys.argv[3]))))
    else:
        main()
