"""The Lambda concurrency lab's script (shared seeds), moved to lambda-executor line for line.

    python examples/seed_lab.py --local                    # offline: LocalLambda, reserved concurrency 2
    FUNCTION_NAME=my-function python examples/seed_lab.py  # your deployed function

Against AWS, the region, credentials and endpoint come from the usual AWS configuration (so
AWS_ENDPOINT_URL_LAMBDA may name another Lambda, such as `lambda-executor local`'s). With boto3 and
threads, 8 of the 10 calls fail with TooManyRequestsException against a reserved concurrency of 2;
here all 10 succeed, because the executor absorbs the throttling.
"""

import argparse
import concurrent.futures
import os

from lambda_executor import LambdaExecutor, LocalLambda  # was: import boto3, io; from dotenv import load_dotenv

# Lambda function name: do_something_concurrent_<YOUR_INSPER_USERNAME>
function_name = os.getenv("FUNCTION_NAME", "")

# Define the number of concurrent executions/calls
num_executions = 10

# (no client to create: region and credentials come from the usual AWS configuration)


def main(endpoint_url=None):
    try:
        # was: with concurrent.futures.ThreadPoolExecutor(max_workers=num_executions) as executor:
        with LambdaExecutor(max_workers=num_executions, endpoint_url=endpoint_url) as executor:
            # List to store the future objects
            futures = []

            # Submit the Lambda invocations to the executor
            for _ in range(num_executions):
                # was: executor.submit(lambda_client.invoke, FunctionName=function_name,
                #                      InvocationType="RequestResponse")
                future = executor.submit(function_name, {})
                futures.append(future)

            # Process the results as they become available
            for future in concurrent.futures.as_completed(futures):
                print("-" * 40)
                # was: response = future.result(); payload = response["Payload"]
                #      txt = io.BytesIO(payload.read()).read().decode("utf-8")
                txt = future.result()
                print(f"Response:\n{txt}")

    except Exception as e:
        print(e)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--local", action="store_true", help="run offline, against a LocalLambda started here")
    if parser.parse_args().local:
        # The lab's handler under LocalLambda, with the lab's reserved concurrency of 2.
        from lambda_executor.cli.demo import DEMO_HANDLERS, use_offline_credentials

        use_offline_credentials()
        function_name = "do_something_concurrent"
        with LocalLambda() as local:
            local.add_function(function_name, "lab.do_something", DEMO_HANDLERS, reserved_concurrency=2)
            main(local.endpoint_url)
            print("-" * 40)
            print(f"LocalLambda: {local.stats(function_name)}")
    elif function_name:
        main()
    else:
        parser.error("set FUNCTION_NAME to your deployed function's name, or pass --local to run offline")
