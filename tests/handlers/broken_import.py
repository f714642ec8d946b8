import lambda_executor_no_such_module  # noqa: F401


def handler(event, context):
    return "never"
