"""Fan work out to deployed AWS Lambda functions as easily as with ThreadPoolExecutor.

The work is done by a Rust core (``lambda_executor._core``); this package is its typed facade.
"""

import logging

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

# A library's loggers get no handler of theirs (docs/guide/logs-and-timeline.md): records go wherever the
# application sends them, and nowhere (not even Python's last resort) when it sends none.
logging.getLogger("lambda_executor").addHandler(logging.NullHandler())

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
