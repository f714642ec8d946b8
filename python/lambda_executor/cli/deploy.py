"""`lambda-executor deploy | update | list | delete`: put code on Lambda with the agent, and keep
it current (publishing versions and moving an alias, if asked). Functions it
creates carry the tag managed-by=lambda-executor; it lists, updates and deletes only those. With
--create-role it creates (or reuses) an execution role tagged the same way, which delete --role
removes once no function uses it."""

from __future__ import annotations

import argparse
import json
import os
import re
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar, Union

from .._core import ControlPlane, SpillStore
from ..bundle import AGENT_HANDLER, code_sha256
from ..errors import DeployError, warn_insecure
from . import packages
from .client import client_options, client_settings
from .words import counted

MANAGED_TAG = ("managed-by", "lambda-executor")
DEFAULT_MEMORY = 512
DEFAULT_TIMEOUT = 60
DEFAULT_RUNTIME = "python3.12"
DEFAULT_ARCHITECTURE = "x86_64"
MAX_LAYERS = 5
# Lambda's alias names: (?!^[0-9]+$)([a-zA-Z0-9-_]+), 1 to 128 characters.
ALIAS_NAME = re.compile(r"(?![0-9]+$)[a-zA-Z0-9_-]{1,128}")
# --create-role's role: IAM's role names are [\w+=,.@-]{1,64}.
DEFAULT_ROLE = "lambda-executor-execution"
ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
ROLE_DESCRIPTION = "Execution role of the functions lambda-executor deploys: logs only (AWSLambdaBasicExecutionRole)"
# What Lambda's CreateFunction says of a role IAM has not propagated yet, and how long to retry.
ROLE_NOT_ASSUMABLE = "cannot be assumed by Lambda"
ROLE_WAIT = 20
T = TypeVar("T")


def add_commands(commands: argparse._SubParsersAction) -> None:
    client = client_options()
    iam = argparse.ArgumentParser(add_help=False)
    iam.add_argument(
        "--iam-endpoint-url",
        metavar="URL",
        help="another IAM endpoint (a test server; default: AWS_ENDPOINT_URL_IAM, else IAM's own: "
        "--endpoint-url is Lambda's alone)",
    )

    deploy = commands.add_parser(
        "deploy",
        parents=[client, iam],
        help="create a function (or update one it created)",
        description="Creates the function with the defaults shown. If lambda-executor created it already, updates "
        "it as `update` does: an option left out then keeps the function's current value.",
    )
    _add_code_options(deploy, creating=True)
    deploy.set_defaults(run=run_deploy)
    update = commands.add_parser(
        "update",
        parents=[client],
        help="update what changed in a function it created",
        description="Sends new code only if the zip differs, and only the settings given that differ from the "
        "function's: an option left out keeps the function's current value.",
    )
    _add_code_options(update, creating=False)
    update.set_defaults(run=run_update)
    listing = commands.add_parser(
        "list",
        parents=[client],
        help="list the functions it created",
        description=f"Lists the functions lambda-executor created (tagged {MANAGED_TAG[0]}={MANAGED_TAG[1]}) in the "
        "region: their runtime, memory, timeout and last change.",
    )
    listing.set_defaults(run=run_list)
    delete = commands.add_parser(
        "delete",
        parents=[client, iam],
        help="delete a function it created",
        description=f"Deletes a function lambda-executor created (tagged {MANAGED_TAG[0]}={MANAGED_TAG[1]}); it "
        "refuses any other. With --role, also its execution role, if lambda-executor created it and no function "
        "uses it any more.",
    )
    delete.add_argument("name", metavar="NAME", help="the function's name")
    delete.add_argument(
        "--role",
        action="store_true",
        help="then delete its execution role too, if lambda-executor created it (--create-role) and no function "
        "in the region still uses it",
    )
    delete.set_defaults(run=run_delete)


def _add_code_options(parser: argparse.ArgumentParser, *, creating: bool) -> None:
    """The options of deploy (`creating`: the help gives the defaults) and of update (the help says
    that an option left out keeps the function's current value)."""

    def default(value: object) -> str:
        return f"default {value}" if creating else "left out: unchanged"

    parser.add_argument("name", metavar="NAME", help="the function's name")
    parser.add_argument(
        "paths",
        metavar="PATH",
        nargs="+",
        type=Path,
        help="files and folders to deploy, each at the code root under its own name",
    )
    parser.add_argument(
        "--requirements", type=Path, metavar="FILE", help="a requirements.txt installed for Lambda's platform"
    )
    parser.add_argument("--memory", type=int, metavar="MB", help=f"128 to 10240 ({default(DEFAULT_MEMORY)})")
    parser.add_argument("--timeout", type=int, metavar="S", help=f"1 to 900 seconds ({default(DEFAULT_TIMEOUT)})")
    parser.add_argument(
        "--layer",
        action="append",
        metavar="ARN",
        help=f"a layer ARN (repeatable, at most 5; {default('none')}; given, replaces them all)",
    )
    if creating:
        role = parser.add_mutually_exclusive_group()
        role.add_argument("--role", metavar="ARN", help="the execution role (required to create, or --create-role)")
        role.add_argument(
            "--create-role",
            nargs="?",
            const=DEFAULT_ROLE,
            metavar="NAME",
            help=f"create an execution role NAME (default {DEFAULT_ROLE}) that Lambda can assume, allowed to write "
            f"logs only (AWSLambdaBasicExecutionRole) and tagged {MANAGED_TAG[0]}={MANAGED_TAG[1]}, or reuse the one "
            "lambda-executor created; needs iam:GetRole, iam:CreateRole and iam:AttachRolePolicy",
        )
        parser.add_argument(
            "--spill",
            metavar="s3://bucket/prefix",
            help="the spill location the function uses (LambdaExecutor's spill=): with --create-role, the role may "
            "read and write it and nothing else of S3 (an inline policy; needs iam:PutRolePolicy); the default "
            "of --code-bucket",
        )
        parser.add_argument(
            "--spill-expiry",
            type=int,
            metavar="DAYS",
            help="expire the objects at --spill's location DAYS days after they are written, by a lifecycle rule "
            "of the bucket (its other rules are kept), so that what a killed run left goes away (default: no rule)",
        )
    else:
        parser.add_argument("--role", metavar="ARN", help=f"the execution role ({default(None)})")
    parser.add_argument(
        "--reserved-concurrency", type=int, metavar="N", help=f"0 or more ({default('none: the unreserved pool')})"
    )
    parser.add_argument(
        "--environment",
        action="append",
        metavar="K=V",
        help=f"an environment variable (repeatable; {default('none')}; given, replaces them all)",
    )
    parser.add_argument("--handler", help=f"the handler ({default(AGENT_HANDLER + ', the agent')})")
    fixed = "the function's own: it cannot change by update"
    parser.add_argument(
        "--runtime",
        help="the Python runtime ("
        + (f"default {DEFAULT_RUNTIME}, or the one a LocalLambda endpoint runs" if creating else fixed)
        + ")",
    )
    parser.add_argument(
        "--architecture",
        choices=["x86_64", "arm64"],
        help=f"({f'default {DEFAULT_ARCHITECTURE}' if creating else fixed})",
    )
    packages.add_options(parser, creating=creating)
    parser.add_argument("--publish", action="store_true", help="publish a version of what was deployed")
    parser.add_argument("--alias", metavar="NAME", help="point this alias at the published version (implies --publish)")


def run_deploy(args: argparse.Namespace) -> int:
    if args.spill is not None and not (args.create_role or args.spill_expiry is not None):
        raise ValueError(
            "--spill goes with --create-role (the role may use the location) or --spill-expiry (its objects "
            "expire); to send a large zip through S3 alone, give --code-bucket"
        )
    if args.spill_expiry is not None and args.spill is None:
        raise ValueError("--spill-expiry goes with --spill: it expires the objects at that spill location")
    if args.spill_expiry is not None and args.spill_expiry < 1:
        raise ValueError(f"--spill-expiry must be 1 day or more, not {args.spill_expiry}")
    desired = _desired(args)
    control = _control(args)
    current = control.get_function(args.name)
    if current is not None:
        _refuse_unmanaged(current, "update")
    runtime, architecture = _platform(args, current)
    # Everything is built and checked before the first call that changes anything.
    bundle = packages.build(control, args, runtime, architecture)
    if args.create_role:
        desired["role"] = _execution_role(control, args.create_role, args.spill)
    if args.spill_expiry is not None:
        rule = SpillStore(args.spill, client=client_settings(args)).expire_after(args.spill_expiry)
        print(f"objects at {args.spill} expire after {counted(args.spill_expiry, 'day')} (lifecycle rule {rule})")
    if current is not None:
        return _update(control, args.name, current, desired, bundle, runtime, architecture)
    if not desired["role"]:
        raise ValueError(
            "--role is required to create a function (its execution role's ARN), or --create-role to create "
            f"(or reuse) the role {DEFAULT_ROLE}"
        )
    layers = desired["layers"] or []
    if bundle.layer is not None:
        layers = [packages.publish_layer(control, args, bundle.layer, runtime, architecture), *layers]

    def create(package: Union[bytes, tuple[str, str]]) -> dict:
        return control.create_function(
            args.name,
            package,
            role=desired["role"],
            handler=desired["handler"] or AGENT_HANDLER,
            runtime=runtime,
            memory=desired["memory"] or DEFAULT_MEMORY,
            timeout=desired["timeout"] or DEFAULT_TIMEOUT,
            layers=layers,
            environment=desired["environment"] or {},
            tags=dict([MANAGED_TAG]),
            architecture=architecture,
        )

    with packages.sent(args, bundle.code) as package:
        created = _until_role_assumable(lambda: create(package)) if args.create_role else create(package)
        control.wait_until_ready(args.name)
    if args.reserved_concurrency is not None:
        control.set_reserved_concurrency(args.name, args.reserved_concurrency)
    print(
        f"created {created['name']} ({created['arn']}): {counted(created['code_size'], 'byte')}, "
        f"{created['memory']} MB, {created['timeout']} s"
    )
    _publish(control, args, bundle.code)
    return 0


def run_update(args: argparse.Namespace) -> int:
    desired = _desired(args)
    control = _control(args)
    current = control.get_function(args.name)
    if current is None:
        raise DeployError(f"no function named {args.name}: create it with lambda-executor deploy")
    _refuse_unmanaged(current, "update")
    runtime, architecture = _platform(args, current)
    bundle = packages.build(control, args, runtime, architecture)
    return _update(control, args.name, current, desired, bundle, runtime, architecture)


def _platform(args: argparse.Namespace, current: Optional[dict]) -> tuple[str, str]:
    """The runtime and architecture to build for: the function's own if it exists (the
    requirements are built for them; changing them is not an update), else those asked for."""
    if current is None:
        runtime = args.runtime or _local_lambda_runtime(args.endpoint_url) or DEFAULT_RUNTIME
        return runtime, args.architecture or DEFAULT_ARCHITECTURE
    runtime, architecture = current["runtime"], (current["architectures"] or [DEFAULT_ARCHITECTURE])[0]
    for option, given, actual in (
        ("--runtime", args.runtime, runtime),
        ("--architecture", args.architecture, architecture),
    ):
        if given is not None and given != actual:
            raise DeployError(
                f"{current['name']} runs {actual}, not {given}: {option} cannot change by update "
                f"(delete the function and deploy it again)"
            )
    return runtime, architecture


def _update(
    control: ControlPlane,
    name: str,
    current: dict,
    desired: dict,
    bundle: packages.Bundle,
    runtime: str,
    architecture: str,
) -> int:
    args = desired["args"]
    if bundle.layer is not None:
        # The requirements layer first, then the layers given, or the function's other layers.
        others = desired["layers"] if desired["layers"] is not None else current["layers"]
        arn = packages.publish_layer(control, args, bundle.layer, runtime, architecture)
        desired["layers"] = [arn, *(layer for layer in others if not packages.is_requirements_layer(layer, name))]
        if len(desired["layers"]) > MAX_LAYERS:
            raise ValueError(f"at most {MAX_LAYERS} layers, the requirements layer among them")
    changes = []
    if code_sha256(bundle.code) != current["code_sha256"]:
        with packages.sent(args, bundle.code) as package:
            control.update_code(name, package)
            control.wait_until_ready(name)
        changes.append("code")
    wanted = {
        key: desired[key] if desired[key] is not None else current[key]
        for key in ("role", "handler", "memory", "timeout", "layers", "environment")
    }
    changed = [key for key, value in wanted.items() if value != current[key]]
    if changed:
        control.update_configuration(name, **wanted)
        control.wait_until_ready(name)
        changes += [f"{key} {current[key]!r} -> {wanted[key]!r}" for key in changed]
    reserved = desired["reserved_concurrency"]
    if reserved is not None and reserved != current["reserved_concurrency"]:
        control.set_reserved_concurrency(name, reserved)
        changes.append(f"reserved concurrency {current['reserved_concurrency']} -> {reserved}")
    print(f"updated {name}: {', '.join(changes)}" if changes else f"{name} is up to date: nothing changed")
    _publish(control, args, bundle.code)
    return 0


def _publish(control: ControlPlane, args: argparse.Namespace, package: bytes) -> None:
    """With --publish or --alias: publishes what was just deployed (Lambda returns the last
    version if nothing changed) and points the alias at it."""
    if not (args.publish or args.alias):
        return
    # The hash makes Lambda refuse to publish code someone else deployed meanwhile.
    version, _ = control.publish_version(args.name, code_sha256=code_sha256(package))
    print(f"published {args.name} version {version}")
    if args.alias:
        before = control.set_alias(args.name, args.alias, version)
        if before is None:
            print(f"created alias {args.alias} -> version {version}")
        else:
            print(f"alias {args.alias} -> version {version} (was {before})")


def run_list(args: argparse.Namespace) -> int:
    control = _control(args)
    managed = [
        function
        for function in control.list_functions()
        if control.list_tags(function["arn"]).get(MANAGED_TAG[0]) == MANAGED_TAG[1]
    ]
    if not managed:
        print("no functions created by lambda-executor")
        return 0
    rows = [("NAME", "RUNTIME", "MEMORY", "TIMEOUT", "LAST MODIFIED")]
    rows += [
        (f["name"], f["runtime"] or "-", f"{f['memory']} MB", f"{f['timeout']} s", f["last_modified"] or "-")
        for f in sorted(managed, key=lambda f: f["name"])
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0


def run_delete(args: argparse.Namespace) -> int:
    control = _control(args)
    current = control.get_function(args.name)
    if current is None:
        raise DeployError(f"no function named {args.name}")
    _refuse_unmanaged(current, "delete")
    control.delete_function(args.name)
    print(f"deleted {args.name}")
    if args.role and current["role"]:
        _delete_role(control, current["role"])
    return 0


def _execution_role(control: ControlPlane, name: str, spill: Optional[str]) -> str:
    """The ARN of the execution role `name`: created, or reused if lambda-executor created it;
    allowed to use the spill location `spill`, if given."""
    without_rights = "pass an existing execution role with --role ARN instead of --create-role"
    role = _iam(without_rights, control.get_role, name)
    if role is None:
        role = _iam(
            without_rights,
            lambda: control.create_execution_role(name, description=ROLE_DESCRIPTION, tags=dict([MANAGED_TAG])),
        )
        print(f"created role {name} ({role['arn']}): Lambda may assume it, to write logs only")
    elif role["tags"].get(MANAGED_TAG[0]) != MANAGED_TAG[1]:
        raise DeployError(
            f"role {name} exists but was not created by lambda-executor (no {MANAGED_TAG[0]}={MANAGED_TAG[1]} tag), "
            f"so --create-role will not use it: pass it with --role {role['arn']} to use it as it is, or name "
            "another with --create-role NAME"
        )
    else:
        print(f"using role {name} ({role['arn']}), created by lambda-executor")
    if spill is not None:
        _iam(without_rights, control.allow_spill, name, role["arn"], spill)
        print(f"role {name} may read and write {spill}")
    return role["arn"]


def _until_role_assumable(create: Callable[[], dict]) -> dict:
    """Calls CreateFunction again while Lambda refuses a new role it cannot assume yet (IAM takes a
    few seconds to make a new role known everywhere), for ROLE_WAIT seconds at most."""
    deadline = time.monotonic() + ROLE_WAIT
    pause = 1.0
    while True:
        try:
            return create()
        except DeployError as error:
            if error.error_code != "InvalidParameterValueException" or ROLE_NOT_ASSUMABLE not in str(error):
                raise
            if time.monotonic() + pause > deadline:
                raise DeployError(f"{error} (still, after {ROLE_WAIT} s of retries)", error.error_code) from None
            print(f"Lambda cannot assume the new role yet (IAM is still propagating it): retrying in {pause:.0f} s")
        time.sleep(pause)
        pause = min(2 * pause, 4.0)


def _delete_role(control: ControlPlane, arn: str) -> None:
    """Deletes the execution role `arn` if lambda-executor created it and no function uses it."""
    name = arn.rpartition("/")[2]
    without_rights = (
        f"the function was deleted, its role was not: delete the role {name} yourself (or leave out --role)"
    )
    role = _iam(without_rights, control.get_role, name)
    if role is None:
        print(f"role {name} no longer exists")
        return
    if role["tags"].get(MANAGED_TAG[0]) != MANAGED_TAG[1]:
        print(f"kept role {name}: it was not created by lambda-executor (no {MANAGED_TAG[0]}={MANAGED_TAG[1]} tag)")
        return
    users = sorted(function["name"] for function in control.list_functions() if function["role"] == role["arn"])
    if users:
        print(f"kept role {name}: still used by {', '.join(users)}")
        return
    _iam(without_rights, control.delete_role, name)
    print(f"deleted role {name}")


def _iam(without_rights: str, call: Callable[..., T], *args: Any) -> T:
    """An IAM call; refused for want of a permission (the message names it), says what to do."""
    try:
        return call(*args)
    except DeployError as error:
        if error.error_code not in ("AccessDenied", "AccessDeniedException"):
            raise
        raise DeployError(f"{error}; {without_rights}", error.error_code) from None


def _control(args: argparse.Namespace) -> ControlPlane:
    client = client_settings(args)
    if client["verify"] is False:
        warn_insecure(stacklevel=2)
    return ControlPlane(client=client, iam_endpoint_url=getattr(args, "iam_endpoint_url", None))


def _desired(args: argparse.Namespace) -> dict:
    """The options given, checked before anything is sent (None: not given)."""
    for path in args.paths:
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist")
    if args.requirements is not None and not args.requirements.is_file():
        raise FileNotFoundError(f"requirements file {args.requirements} does not exist")
    if args.memory is not None and not 128 <= args.memory <= 10240:
        raise ValueError(f"--memory must be 128 to 10240 MB, not {args.memory}")
    if args.timeout is not None and not 1 <= args.timeout <= 900:
        raise ValueError(f"--timeout must be 1 to 900 seconds, not {args.timeout}")
    if args.layer and len(args.layer) > MAX_LAYERS:
        raise ValueError(f"at most {MAX_LAYERS} layers, not {len(args.layer)}")
    if args.reserved_concurrency is not None and args.reserved_concurrency < 0:
        raise ValueError("--reserved-concurrency must be 0 or more")
    create_role = getattr(args, "create_role", None)
    if create_role is not None and not ROLE_NAME.fullmatch(create_role):
        raise ValueError(f"--create-role takes 1 to 64 letters, digits or +=,.@_- characters, not {create_role!r}")
    if args.alias is not None and not ALIAS_NAME.fullmatch(args.alias):
        raise ValueError(
            f"--alias takes 1 to 128 letters, digits, hyphens or underscores, not all digits: {args.alias!r}"
        )
    environment = None
    if args.environment:
        environment = {}
        for item in args.environment:
            key, equals, value = item.partition("=")
            if not equals or not key:
                raise ValueError(f"--environment takes K=V, not {item!r}")
            environment[key] = value
    return {
        "args": args,
        "role": args.role,
        "handler": args.handler,
        "memory": args.memory,
        "timeout": args.timeout,
        "layers": args.layer,
        "environment": environment,
        "reserved_concurrency": args.reserved_concurrency,
    }


def _local_lambda_runtime(endpoint_url: Optional[str]) -> Optional[str]:
    """The runtime a LocalLambda on this machine runs with its own interpreter, so that what is
    installed for the function imports there; None for any other endpoint."""
    url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_LAMBDA") or os.environ.get("AWS_ENDPOINT_URL")
    if not url or urllib.parse.urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/local-lambda/runtime", timeout=2) as answer:
            runtime = json.load(answer).get("Runtime")
    except (OSError, ValueError, AttributeError):
        return None  # not a LocalLambda (or one over https with a CA of its own)
    return runtime if isinstance(runtime, str) else None


def _refuse_unmanaged(current: dict, action: str) -> None:
    if current["tags"].get(MANAGED_TAG[0]) != MANAGED_TAG[1]:
        raise DeployError(
            f"refusing to {action} {current['name']}: it was not created by lambda-executor "
            f"(no {MANAGED_TAG[0]}={MANAGED_TAG[1]} tag)"
        )
