"""Fan work out to deployed AWS Lambda functions as easily as with ThreadPoolExecutor.

The work is done by a Rust core (``lambda_executor._core``); this package is its typed facade.
"""

from ._core import InvocationInfo, LocalLambda, Report, RetryPolicy, __version__
from .errors import (
    ConfigurationError,
    ConnectionLostError,
    FunctionError,
    FunctionNotFoundError,
    InvocationError,
    LambdaError,
    PayloadTooLargeError,
    ThrottledError,
)
from .executor import WARM_EVENT, LambdaExecutor, LambdaFunction, LambdaFuture
from .stats import Stats

__all__ = [
    "LambdaExecutor", "LambdaFunction", "LambdaFuture", "InvocationInfo", "Report", "Stats", "WARM_EVENT",
    "RetryPolicy", "LocalLambda",
    "LambdaError", "ConfigurationError", "FunctionError", "ThrottledError", "PayloadTooLargeError",
    "FunctionNotFoundError", "InvocationError", "ConnectionLostError", "__version__",
]
