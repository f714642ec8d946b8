"""Side-by-side figures against LocalLambda's synthetic functions on loopback, every client in the
same run: one table, and the rows as JSON.

    pip install '.[test,bench]'         # a release build of the extension, boto3, aiobotocore
    python bench/run.py [--quick] [--json bench/results.json]

LocalLambda runs in its own process (`lambda-executor local`); each client runs in a fresh
process of its own, so CPU seconds and peak RSS are the client's alone. The Rust row is
crates/engine/examples/sdk_baseline.rs: aws-sdk-lambda alone, with the engine's client, the ceiling for the
engine. Scenarios: (a) small echo calls, 64 in flight; (b) 10,000 calls of a 2 s function all in
flight, and (b-tls) the same over https to LocalLambda with a CA of its own (AWS_CA_BUNDLE); (c)
200 x 0.5 s against reserved concurrency 10 with 100 workers (floor: 10 s); (d) 100
5 MB payload round trips, 4 in flight; (e) map over 1,000,000 small events with bounded memory. Lambda's other
throttles: (paced) 4,000 x 50 ms against a request-rate limit of 200/s (reserved concurrency 20 at
Lambda's 10 requests/s each; floor: 20 s), and (scaling) a burst of 3,000 x 1 s against a fresh
function whose scaling limit is 300 environments per 10 s (a LocalLambda of its own per client;
floor: about 7.3 s). LocalLambda's scaling limit is off elsewhere: those scenarios model an account
whose environments are already warm. With a resume
journal: (a) and (e) again (echo_journal, million_journal: the rate kept and the file's size), and
(resumed) a map of 100,000 results all in the journal, returned without sending. Through the
agent: (agent) 100,000 calls of a trivial Python function (tests/agent_code/mathwork.py's add) run
by real agents under awslambdaric, 16 in flight: LambdaExecutor.map with chunksize=1, LambdaPool.map
with the chunksize it chooses, and boto3 + threads sending the agent's events one by one, each
with the invocations it took. (spill) 200 calls each taking a 20 MB argument (random bytes as a base64
str, which no compression shrinks) and returning it, 8 in flight, through S3 (moto's server):
LambdaExecutor(spill=...) with the agent beside the same work by hand with boto3 and threads
(put_object, an invocation carrying the key, a handler reading and writing S3 with boto3,
get_object, delete_object): MB/s of arguments and results moved, peak RSS and CPU seconds of the
client process. (grid) bench/throttle_grid.py: throttling across reserved
concurrency, latency, random throttles and a limit that changes, LambdaExecutor beside boto3's
adaptive retry mode (about 5 minutes). (deploy) bench/deploy.py, alone: numpy, pandas and scipy
deployed and updated through S3, with and without --requirements-layer, beside boto3 by hand
(needs PyPI). Not part of the tests.
"""

import argparse
import asyncio
import base64
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from deploy import print_deploy_table, run_deploy_bench
from table import print_columns
from throttle_grid import print_grid, run_grid

ENV = dict(
    os.environ,
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_EC2_METADATA_DISABLED="true",
    # Every client goes straight to LocalLambda, whatever proxy or CA bundle this machine names.
    NO_PROXY="*",
)
RUST = "aws-sdk-lambda (Rust)"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENT_CODE = os.path.join(ROOT, "tests", "agent_code")
FUNCTION_EVENT = {
    "echo": ("echo", {}),
    "in_flight": ("echo", {"sleep_ms": 2000}),
    "in_flight_tls": ("echo", {"sleep_ms": 2000}),
    "throttled": ("limited", {"sleep_ms": 500}),
    "paced": ("paced", {"sleep_ms": 50}),
    "scaling": ("burst", {"sleep_ms": 1000}),
    "payload_5mb": ("echo", {"blob": "x" * 5_000_000}),
    "million": ("echo", {}),
    "echo_journal": ("echo", {}),
    "million_journal": ("echo", {}),
    "resumed": ("echo", {}),
    "agent": ("agent", {}),
    "spill": ("agent", {}),
}
JOURNALED = ("echo_journal", "million_journal", "resumed")
# The least time each throttled scenario can take, in seconds: (c) 20 rounds of 0.5 s; (paced)
# 4,000 at 200/s; (scaling) t where the environments Lambda allows, 300 + 30 t, have run 3,000 s.
FLOORS = {"throttled": 10.0, "paced": 20.0, "scaling": 7.3}
SCALING_SERVER = ["--synthetic", "burst", "--scaling-limit", "300", "--rate-limit", "off"]
STREAMED = ("million", "million_journal", "resumed")
# The variable that tells a child the lambda_executor logger's level (--log-level).
LOG_LEVEL = "BENCH_LOG_LEVEL"
SPILL_MB = 20
SPILL_BUCKET = "bench-spill"
# The functions of (spill) in their environments: LocalLambda gives a handler none of its caller's
# credentials (Lambda gives it its role's), so these give it moto's; the S3 endpoint is inherited.
SPILL_HANDLERS = '''
import json
import os

os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")

import boto3
from lambda_executor import agent

s3 = boto3.client("s3")


def through_agent(event, context):
    return agent.handler(event, context)


def by_hand(event, context):
    """The same work written with boto3: the argument read from S3, the result written there."""
    argument = json.loads(s3.get_object(Bucket=event["bucket"], Key=event["key"])["Body"].read())
    result = json.dumps(argument["text"])
    key = event["key"].replace("argument-", "result-")
    s3.put_object(Bucket=event["bucket"], Key=key, Body=result.encode())
    return {"bucket": event["bucket"], "key": key}
'''


def events(scenario, calls):
    if scenario == "agent":  # the agent's event for mathwork.add(i, i)
        return ({"call": "mathwork:add", "args": [i, i]} for i in range(calls))
    _, event = FUNCTION_EVENT[scenario]
    return (dict(event, i=i) for i in range(calls))


def answered_right(scenario, event, result):
    """Whether an invocation's result is the one its event asks for."""
    return result == 2 * event["args"][0] if scenario == "agent" else result.get("i") == event["i"]


def run_agent_client(client, endpoint, calls, workers):
    """(agent) through lambda-executor: (calls right, seconds' start, extra figures)."""
    sys.path.insert(0, AGENT_CODE)
    from lambda_executor import LambdaExecutor, LambdaPool
    from mathwork import add

    numbers = range(calls)
    with LambdaExecutor(max_workers=workers, endpoint_url=endpoint) as warming:
        warming.warm("agent", workers)  # every client meets warm environments
    if client == "LambdaExecutor":  # chunksize=1: an invocation per call
        with LambdaExecutor(max_workers=workers, endpoint_url=endpoint, agent="agent") as executor:
            started = time.perf_counter()
            ok = sum(result == 2 * i for i, result in enumerate(executor.map(add, numbers, numbers)))
            stats = executor.stats()
    else:  # LambdaPool: map's chosen chunksize
        with LambdaPool(workers, function="agent", endpoint_url=endpoint) as pool:
            started = time.perf_counter()
            ok = sum(result == 2 * i for i, result in enumerate(pool.starmap(add, zip(numbers, numbers))))
            stats = pool.stats()
    return ok, started, {"invocations": stats.invocations}


def spill_text():
    """SPILL_MB of random bytes as base64: JSON carries it as it is, and zlib shrinks it by a
    quarter at most, which base64 again takes back."""
    return base64.b64encode(os.urandom(SPILL_MB * 3 << 18)).decode()


def run_spill_client(client, endpoint, calls, workers):
    """(spill): (calls right, seconds' start, extra figures)."""
    text = spill_text()
    if client == "LambdaExecutor":
        sys.path.insert(0, AGENT_CODE)
        from itertools import repeat

        from lambda_executor import LambdaExecutor
        from mathwork import identity

        spill = f"s3://{SPILL_BUCKET}/executor"
        with LambdaExecutor(max_workers=workers, endpoint_url=endpoint, agent="spill_agent", spill=spill) as executor:
            started = time.perf_counter()
            # Results are taken in order: twice the workers submitted ahead keeps them all busy
            # behind a slow call.
            results = executor.map(identity, repeat(text, calls), buffersize=2 * workers)
            ok = sum(result == text for result in results)
        return ok, started, {}
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    import boto3
    from botocore.config import Config

    config = Config(max_pool_connections=workers, retries={"mode": "adaptive"}, read_timeout=300)
    lambda_client = boto3.client("lambda", endpoint_url=endpoint, config=config)
    s3 = boto3.client("s3", config=Config(max_pool_connections=workers))

    def call(text):
        key = f"by-hand/argument-{uuid.uuid4().hex}"
        s3.put_object(Bucket=SPILL_BUCKET, Key=key, Body=json.dumps({"text": text}).encode())
        response = lambda_client.invoke(
            FunctionName="spill_by_hand", Payload=json.dumps({"bucket": SPILL_BUCKET, "key": key})
        )
        reference = json.loads(response["Payload"].read())
        result = json.loads(s3.get_object(Bucket=SPILL_BUCKET, Key=reference["key"])["Body"].read())
        s3.delete_object(Bucket=SPILL_BUCKET, Key=reference["key"])
        s3.delete_object(Bucket=SPILL_BUCKET, Key=key)
        return result

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        # The results come back to the caller, as LambdaExecutor's do, and are checked there.
        ok = sum(result == text for result in pool.map(call, [text] * calls))
    return ok, started, {}


def log_to_nowhere(level):
    """The lambda_executor logger at `level` (None: left alone), its records formatted and written
    to /dev/null, as a handler of the application's would: what logging costs, not where it goes."""
    if level is None:
        return
    handler = logging.FileHandler(os.devnull)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("lambda_executor")
    logger.setLevel(level)
    logger.addHandler(handler)


def run_client(client, scenario, endpoint, calls, workers):
    """In a child process: one client on one scenario; prints one JSON line."""
    function, _ = FUNCTION_EVENT[scenario]
    extra = {}
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if scenario == "spill":
        ok, started, extra = run_spill_client(client, endpoint, calls, workers)
    elif scenario == "agent" and client in ("LambdaExecutor", "LambdaPool"):
        ok, started, extra = run_agent_client(client, endpoint, calls, workers)
    elif client == "LambdaExecutor":
        from lambda_executor import LambdaExecutor

        log_to_nowhere(os.environ.get(LOG_LEVEL))

        journal = os.path.join(tempfile.mkdtemp(prefix="bench-journal-"), "run.db") if scenario in JOURNALED else None
        with LambdaExecutor(max_workers=workers, endpoint_url=endpoint) as executor:
            # (e) streams: at most 4 x workers submitted ahead, results checked and dropped.
            buffersize = 4 * workers if scenario in STREAMED else None
            if scenario == "resumed":  # fills the journal; the timed map below sends nothing
                for _ in executor.map(function, events(scenario, calls), buffersize=buffersize, journal=journal):
                    pass
            base_rss, started = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter()
            ok = 0
            results = executor.map(function, events(scenario, calls), buffersize=buffersize, journal=journal)
            for i, result in enumerate(results):
                ok += result.get("i") == i
            stats = executor.stats()
            extra = {"throttled_attempts": stats.throttles, "limit": executor.concurrency_limit(function)}
            if journal:
                extra["from_journal"] = stats.from_journal
                extra["journal_mb"] = round(
                    sum(os.path.getsize(path) for path in (journal, journal + "-wal") if os.path.exists(path)) / 2**20,
                    1,
                )
        if journal:
            shutil.rmtree(os.path.dirname(journal), ignore_errors=True)
    elif client == "aiobotocore":
        ok, retries, started = asyncio.run(run_aiobotocore(endpoint, function, scenario, calls, workers))
        extra = {"throttled_attempts": retries}
    else:
        from concurrent.futures import ThreadPoolExecutor

        import boto3
        from botocore.config import Config

        # As users write it: the default config (10 pooled connections, legacy retries); tuned:
        # a connection per worker and the adaptive retry mode.
        config = (
            Config()
            if client == "boto3 default"
            else Config(max_pool_connections=workers, retries={"mode": "adaptive"})
        )
        lambda_client = boto3.client("lambda", endpoint_url=endpoint, config=config)

        def call(event):
            """(whether the right result came back, the retries botocore made)."""
            try:
                response = lambda_client.invoke(FunctionName=function, Payload=json.dumps(event))
                result = json.loads(response["Payload"].read())
                return answered_right(scenario, event, result), response["ResponseMetadata"]["RetryAttempts"]
            except Exception as error:  # noqa: BLE001 - counted as a failure
                return False, throttles_of_failure(error)

        base_rss, started = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            outcomes = list(pool.map(call, events(scenario, calls)))
        ok = sum(right for right, _ in outcomes)
        extra = {"invocations": calls} if scenario == "agent" else {}
        # Every retry in the throttled scenarios is a throttle: nothing else fails there.
        extra["throttled_attempts"] = sum(retries for _, retries in outcomes)
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    failed = calls - ok
    if scenario == "spill":  # arguments and results moved, each SPILL_MB
        extra["mb_s"] = round(2 * SPILL_MB * ok / elapsed)
    print(
        json.dumps(
            {
                "client": client,
                "scenario": scenario,
                "calls": calls,
                "succeeded": ok,
                "failed": failed,
                "seconds": round(elapsed, 2),
                "per_s": round(calls / elapsed),
                "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
                "peak_rss_mb": round(usage.ru_maxrss / 1024),
                "rss_growth_mb": round((usage.ru_maxrss - base_rss) / 1024),
                **extra,
            }
        )
    )


async def run_aiobotocore(endpoint, function, scenario, calls, workers):
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    room = asyncio.Semaphore(workers)
    config = AioConfig(max_pool_connections=workers, retries={"mode": "adaptive"})
    async with get_session().create_client("lambda", endpoint_url=endpoint, config=config) as client:

        async def call(event):
            async with room:
                try:
                    response = await client.invoke(FunctionName=function, Payload=json.dumps(event))
                    right = json.loads(await response["Payload"].read()).get("i") == event["i"]
                    return right, response["ResponseMetadata"]["RetryAttempts"]
                except Exception as error:  # noqa: BLE001 - counted as a failure
                    return False, throttles_of_failure(error)

        started = time.perf_counter()
        outcomes = await asyncio.gather(*(call(event) for event in events(scenario, calls)))
    return sum(right for right, _ in outcomes), sum(retries for _, retries in outcomes), started


def throttles_of_failure(error):
    """The throttled attempts behind a botocore error: its retries, and itself if it is one."""
    response = getattr(error, "response", {})
    throttled = response.get("Error", {}).get("Code") == "TooManyRequestsException"
    return response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + throttled


def tls_identity(folder):
    """A CA and a certificate for 127.0.0.1 signed by it, as a user's own CA would serve LocalLambda
    over https (made as the tests make theirs); returns (ca, certificate, key) paths."""
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from certificates import write_test_pki

    folder = write_test_pki(folder)
    return str(folder / "ca.pem"), str(folder / "server.pem"), str(folder / "server.key")


def serve_local(in_flight, tls=None, options=None, agent=None):
    """LocalLambda in a process of its own; returns (process, endpoint). By default its functions
    are those of every scenario but (scaling), and environments are taken as warm (no scaling
    limit)."""
    command = [
        sys.executable,
        "-m",
        "lambda_executor",
        "local",
        "--account-concurrency",
        str(in_flight + 1000),
    ]
    command += options or [
        *("--synthetic", "echo", "--synthetic", "limited", "--reserved", "limited=10"),
        *("--synthetic", "paced", "--reserved", "paced=20", "--scaling-limit", "off"),
    ]
    if tls:
        command += ["--tls-cert", tls[0], "--tls-key", tls[1]]
    if agent:  # the agent, with the code it calls, as deploy bundles them
        command += ["--function", "agent", "lambda_executor.agent.handler", agent]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=ENV)
    return server, server.stdout.readline().rsplit(" ", 1)[1].strip()


def serve_spill(folder):
    """moto's S3 with the bench's bucket, and LocalLambda with (spill)'s two functions in
    `folder`; returns (processes, LocalLambda's endpoint, the clients' environment)."""
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from helpers import free_port, wait_for

    with open(os.path.join(folder, "bench_spill.py"), "w") as file:
        file.write(SPILL_HANDLERS)
    port = free_port()
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
    )
    s3_url = f"http://127.0.0.1:{port}"
    env = dict(ENV, AWS_ENDPOINT_URL_S3=s3_url)

    def bucket_made():
        import boto3

        try:
            boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1").create_bucket(Bucket=SPILL_BUCKET)
            return True
        except Exception:  # noqa: BLE001 - not up yet
            return False

    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    wait_for(bucket_made, seconds=30)
    command = [sys.executable, "-m", "lambda_executor", "local", "--account-concurrency", "100"]
    for name, handler in (("spill_agent", "through_agent"), ("spill_by_hand", "by_hand")):
        command += ["--function", name, f"bench_spill.{handler}", folder]
        command += ["--memory", f"{name}=2048", "--timeout", f"{name}=300"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    return [server, moto], server.stdout.readline().rsplit(" ", 1)[1].strip(), env


def run_rust(endpoint, calls, in_flight, sleep_ms, scenario, env):
    out = subprocess.run(
        [
            "cargo",
            "run",
            "--quiet",
            "--release",
            "--package",
            "lambda-executor-engine",
            "--example",
            "sdk_baseline",
            "--",
            endpoint,
            str(calls),
            str(in_flight),
            str(sleep_ms),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
        cwd=ROOT,
    )
    if out.returncode != 0:
        return {"client": RUST, "scenario": scenario, "error": out.stderr[-300:]}
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["client"], row["scenario"] = RUST, scenario
    return row


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller runs (a tenth), for a first look")
    parser.add_argument("--json", default=os.path.join(ROOT, "bench", "results.json"))
    parser.add_argument("--table", metavar="JSON", help="only print the table of an earlier run's rows")
    parser.add_argument("--scenario", action="append", help="run only this scenario (repeatable), e.g. payload_5mb")
    parser.add_argument(
        "--log-level",
        choices=("DEBUG", "INFO", "WARNING"),
        help="LambdaExecutor's runs with the lambda_executor logger at this level, written to /dev/null",
    )
    args = parser.parse_args()
    if args.table:
        with open(args.table) as file:
            return print_table(json.load(file))
    if args.scenario and "deploy" in args.scenario:
        # Not with the others: it needs PyPI, and its own table.
        rows = run_deploy_bench(ENV)
        with open(args.json, "w") as file:
            json.dump(rows, file, indent=1)
        return print_deploy_table(rows)
    scale = 10 if args.quick else 1
    echo_calls, peer_calls, in_flight = 20000 // scale, 3000 // scale, 10000 // scale
    from lambda_executor.bundle import stage

    agent_folder = tempfile.mkdtemp(prefix="bench-agent-")
    stage([Path(AGENT_CODE, "mathwork.py")], Path(agent_folder))
    server, endpoint = serve_local(in_flight, agent=agent_folder)
    # (b-tls): the same calls over https to LocalLambda with a CA of its own, as users meet Lambda.
    tls_folder = tempfile.mkdtemp(prefix="bench-tls-")
    ca, certificate, key = tls_identity(tls_folder)
    tls_server, tls_endpoint = serve_local(in_flight, (certificate, key))
    tls_env = dict(ENV, AWS_CA_BUNDLE=ca)
    peers = ["boto3 default", "boto3 tuned", "aiobotocore"]
    plan = (
        [("LambdaExecutor", "echo", echo_calls, 64)]
        + [(peer, "echo", peer_calls, 64) for peer in peers]
        + [(client, "in_flight", in_flight, in_flight) for client in ("LambdaExecutor", "boto3 tuned", "aiobotocore")]
        + [(client, "in_flight_tls", in_flight, in_flight) for client in ("LambdaExecutor", "aiobotocore")]
        + [(client, "throttled", 200, 100) for client in ["LambdaExecutor", *peers]]
        + [(client, "paced", 4000 // scale, 100) for client in ("LambdaExecutor", "boto3 tuned", "aiobotocore")]
        + [(client, "scaling", 3000, 3000) for client in ("LambdaExecutor", "boto3 tuned", "aiobotocore")]
        + [(client, "payload_5mb", 100, 4) for client in ["LambdaExecutor", *peers]]
        + [("LambdaExecutor", "million", 1_000_000 // scale, 64)]
        # The peers stream nothing: ThreadPoolExecutor.map and gather hold every call at once,
        # and at their speed a million would take a quarter of an hour; 50,000 show the trend.
        + [(peer, "million", 50_000 // scale, 64) for peer in ("boto3 tuned", "aiobotocore")]
        + [("LambdaExecutor", "echo_journal", echo_calls, 64)]
        + [("LambdaExecutor", "million_journal", 1_000_000 // scale, 64)]
        + [("LambdaExecutor", "resumed", 100_000 // scale, 64)]
        + [(client, "agent", 100_000 // scale, 16) for client in ("LambdaExecutor", "LambdaPool", "boto3 tuned")]
        + [(client, "spill", 200 // scale, 8) for client in ("LambdaExecutor", "boto3 tuned")]
    )
    rust_plan = [
        (endpoint, echo_calls, 64, 0, "echo", ENV),
        (endpoint, in_flight, in_flight, 2000, "in_flight", ENV),
        (tls_endpoint, in_flight, in_flight, 2000, "in_flight_tls", tls_env),
    ]
    if args.scenario:
        plan = [entry for entry in plan if entry[1] in args.scenario]
        rust_plan = [entry for entry in rust_plan if entry[4] in args.scenario]
    rows = []
    spill_processes, spill_endpoint, spill_env = [], None, ENV
    if any(scenario == "spill" for _, scenario, _, _ in plan):
        spill_processes, spill_endpoint, spill_env = serve_spill(agent_folder)
    try:
        for rust_endpoint, calls, workers, sleep_ms, scenario, env in rust_plan:
            row = run_rust(rust_endpoint, calls, workers, sleep_ms, scenario, env)
            rows.append(row)
            print(json.dumps(row), flush=True)
        for client, scenario, calls, workers in plan:
            tls = scenario == "in_flight_tls"
            # A fresh function each: a LocalLambda of its own.
            fresh, fresh_endpoint = (None, None)
            if scenario == "scaling":
                fresh, fresh_endpoint = serve_local(workers, options=SCALING_SERVER)
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    client,
                    scenario,
                    fresh_endpoint or (tls_endpoint if tls else spill_endpoint if scenario == "spill" else endpoint),
                    str(calls),
                    str(workers),
                ],
                capture_output=True,
                text=True,
                env=dict(
                    tls_env if tls else spill_env if scenario == "spill" else ENV,
                    **({LOG_LEVEL: args.log_level} if args.log_level else {}),
                ),
                timeout=1800,
            )
            if fresh:
                fresh.terminate()
                fresh.wait()
            row = (
                json.loads(out.stdout.strip().splitlines()[-1])
                if out.returncode == 0
                else {"client": client, "scenario": scenario, "error": out.stderr[-300:]}
            )
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        for process in (server, tls_server, *spill_processes):
            process.terminate()
            process.wait()
        shutil.rmtree(tls_folder, ignore_errors=True)
        shutil.rmtree(agent_folder, ignore_errors=True)
    if not args.scenario or "grid" in args.scenario:
        rows += run_grid(quick=args.quick)
    with open(args.json, "w") as file:
        json.dump(rows, file, indent=1)
    print_table(rows)


def print_table(rows):
    """One table. `vs best peer`: LambdaExecutor's calls/s over the best of boto3 and aiobotocore
    in the same scenario; `of Rust`: over aws-sdk-lambda alone (the engine's ceiling)."""
    header = (
        "scenario",
        "client",
        "calls",
        "ok",
        "failed",
        "seconds",
        "calls/s",
        "throttled",
        "cpu s",
        "peak MB",
        "vs best peer",
        "of Rust",
    )
    lines = [header]
    for scenario in (
        "echo",
        "in_flight",
        "in_flight_tls",
        "throttled",
        "paced",
        "scaling",
        "payload_5mb",
        "million",
        *JOURNALED,
        "agent",
        "spill",
    ):
        group = [row for row in rows if row.get("scenario") == scenario]
        ran = [row for row in group if "error" not in row]
        # (spill) is compared by MB/s: its calls are few and large.
        rate = "mb_s" if scenario == "spill" else "per_s"
        best_peer = max(
            (row[rate] for row in ran if row["client"] not in ("LambdaExecutor", "LambdaPool", RUST)), default=None
        )
        ceiling = next((row["per_s"] for row in ran if row["client"] == RUST), None)
        for row in group:
            ours = row["client"] == "LambdaExecutor" and "error" not in row
            lines.append(
                (
                    scenario,
                    row["client"],
                    str(row.get("calls", "")),
                    str(row.get("succeeded", "")),
                    str(row.get("failed", "")),
                    str(row.get("seconds", row.get("error", "")[:30])),
                    str(row.get("per_s", "")),
                    str(row.get("throttled_attempts", "")),
                    str(row.get("cpu_s", "")),
                    str(row.get("peak_rss_mb", "")),
                    f"{row[rate] / best_peer:.2f}x" if ours and best_peer else "",
                    f"{100 * row['per_s'] / ceiling:.0f}%" if ours and ceiling else "",
                )
            )
    if len(lines) > 1:
        print_columns(lines)
    if any(row.get("scenario") == "grid" for row in rows):
        print_grid(rows)
    for row in rows:
        if row.get("scenario") in FLOORS and "error" not in row:
            attempts = row["calls"] + row.get("throttled_attempts", 0)
            print(
                f"{row['scenario']}: {row['client']} took {row['seconds'] / FLOORS[row['scenario']]:.2f}x the floor "
                f"({FLOORS[row['scenario']]:g} s); {100 * row.get('throttled_attempts', 0) / attempts:.1f}% of "
                f"{attempts:,} attempts throttled; {row['failed']} failed"
            )
    ours = {row["scenario"]: row for row in rows if row.get("client") == "LambdaExecutor" and "error" not in row}
    for journaled, plain in (("echo_journal", "echo"), ("million_journal", "million")):
        if journaled in ours and plain in ours:
            with_journal, without = ours[journaled], ours[plain]
            print(
                f"{journaled}: {100 * with_journal['per_s'] / without['per_s']:.0f}% of {plain}'s calls/s without a "
                f"journal; peak {with_journal['peak_rss_mb']} MB (without: {without['peak_rss_mb']} MB); "
                f"journal file {with_journal['journal_mb']} MB"
            )
    agent = {row["client"]: row for row in rows if row.get("scenario") == "agent" and "error" not in row}
    if agent:
        print(
            "agent: "
            + "; ".join(
                f"{name} {agent[client]['per_s']:,} calls/s in {agent[client]['invocations']:,} invocations"
                for client, name in (
                    ("LambdaExecutor", "chunksize=1"),
                    ("LambdaPool", "LambdaPool.map's chosen chunksize"),
                    ("boto3 tuned", "boto3 + threads one by one"),
                )
                if client in agent
            )
        )
    spill = {row["client"]: row for row in rows if row.get("scenario") == "spill" and "error" not in row}
    if "LambdaExecutor" in spill and "boto3 tuned" in spill:
        mine, peer = spill["LambdaExecutor"], spill["boto3 tuned"]
        print(
            f"spill: LambdaExecutor {mine['mb_s']} MB/s, peak {mine['peak_rss_mb']} MB, {mine['cpu_s']} CPU s; "
            f"boto3 + threads {peer['mb_s']} MB/s, peak {peer['peak_rss_mb']} MB, {peer['cpu_s']} CPU s; "
            f"{mine['mb_s'] / peer['mb_s']:.2f}x the MB/s at {mine['peak_rss_mb'] / peer['peak_rss_mb']:.2f}x the "
            f"peak memory and {mine['cpu_s'] / peer['cpu_s']:.2f}x the CPU"
        )
    if "resumed" in ours:
        resumed = ours["resumed"]
        print(f"resumed: {resumed['from_journal']:,} results from the journal at {resumed['per_s']:,}/s, none sent")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, client, scenario, endpoint, calls, workers = sys.argv
        run_client(client, scenario, endpoint, int(calls), int(workers))
    else:
        main()
