"""LocalLambda's table of the operations it serves (`local_lambda_operations()`, which the docs'
checklist is made from) is what it answers: every operation of AWS's Lambda and CloudWatch Logs
models is refused as an UnknownOperationException if and only if the table leaves it out."""

import http.client
import json
import re
from urllib.parse import urlsplit

import botocore.session
import pytest
from lambda_executor import LocalLambda
from lambda_executor._core import local_lambda_operations

SESSION = botocore.session.get_session()
LAMBDA = SESSION.get_service_model("lambda")
LOGS = SESSION.get_service_model("logs")
TABLE = local_lambda_operations()
UNKNOWN = "UnknownOperationException"
# A request URI's labels, filled as a client would fill them (the function need not exist:
# an operation LocalLambda serves then answers that it is not found).
LABEL = re.compile(r"\{(\w+)\+?\}")
LABEL_VALUES = {"FunctionName": "absent-function", "VersionNumber": "1", "Name": "live"}


def served(service):
    return {name: (method, path) for row_service, name, method, path in TABLE if row_service == service}


@pytest.fixture(scope="module")
def endpoint():
    with LocalLambda() as local:
        yield urlsplit(local.endpoint_url).netloc


def error_type(endpoint, method, path, headers, body=None):
    """The error type LocalLambda answers with (restJson1's header or JSON 1.1's `__type`), or None."""
    connection = http.client.HTTPConnection(endpoint, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read()
    finally:
        connection.close()
    if response.getheader("x-amzn-ErrorType"):
        return response.getheader("x-amzn-ErrorType").split(":")[0]
    try:
        answer = json.loads(text)
    except ValueError:
        return None
    return answer.get("__type") if isinstance(answer, dict) else None


def test_every_lambda_operation_is_unknown_exactly_when_the_table_leaves_it_out(endpoint):
    table = served("lambda")
    wrong = []
    for name in LAMBDA.operation_names:
        http_model = LAMBDA.operation_model(name).http
        method = http_model["method"]
        path = LABEL.sub(lambda label: LABEL_VALUES.get(label[1], "absent"), http_model["requestUri"])
        body = b"{}" if method in ("POST", "PUT") else None
        answer = error_type(endpoint, method, path, {"Content-Type": "application/json"}, body)
        if (answer == UNKNOWN) == (name in table):
            wrong.append(f"{name} ({method} {path}): {answer}, in the table: {name in table}")
    assert wrong == []


def test_every_cloudwatch_logs_operation_is_unknown_exactly_when_the_table_leaves_it_out(endpoint):
    table = served("logs")
    prefix = LOGS.metadata["targetPrefix"]
    wrong = []
    for name in LOGS.operation_names:
        headers = {"X-Amz-Target": f"{prefix}.{name}", "Content-Type": "application/x-amz-json-1.1"}
        answer = error_type(endpoint, "POST", "/", headers, b"{}")
        if (answer == UNKNOWN) == (name in table):
            wrong.append(f"{name}: {answer}, in the table: {name in table}")
    assert wrong == []


def test_the_tables_aws_operations_are_as_aws_models_them():
    """The checklist shows the table's method and path beside the model's: they are the same."""
    services = {"lambda": LAMBDA, "logs": LOGS}
    for service, name, method, path in TABLE:
        if service == "local-lambda":
            continue
        model = services[service].operation_model(name)
        assert (method, path) == (model.http["method"], model.http["requestUri"]), name


def test_local_lambdas_own_endpoint_answers(endpoint):
    (row,) = [(method, path) for service, _, method, path in TABLE if service == "local-lambda"]
    connection = http.client.HTTPConnection(endpoint, timeout=30)
    try:
        connection.request(*row)
        response = connection.getresponse()
        answer = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 200
    assert answer["Runtime"].startswith("python3.")
