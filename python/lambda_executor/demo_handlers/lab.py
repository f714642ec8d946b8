"""Handlers for `lambda-executor demo`: the concurrency lab's slow function (shared seeds), shortened,
and a division that fails as user code fails."""

import time

WARM_EVENT = {"lambda_executor": "warm"}  # what LambdaExecutor.warm() sends


def do_something(event, context):
    """Simulates slow processing, as the lab's handler does."""
    if event == WARM_EVENT:
        return None
    time.sleep(event.get("seconds", 1) if isinstance(event, dict) else 1)
    return {"message": "data was processed", "item": event.get("item") if isinstance(event, dict) else None}


def hello(event, context):
    print(f"hello from {context.function_name}, request {context.aws_request_id}")
    return {"greeting": f"hello, {event.get('name', 'world')}"}


def divide(event, context):
    """event["numerator"] / event["denominator"]: a denominator of 0 raises ZeroDivisionError."""
    return event["numerator"] / event["denominator"]
