"""A data pipeline through LambdaPool: temperature readings split into chunks, each chunk
summarised in Lambda by weather.summarise (a plain Python function), the summaries merged here into
each station's minimum, mean and maximum.

    python examples/pipeline.py --local    # offline: LocalLambda runs the agent on this machine

    # in your AWS account: deploy weather.py with lambda-executor's agent, then run against it
    lambda-executor deploy weather-agent examples/weather.py --create-role
    AGENT_FUNCTION=weather-agent python examples/pipeline.py

Against AWS, the region, credentials and endpoint come from the usual AWS configuration (so
AWS_ENDPOINT_URL_LAMBDA may name another Lambda, such as `lambda-executor local`'s).
"""

import argparse
import os
import random
import tempfile
from pathlib import Path

import weather  # the deployed code, importable here too: LambdaPool sends its functions by name
from lambda_executor import LambdaPool

# Each station's mean temperature, roughly: its readings scatter around it.
STATIONS = {"Bergen": 7.7, "Cairo": 21.4, "Dakar": 24.0, "Fairbanks": -2.3, "Hanoi": 23.6, "Oslo": 5.7, "Perth": 18.7}
READINGS = 200_000
CHUNK_SIZE = 10_000  # readings per invocation


def readings(count, seed=29):
    """[station, temperature] readings: the pipeline's input (a file or a query in real life)."""
    rng = random.Random(seed)
    return [[station, round(rng.gauss(STATIONS[station], 8), 1)] for station in rng.choices(list(STATIONS), k=count)]


def merge(summaries):
    """The chunks' summaries as one: each station's count, sum, minimum and maximum."""
    merged = {}
    for summary in summaries:
        for station, (count, total, low, high) in summary.items():
            merged_count, merged_total, merged_low, merged_high = merged.get(station, (0, 0.0, low, high))
            merged[station] = (merged_count + count, merged_total + total, min(merged_low, low), max(merged_high, high))
    return merged


def run(agent_function, endpoint_url=None):
    data = readings(READINGS)
    chunks = [data[start : start + CHUNK_SIZE] for start in range(0, len(data), CHUNK_SIZE)]
    with LambdaPool(5, function=agent_function, endpoint_url=endpoint_url) as pool:
        summaries = pool.map(weather.summarise, chunks)
        stats = pool.stats()
    for station, (count, total, low, high) in sorted(merge(summaries).items()):
        print(f"{station:<10} min {low:5.1f}  mean {total / count:5.1f}  max {high:5.1f}  ({count:,} readings)")
    print(f"{len(data):,} readings in {len(chunks)} chunks, summarised by {stats.invocations} invocations")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--local", action="store_true", help="run offline, against a LocalLambda started here")
    if parser.parse_args().local:
        from lambda_executor import LocalLambda
        from lambda_executor.bundle import AGENT_HANDLER, stage
        from lambda_executor.cli.demo import use_offline_credentials

        use_offline_credentials()
        with tempfile.TemporaryDirectory() as code, LocalLambda() as local:
            stage([Path(weather.__file__)], Path(code))  # laid out as `lambda-executor deploy` bundles it
            local.add_function("weather-agent", AGENT_HANDLER, code, timeout=30)
            run("weather-agent", local.endpoint_url)
    elif os.environ.get("AGENT_FUNCTION"):
        run(os.environ["AGENT_FUNCTION"])
    else:
        parser.error("set AGENT_FUNCTION to your deployed agent function's name, or pass --local to run offline")
