"""The `local-lambda-operations` marker becomes LocalLambda's checklist: each operation of AWS's
Lambda API, as the installed botocore models it, marked implemented or not by LocalLambda's own
table (`local_lambda_operations()`, which tests/emulator/test_operations_table.py keeps true),
then the CloudWatch Logs reads and LocalLambda's own endpoints it serves.
"""

import botocore
import botocore.session
from generated_markdown import register
from lambda_executor._core import local_lambda_operations
from sphinx.application import Sphinx


def checklist() -> str:
    session = botocore.session.get_session()
    lambda_model = session.get_service_model("lambda")
    logs_prefix = session.get_service_model("logs").metadata["targetPrefix"]
    served: dict[str, list[tuple[str, str, str]]] = {"lambda": [], "logs": [], "local-lambda": []}
    for service, name, method, path in local_lambda_operations():
        served[service].append((name, method, path))
    implemented = {name for name, _, _ in served["lambda"]}

    rows = []
    for name in sorted(lambda_model.operation_names):
        operation = lambda_model.operation_model(name)
        label = f"{name} (deprecated)" if operation.deprecated else name
        mark = "implemented" if name in implemented else "no"
        rows.append(f"| {label} | {operation.http['method']} | `{operation.http['requestUri']}` | {mark} |")
    lines = [
        "## Lambda",
        "",
        f"LocalLambda implements {len(implemented)} of the {len(lambda_model.operation_names)} operations "
        f"of AWS's Lambda API, as botocore {botocore.__version__} models it.",
        "",
        "| Operation | Method | Path | LocalLambda |",
        "| --- | --- | --- | --- |",
        *rows,
        "",
        "## CloudWatch Logs",
        "",
        "The reads of the functions' logs, each a `POST /` whose `X-Amz-Target` header names it:",
        "",
        "| Operation | X-Amz-Target |",
        "| --- | --- |",
        *(f"| {name} | `{logs_prefix}.{name}` |" for name, _, _ in served["logs"]),
        "",
        "## LocalLambda's own",
        "",
        "| Operation | Method | Path |",
        "| --- | --- | --- |",
        *(f"| {name} | {method} | `{path}` |" for name, method, path in served["local-lambda"]),
        "",
    ]
    return "\n".join(lines)


def setup(app: Sphinx) -> dict[str, object]:
    register(app, "local-lambda-operations", checklist)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
