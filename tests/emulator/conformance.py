"""Replays requests to AWS Lambda whose answers AWS recorded (aws_recorded/lambda_pairs.json, from
LocalStack's AWS-validated snapshots) against a fresh LocalLambda through boto3, and prints each
pair matched or not, with the difference, then "N of M pairs match".

    python tests/emulator/conformance.py

A pair matches when LocalLambda answers with AWS's HTTP status and, for an error, its error code and
message, or for a success, the fields the pair compares. The status and error code are what a
user's code branches on (`except client.exceptions.ResourceNotFoundException`, a status check)."""

import base64
import hashlib
import io
import json
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from lambda_executor import LocalLambda

PAIRS = Path(__file__).parent / "aws_recorded" / "lambda_pairs.json"
LOCAL_ACCOUNT = "123456789012"  # LocalLambda's one account
OTHER_ACCOUNT = "999999999999"
MIN_UNRESERVED_CONCURRENCY = 100  # AWS's, which the recording hides
# LocalStack's functions/lambda_response_size.py: a result of as many bytes as the event asks.
HANDLER = "def handler(event, context):\n    return 'a' * event.get('bytenum', 0)\n"
SHOWN_CHARACTERS = 200  # of a differing value, in the printout


@dataclass
class Answer:
    """What an operation answered: its HTTP status, and an error's code and message or a
    success's document."""

    status: int
    error: Optional[str] = None
    message: Optional[str] = None
    document: dict = field(default_factory=dict)


@dataclass
class Replayed:
    pair: dict
    differences: list[str]

    @property
    def matches(self) -> bool:
        return not self.differences

    @property
    def branches_alike(self) -> bool:
        """Whether the status and error code, what a user's code branches on, are AWS's."""
        return not any(difference.startswith(("status", "error", "setup")) for difference in self.differences)


def handler_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", HANDLER)
    return buffer.getvalue()


def substitute(value: Any, values: dict[str, Any]) -> Any:
    """`value` with its placeholders replaced: a string that is one placeholder becomes that
    value (bytes, a number), placeholders within a string its text."""
    if isinstance(value, dict):
        return {key: substitute(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, values) for item in value]
    if not isinstance(value, str):
        return value
    whole = value[1:-1] if value.startswith("{") and value.endswith("}") else None
    if whole in values:
        return values[whole]
    for key, replacement in values.items():
        value = value.replace("{" + key + "}", str(replacement))
    return value


def call(client, request: dict, values: dict[str, Any]) -> Answer:
    params = substitute(request["params"], values)
    try:
        document = getattr(client, request["operation"])(**params)
    except ClientError as error:
        response = error.response
        return Answer(
            response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]
        )
    if "Payload" in document:
        document["Payload"] = json.loads(document["Payload"].read() or b"null")
    return Answer(document["ResponseMetadata"]["HTTPStatusCode"], document=document)


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN_CHARACTERS else text[:SHOWN_CHARACTERS] + f"... ({len(text)} characters)"


def compare(expected: dict, answer: Answer, values: dict[str, Any]) -> list[str]:
    expected = substitute(expected, values)
    differences = []
    if answer.status != expected["status"]:
        differences.append(f"status {answer.status}, AWS {expected['status']}")
    if answer.error != expected.get("error"):
        differences.append(f"error {answer.error}, AWS {expected.get('error')}")
    if "error" in expected and answer.message != expected["message"]:
        differences.append(f"message {shown(answer.message)}, AWS {shown(expected['message'])}")
    for name, value in expected.get("fields", {}).items():
        if answer.document.get(name) != value:
            differences.append(f"field {name}: {shown(answer.document.get(name))}, AWS {shown(value)}")
    return differences


def replay_pair(client, pair: dict, values: dict[str, Any]) -> Replayed:
    for step in pair["setup"]:
        answer = call(client, step, values)
        if answer.error:
            return Replayed(pair, [f"setup {step['operation']} failed: {answer.error} {shown(answer.message)}"])
        if step["operation"] == "create_function":
            values["created_revision"] = answer.document["RevisionId"]
            values["current_revision"] = client.get_function(FunctionName=values["name"])["Configuration"]["RevisionId"]
    return Replayed(pair, compare(pair["response"], call(client, pair["request"], values), values))


def replay(local: LocalLambda) -> list[Replayed]:
    """Replays every pair against `local`, each on a function name of its own."""
    client = boto3.client(
        "lambda",
        endpoint_url=local.endpoint_url,
        region_name=local.region,
        # LocalLambda checks no signature; boto3 signs with whatever it is given.
        aws_access_key_id="conformance",
        aws_secret_access_key="conformance",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=120),
    )
    code = handler_zip()
    account_limit = client.get_account_settings()["AccountLimit"]["ConcurrentExecutions"]
    shared = {
        "region": local.region,
        "account": LOCAL_ACCOUNT,
        "partition": "aws",
        "other_account": OTHER_ACCOUNT,
        "role": f"arn:aws:iam::{LOCAL_ACCOUNT}:role/conformance",
        "zip": code,
        "code_sha256": base64.b64encode(hashlib.sha256(code).digest()).decode(),
        "account_limit": account_limit,
        "account_limit_plus_one": account_limit + 1,
        "min_unreserved": MIN_UNRESERVED_CONCURRENCY,
    }
    pairs = json.loads(PAIRS.read_text())["pairs"]
    return [replay_pair(client, pair, {**shared, "name": f"conformance-{index}"}) for index, pair in enumerate(pairs)]


def report(results: list[Replayed]) -> str:
    lines = []
    for result in results:
        lines.append(f"{'match ' if result.matches else 'DIFFER'}  {result.pair['id']}  ({result.pair['recorded']})")
        lines.extend(f"        {difference}" for difference in result.differences)
    matched = sum(result.matches for result in results)
    lines.append(f"{matched} of {len(results)} pairs match")
    return "\n".join(lines)


def main() -> int:
    with LocalLambda() as local:
        results = replay(local)
    print(report(results))
    return 0 if all(result.matches for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
