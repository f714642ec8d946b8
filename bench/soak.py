"""Soak: 200,000 invocations through one executor, RSS and open sockets sampled as it goes.

    python bench/soak.py [--calls 200000] [--step 20000]

After the first tens of thousands neither should grow; at the end every invocation is accounted
for and shutdown returns at once. Prints one line per step, then a verdict. Not part of the tests.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

ENV = dict(
    os.environ,
    AWS_ACCESS_KEY_ID="soak",
    AWS_SECRET_ACCESS_KEY="soak",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_EC2_METADATA_DISABLED="true",
)


def rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def open_sockets():
    return sum(
        os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        for fd in os.listdir("/proc/self/fd")
        if os.path.exists(f"/proc/self/fd/{fd}")
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--step", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=64)
    args = parser.parse_args()
    os.environ.update(ENV)
    server = subprocess.Popen(
        [sys.executable, "-m", "lambda_executor", "local", "--synthetic", "echo"],
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    endpoint = server.stdout.readline().rsplit(" ", 1)[1].strip()
    from lambda_executor import LambdaExecutor

    samples = []
    try:
        executor = LambdaExecutor(max_workers=args.workers, endpoint_url=endpoint)
        started = time.perf_counter()
        for done in range(args.step, args.calls + 1, args.step):
            events = ({"i": i} for i in range(done - args.step, done))
            ok = sum(
                result["i"] == i
                for i, result in zip(
                    range(done - args.step, done), executor.map("echo", events, buffersize=4 * args.workers)
                )
            )
            assert ok == args.step, f"{args.step - ok} results missing or wrong"
            samples.append(
                {
                    "invocations": done,
                    "rss_mb": round(rss_mb(), 1),
                    "sockets": open_sockets(),
                    "seconds": round(time.perf_counter() - started, 1),
                }
            )
            print(json.dumps(samples[-1]), flush=True)
        shutdown_started = time.perf_counter()
        executor.shutdown(wait=True)
        shutdown_seconds = time.perf_counter() - shutdown_started
        stats = executor.stats()
    finally:
        server.terminate()
        server.wait()
    settled = samples[len(samples) // 4 :]  # after the first quarter
    growth = settled[-1]["rss_mb"] - settled[0]["rss_mb"]
    print(
        json.dumps(
            {
                "invocations": stats.invocations,
                "failures": stats.failures,
                "rss_growth_after_warmup_mb": round(growth, 1),
                "sockets": [s["sockets"] for s in settled],
                "shutdown_seconds": round(shutdown_seconds, 3),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )
    healthy = (
        stats.invocations == args.calls
        and stats.failures == 0
        and growth < 10
        and max(s["sockets"] for s in settled) <= args.workers + 8
        and shutdown_seconds < 1
    )
    print("soak: OK" if healthy else "soak: NOT OK")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
