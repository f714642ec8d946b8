"""Side-by-side figures against LocalLambda's synthetic functions on loopback.

    python bench/quick.py [--calls 20000] [--in-flight 10000]

LocalLambda runs in its own process (`lambda-executor local`); each client runs in a fresh
process of its own, so CPU seconds and peak RSS are the client's alone. The ceiling is
examples/sdk_baseline.rs: aws-sdk-lambda alone, from Rust, with the engine's client. Not part of
the tests.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

ENV = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
           AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")


def run_client(client, scenario, endpoint, calls, workers):
    """In a child process: run one client on one scenario, print one JSON line."""
    import boto3
    from botocore.config import Config
    from concurrent.futures import ThreadPoolExecutor

    from lambda_executor import LambdaExecutor

    function, event = {"echo": ("echo", {}), "throttled": ("limited", {"sleep_ms": 500}),
                       "in_flight": ("echo", {"sleep_ms": 2000})}[scenario]
    events = [dict(event, i=i) for i in range(calls)]
    extra = {}
    if client == "LambdaExecutor":
        with LambdaExecutor(max_workers=workers, endpoint_url=endpoint) as executor:
            base_rss, started = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter()
            results = list(executor.map(function, events))
            extra["limit"] = executor.concurrency_limit(function)
            extra["throttled_attempts"] = executor.stats().throttles
        ok = sum(result == e for result, e in zip(results, events))
    else:
        retries = {"mode": "adaptive"} if client == "boto3 adaptive" else {"mode": "standard"}
        lambda_client = boto3.client("lambda", endpoint_url=endpoint,
                                     config=Config(max_pool_connections=workers, retries=retries))

        def call(e):
            try:
                return json.loads(lambda_client.invoke(FunctionName=function, Payload=json.dumps(e))["Payload"].read())
            except Exception:  # noqa: BLE001 - counted as a failure
                return None

        base_rss, started = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            ok = sum(result == e for result, e in zip(pool.map(call, events), events))
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"client": client, "scenario": scenario, "calls": calls, "succeeded": ok,
                      "seconds": round(elapsed, 2), "per_s": round(calls / elapsed),
                      "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
                      "peak_rss_mb": round(usage.ru_maxrss / 1024),
                      "rss_growth_mb": round((usage.ru_maxrss - base_rss) / 1024), **extra}))



def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--boto-calls", type=int, default=3000)
    parser.add_argument("--in-flight", type=int, default=10000)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "lambda_executor", "local", "--synthetic", "echo",
                               "--synthetic", "limited", "--reserved", "limited=10",
                               "--account-concurrency", str(args.in_flight + 1000)],
                              stdout=subprocess.PIPE, text=True, env=ENV)
    endpoint = server.stdout.readline().rsplit(" ", 1)[1].strip()
    plan = [
        ("LambdaExecutor", "echo", args.calls, 64),
        ("boto3 + threads", "echo", args.boto_calls, 64),
        ("LambdaExecutor", "throttled", 200, 100),
        ("boto3 adaptive", "throttled", 200, 100),
        ("LambdaExecutor", "in_flight", args.in_flight, args.in_flight),
    ]
    rows = []
    try:
        for baseline_args in ([str(args.calls), "64"], [str(args.in_flight), str(args.in_flight), "2000"]):
            baseline = subprocess.run(["cargo", "run", "--quiet", "--release", "--example", "sdk_baseline", "--",
                                       endpoint, *baseline_args], capture_output=True, text=True, env=ENV,
                                      timeout=1800, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            if baseline.returncode == 0:
                rows.append(json.loads(baseline.stdout.strip().splitlines()[-1]))
                print(json.dumps(rows[-1]), flush=True)
        for client, scenario, calls, workers in plan:
            out = subprocess.run([sys.executable, __file__, "--child", client, scenario, endpoint, str(calls), str(workers)],
                                 capture_output=True, text=True, env=ENV, timeout=600)
            row = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {
                "client": client, "scenario": scenario, "error": out.stderr[-500:]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        server.terminate()
        server.wait()
    by = {(r["client"], r["scenario"]): r for r in rows}
    ours, boto = by.get(("LambdaExecutor", "echo")), by.get(("boto3 + threads", "echo"))
    if ours and boto and "per_s" in ours and "per_s" in boto:
        print(f"echo throughput: LambdaExecutor {ours['per_s']}/s vs boto3 {boto['per_s']}/s = "
              f"{ours['per_s'] / boto['per_s']:.1f}x")
    ceiling = by.get(("aws-sdk-lambda alone (Rust)", "echo"))
    if ours and ceiling and "per_s" in ours:
        print(f"echo throughput: LambdaExecutor is {100 * ours['per_s'] / ceiling['per_s']:.0f}% of aws-sdk-lambda "
              f"alone ({ceiling['per_s']}/s)")
    for client in ("LambdaExecutor", "boto3 adaptive"):
        row = by.get((client, "throttled"))
        if row and "seconds" in row:
            print(f"200 x 0.5 s, reserved 10: {client} {row['succeeded']}/200 in {row['seconds']} s = "
                  f"{row['seconds'] / 10:.2f}x the floor")
    row, ceiling = by.get(("LambdaExecutor", "in_flight")), by.get(("aws-sdk-lambda alone (Rust)", "in_flight"))
    if row and "seconds" in row:
        alone = f"; aws-sdk-lambda alone: {ceiling['seconds']} s, {ceiling['peak_rss_mb']} MB peak" if ceiling else ""
        print(f"{row['calls']} x 2 s in flight: LambdaExecutor {row['succeeded']}/{row['calls']} in {row['seconds']} s, "
              f"RSS growth {row['rss_growth_mb']} MB{alone}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, client, scenario, endpoint, calls, workers = sys.argv
        run_client(client, scenario, endpoint, int(calls), int(workers))
    else:
        main()
