"""The options that say which Lambda to reach and how, shared by the commands that call it
(deploy, update, list, delete, invoke)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._core import _ClientSettings


def client_options() -> argparse.ArgumentParser:
    """A parent parser of the client options."""
    client = argparse.ArgumentParser(add_help=False)
    client.add_argument("--region", help="AWS region (default: your AWS configuration)")
    client.add_argument("--profile", help="AWS profile (default: your AWS configuration)")
    client.add_argument(
        "--endpoint-url",
        help="another Lambda endpoint, LocalLambda's or a test server's (default: AWS_ENDPOINT_URL_LAMBDA, "
        "AWS_ENDPOINT_URL or your AWS configuration, else AWS's own)",
    )
    client.add_argument(
        "--ca-bundle", metavar="PEM", help="trust these certificates instead of the system's (default: AWS_CA_BUNDLE)"
    )
    client.add_argument(
        "--no-verify-ssl", action="store_true", help="accept any certificate (a test endpoint only; warns)"
    )
    return client


def client_settings(args: argparse.Namespace) -> _ClientSettings:
    """The client settings of the command line, as LambdaExecutor takes them."""
    verify = False if args.no_verify_ssl else args.ca_bundle
    return {"region": args.region, "profile": args.profile, "endpoint_url": args.endpoint_url, "verify": verify}
