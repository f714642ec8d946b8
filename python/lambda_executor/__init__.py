"""Fan work out to deployed AWS Lambda functions as easily as with ThreadPoolExecutor.

The work is done by a Rust core (``lambda_executor._core``); this package is its typed facade.
"""

from ._core import LocalLambda, __version__

__all__ = ["LocalLambda", "__version__"]
