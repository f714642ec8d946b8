"""Handlers the emulator tests run under awslambdaric."""

import os
import subprocess
import sys
import time

# Module-level state survives between invocations of a warm environment.
INVOCATIONS = 0


def echo(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    print(f"echo invocation {INVOCATIONS}")
    client_context = context.client_context
    return {
        "event": event,
        "invocations": INVOCATIONS,
        "pid": os.getpid(),
        "client_context": client_context.custom if client_context else None,
        "function_name": context.function_name,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "greeting": os.environ.get("GREETING"),
        "caller_secret": os.environ.get("AWS_SECRET_ACCESS_KEY"),
    }


def fail(event, context):
    print("about to fail")
    raise ValueError(event.get("message", "boom"))


def sleep(event, context):
    if event == {"lambda_executor": "warm"}:  # LambdaExecutor.warm()
        return None
    time.sleep(event["seconds"])
    return {"slept": event["seconds"], "pid": os.getpid()}


def crash(event, context):
    print("crashing now", flush=True)
    os._exit(3)


def chatty(event, context):
    for line in range(event["lines"]):
        print(f"line {line:05d} " + "x" * 90)
    print("last line", file=sys.stderr)
    return "done"


def spawn_and_hang(event, context):
    """Starts a grandchild process, reports it, then hangs past the timeout."""
    child = subprocess.Popen(["sleep", "300"])
    with open(event["pid_file"], "w") as pid_file:
        pid_file.write(f"{os.getpid()} {child.pid}")
    time.sleep(300)


def unserializable(event, context):
    return {1, 2, 3}


def huge_response(event, context):
    return "x" * (7 * 1024 * 1024)


def record(event, context):
    """Appends the event to a file, so a test can see that an Event invocation ran."""
    with open(event["path"], "a") as out:
        out.write(f"{event['n']} {time.time()}\n")
    time.sleep(event.get("seconds", 0))
    return None


def forge(event, context):
    """Tries to answer an invocation that is not its own through the Runtime API."""
    import urllib.error
    import urllib.request

    api = os.environ["AWS_LAMBDA_RUNTIME_API"]
    request = urllib.request.Request(
        f"http://{api}/2018-06-01/runtime/invocation/{event['id']}/response", data=b'"forged"', method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return {"api": api, "status": response.status}
    except urllib.error.HTTPError as error:
        return {"api": api, "status": error.code, "error_type": error.headers.get("Lambda-Runtime-Function-Error-Type")}


def burn_cpu(event, context):
    """CPU-bound work of a fixed size: its duration shows the environment's share of a CPU."""
    total = 0
    for number in range(event["iterations"]):
        total += number * number
    return total


def allocate(event, context):
    """Holds `mb` megabytes, every page of them written, beside the runtime's own memory."""
    held = b"\x01" * (event["mb"] * 1024 * 1024)
    return {"held_mb": len(held) // (1024 * 1024), "pid": os.getpid()}


def cgroups(event, context):
    """The cgroups the environment runs in, as /proc/self/cgroup lists them."""
    with open("/proc/self/cgroup") as listing:
        return {"cgroups": listing.read(), "pid": os.getpid()}
