"""`lambda-executor spill ls|clean s3://bucket/prefix`: what is left at a spill location (a run
killed before it read or deleted its objects), and deleting it."""

from __future__ import annotations

import argparse

from .._core import SpillStore
from .client import client_options, client_settings
from .words import counted

DAY = 86_400


def add_command(commands: argparse._SubParsersAction) -> None:
    spill = commands.add_parser(
        "spill",
        help="list or delete what is left at a spill location",
        description=__doc__,
        parents=[client_options()],
    )
    spill.add_argument("action", choices=["ls", "clean"], help="ls: list the objects; clean: delete them")
    spill.add_argument("url", metavar="s3://bucket/prefix", help="the location (LambdaExecutor's spill=)")
    spill.add_argument(
        "--older-than",
        type=float,
        default=DAY,
        metavar="SECONDS",
        help="clean only objects older than this (default %(default)s, a day: a running run's are younger)",
    )
    spill.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    store = SpillStore(args.url, client=client_settings(args))
    objects = store.objects()
    if args.action == "ls":
        for item in objects:
            print(f"{item['key']}  {counted(item['size'], 'byte')}  {item['age']:,.0f} s old")
        print(
            f"{counted(len(objects), 'object')}, {counted(sum(item['size'] for item in objects), 'byte')} at {args.url}"
        )
        return 0
    old = [item for item in objects if item["age"] >= args.older_than]
    store.delete([item["key"] for item in old])
    print(
        f"deleted {counted(len(old), 'object')} ({counted(sum(item['size'] for item in old), 'byte')}) from {args.url}"
    )
    return 0
