"""What `deploy` and `update` send as a function's code: the zip in the request while it fits (50
MB), through S3 beyond that (--code-bucket), the requirements in a layer of their own if asked
(--requirements-layer, published once and reused while they are unchanged), and Lambda's limit of
250 MB unzipped checked before anything is sent."""

from __future__ import annotations

import argparse
import contextlib
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from .._core import ControlPlane, SpillStore
from ..bundle import check_unzipped, fits_in_request, requirements_digest, stage, stage_layer, unzipped_size, zip_bytes
from .client import client_settings
from .words import counted

# The description of a requirements layer says what it holds, so that a later deploy finds it again.
LAYER_DESCRIPTION = "lambda-executor requirements {digest}, {size} bytes unzipped"
LAYER_FACTS = re.compile(r"lambda-executor requirements ([0-9a-f]{64}), ([0-9]+) bytes unzipped")
CODE_PURPOSE = "code"


@dataclass
class RequirementsLayer:
    """The layer of a function's requirements: found (`arn`) or to publish (`zip`)."""

    name: str
    description: str
    unzipped: int
    arn: Optional[str] = None
    zip: Optional[bytes] = None


@dataclass
class Bundle:
    """A function's code zip and, with --requirements-layer, the layer of its requirements."""

    code: bytes
    layer: Optional[RequirementsLayer]


def add_options(parser: argparse.ArgumentParser, *, creating: bool) -> None:
    parser.add_argument(
        "--slim",
        action="store_true",
        help="leave out of the requirements what a function never loads: test folders, caches, type stubs, C "
        "sources, and the debug symbols of shared libraries",
    )
    parser.add_argument(
        "--requirements-layer",
        action="store_true",
        help="install --requirements into a layer NAME-requirements, published once and reused while the "
        "requirements, runtime and architecture are unchanged, so that a change of code sends only the code",
    )
    parser.add_argument(
        "--code-bucket",
        metavar="s3://bucket/prefix",
        help="send a zip larger than Lambda takes in a request (50 MB) through this S3 location, deleted once "
        "Lambda has it (" + ("default: --spill's location" if creating else "default: none") + ")",
    )


def layer_name(function: str) -> str:
    return f"{function}-requirements"


def is_requirements_layer(arn: str, function: str) -> bool:
    return f":layer:{layer_name(function)}:" in arn


def build(control: ControlPlane, args: argparse.Namespace, runtime: str, architecture: str) -> Bundle:
    """The zips to send, checked against Lambda's limits: ValueError, before anything is sent, if
    code and layers are too large unzipped, or a zip too large for a request has no --code-bucket."""
    if args.requirements_layer and args.requirements is None:
        raise ValueError("--requirements-layer needs --requirements FILE: it is the layer of those requirements")
    with tempfile.TemporaryDirectory(prefix="lambda-executor-bundle-") as folder:
        code_root, layer_root = Path(folder, "code"), Path(folder, "layer")
        requirements = None if args.requirements_layer else args.requirements
        stage(args.paths, code_root, requirements, runtime, architecture, args.slim)
        layer = None
        if args.requirements_layer:
            layer = _requirements_layer(control, args, runtime, architecture, layer_root)
        # A layer found is counted by the size its description gives; one staged, by its files.
        if layer is not None and layer.zip is None:
            check_unzipped([code_root], layers_size=layer.unzipped)
        else:
            check_unzipped([code_root, layer_root] if layer is not None else [code_root])
        bundle = Bundle(zip_bytes(code_root), layer)
    for what, package in (("code", bundle.code), ("requirements layer", layer.zip if layer else None)):
        if package is not None and not fits_in_request(package) and _code_bucket(args) is None:
            raise ValueError(
                f"the {what} zip is {len(package) / 1e6:,.1f} MB, more than the 50 MB Lambda takes in a request; "
                "nothing was sent: give --code-bucket s3://bucket/prefix to send it through S3"
            )
    return bundle


def _requirements_layer(
    control: ControlPlane, args: argparse.Namespace, runtime: str, architecture: str, root: Path
) -> RequirementsLayer:
    """The function's requirements layer: a published version that holds these requirements, or
    one staged under `root` and zipped, to publish."""
    name = layer_name(args.name)
    digest = requirements_digest(args.requirements, runtime, architecture, args.slim)
    for version in control.layer_versions(name):
        facts = LAYER_FACTS.fullmatch(version["description"])
        if facts is not None and facts[1] == digest:
            return RequirementsLayer(name, version["description"], int(facts[2]), arn=version["arn"])
    stage_layer(args.requirements, root, runtime, architecture, args.slim)
    size = unzipped_size(root)
    return RequirementsLayer(name, LAYER_DESCRIPTION.format(digest=digest, size=size), size, zip=zip_bytes(root))


def publish_layer(
    control: ControlPlane, args: argparse.Namespace, layer: RequirementsLayer, runtime: str, architecture: str
) -> str:
    """The ARN of the requirements layer, published now if it was not found."""
    if layer.arn is not None:
        print(f"using layer {layer.arn}: the same requirements")
        return layer.arn
    assert layer.zip is not None
    with sent(args, layer.zip) as package:
        published = control.publish_layer(
            layer.name, package, description=layer.description, runtime=runtime, architecture=architecture
        )
    print(f"published layer {published['arn']}: {counted(len(layer.zip), 'byte')}")
    return str(published["arn"])


@contextlib.contextmanager
def sent(args: argparse.Namespace, package: bytes) -> Iterator[Union[bytes, tuple[str, str]]]:
    """The zip as the control plane takes it: itself if it fits in a request, else the (bucket,
    key) of an S3 object holding it, deleted when the block ends (Lambda has copied it by then)."""
    url = _code_bucket(args)
    if fits_in_request(package) or url is None:
        yield package
        return
    store = SpillStore(url, client=client_settings(args))
    stored = store.put(CODE_PURPOSE, package)
    try:
        yield (stored["bucket"], stored["key"])
    finally:
        store.delete([stored["key"]])


def _code_bucket(args: argparse.Namespace) -> Optional[str]:
    return args.code_bucket or getattr(args, "spill", None)
