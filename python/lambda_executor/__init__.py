"""Fan work out to deployed AWS Lambda functions as easily as with ThreadPoolExecutor.

The work is done by a Rust core (``lambda_executor._core``); this package is its typed facade.
"""

from ._core import InvocationInfo, LocalLambda, Report, RetryPolicy, __version__
from .agent import WARM_EVENT
from .errors import (
    BudgetExceeded,
    ConfigurationError,
    ConnectionLostError,
    DeployError,
    FunctionError,
    FunctionNotFoundError,
    InsecureRequestWarning,
    InvocationError,
    JournalError,
    LambdaError,
    LogsError,
    PayloadTooLargeError,
    SpillError,
    ThrottledError,
)
from .executor import LambdaExecutor
from .function import LambdaFunction
from .futures import LambdaFuture
from .pool import AsyncResult, LambdaPool
from .remote import RemoteFunction, remote
from .stats import Stats
from .timeline import Timeline

__all__ = [
    "LambdaExecutor",
    "LambdaFunction",
    "LambdaFuture",
    "LambdaPool",
    "AsyncResult",
    "remote",
    "RemoteFunction",
    "InvocationInfo",
    "Report",
    "Stats",
    "Timeline",
    "WARM_EVENT",
    "RetryPolicy",
    "LocalLambda",
    "LambdaError",
    "ConfigurationError",
    "FunctionError",
    "ThrottledError",
    "PayloadTooLargeError",
    "FunctionNotFoundError",
    "InvocationError",
    "ConnectionLostError",
    "DeployError",
    "JournalError",
    "BudgetExceeded",
    "SpillError",
    "LogsError",
    "InsecureRequestWarning",
    "__version__",
]
