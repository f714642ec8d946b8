"""The exceptions lambda-executor raises. All derive from LambdaError."""

from __future__ import annotations

import builtins
import warnings
from collections.abc import Sequence
from typing import Any, Optional


class LambdaError(Exception):
    """Base class of every error lambda-executor raises about an invocation or its setup."""


class ConfigurationError(LambdaError):
    """No region, no credentials, or a bad endpoint: raised when the executor is created."""


class FunctionError(LambdaError):
    """The handler failed: it raised, timed out (error_type ``Sandbox.Timedout``) or crashed.

    The message shows the remote traceback, so a notebook shows where the handler failed. When
    ``error_type`` names one of Python's built-in exceptions, the error is also an instance of it
    (``except ZeroDivisionError`` catches it, as with
    :class:`~concurrent.futures.ThreadPoolExecutor`): its class is ``RemoteZeroDivisionError``, a
    subclass of both.

    Args:
        error_type: Lambda's errorType: the exception's class name, or Lambda's own
            (``Sandbox.Timedout``, ``Runtime.ExitError``, ...).
        error_message: Lambda's errorMessage.
        stack_trace: The remote traceback's lines (Lambda's stackTrace).
        request_id: Lambda's request id of the invocation.
        function: The function invoked.

    Attributes:
        error_type (str): As given.
        error_message (str): As given.
        stack_trace (list[str]): As given.
        request_id (Optional[str]): As given.
        function (Optional[str]): As given.
    """

    def __new__(cls, error_type: str, error_message: str = "", *_: Any, **__: Any) -> FunctionError:
        if cls is FunctionError:
            cls = _remote_builtin(error_type) or FunctionError
        return super().__new__(cls, error_type, error_message)

    def __init__(
        self,
        error_type: str,
        error_message: str,
        stack_trace: Sequence[str] = (),
        request_id: Optional[str] = None,
        function: Optional[str] = None,
    ) -> None:
        # Exception's own: a built-in twin's (UnicodeDecodeError's, SyntaxError's) takes other arguments.
        """Makes the error; its arguments are described in the class's docstring."""
        Exception.__init__(self, error_type, error_message)
        self.error_type = error_type
        self.error_message = error_message
        self.stack_trace = list(stack_trace)
        self.request_id = request_id
        self.function = function

    def __str__(self) -> str:
        where = f" in {self.function}" if self.function else ""
        text = f"{self.error_type}{where}: {self.error_message}"
        if self.request_id:
            text += f" (request {self.request_id})"
        if self.stack_trace:
            text += "\n\nRemote traceback (most recent call last):\n" + "".join(self.stack_trace).rstrip("\n")
        return text


# The FunctionError subclass of each built-in exception met so far (None: it has none).
_REMOTE_BUILTINS: dict[str, Optional[type[FunctionError]]] = {}


def _remote_builtin(error_type: str) -> Optional[type[FunctionError]]:
    """The FunctionError subclass that is also the built-in exception `error_type`, made on first
    use and kept; None unless it names a built-in subclass of Exception (BaseException's own are
    left out: a remote SystemExit must not exit the caller). The type is looked up by name only:
    nothing from the error document is imported or evaluated."""
    if error_type in _REMOTE_BUILTINS:
        return _REMOTE_BUILTINS[error_type]
    value = vars(builtins).get(error_type)
    twin: Optional[type[FunctionError]] = None
    if isinstance(value, type) and issubclass(value, Exception) and not error_type.startswith("_"):
        doc = f"A handler raised {error_type}: a :class:`FunctionError` that is also a :class:`{error_type}`."
        twin = type(f"Remote{error_type}", (FunctionError, value), {"__module__": __name__, "__doc__": doc})
        try:
            twin(error_type, "")
        except (TypeError, ValueError):  # ExceptionGroup: it is made of the exceptions it groups
            twin = None
    # setdefault: two threads meeting the same type first both get the one class kept.
    return _REMOTE_BUILTINS.setdefault(error_type, twin)


def __getattr__(name: str) -> type[FunctionError]:
    """`RemoteKeyError` and its kind, made when first asked for (so that pickle finds them)."""
    twin = _remote_builtin(name[len("Remote") :]) if name.startswith("Remote") else None
    if twin is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return twin


class ThrottledError(LambdaError):
    """Lambda kept refusing the invocation (429) until the retry policy's ``throttle_timeout`` passed.

    Args:
        message: What happened.
        reason: Lambda's word for the limit that throttled it
            (``ReservedFunctionConcurrentInvocationLimitExceeded``, ...).
        attempts: The attempts made.

    Attributes:
        reason (str): As given.
        attempts (int): As given.
    """

    def __init__(self, message: str, reason: str = "", attempts: int = 0) -> None:
        """Makes the error; its arguments are described in the class's docstring."""
        super().__init__(message)
        self.reason = reason
        self.attempts = attempts


class PayloadTooLargeError(LambdaError, ValueError):
    """The payload is over Lambda's limit (6 MB synchronous, 1 MB Event); nothing was sent."""


class FunctionNotFoundError(LambdaError, LookupError):
    """Lambda has no such function (or qualifier) in this account and region."""


class InvocationError(LambdaError):
    """Lambda refused the call (bad request, access denied, ...) or stayed unavailable.

    Args:
        message: What happened.
        error_code: Lambda's error code (``AccessDeniedException``, ...).
        status_code: The HTTP status of Lambda's answer (0 without one).
        request_id: Lambda's request id, if it answered.

    Attributes:
        error_code (str): As given.
        status_code (int): As given.
        request_id (Optional[str]): As given.
    """

    def __init__(
        self, message: str, error_code: str = "", status_code: int = 0, request_id: Optional[str] = None
    ) -> None:
        """Makes the error; its arguments are described in the class's docstring."""
        super().__init__(message)
        self.error_code = error_code
        self.status_code = status_code
        self.request_id = request_id


class ConnectionLostError(InvocationError):
    """The connection failed after the request was sent, so the function may have run.

    It is not retried unless ``RetryPolicy(retry_after_sent=True)`` says so.

    Args:
        message: What happened.
        error_code: The error's code.
        status_code: The HTTP status of an answer, if one came (0 without one).
        request_id: Lambda's request id, if known.
    """


class DeployError(LambdaError):
    """A control-plane call (create, update, list, delete a function) was refused or failed.

    Args:
        message: What happened.
        error_code: The service's error code (``ResourceConflictException``, ...).

    Attributes:
        error_code (str): As given.
    """

    def __init__(self, message: str, error_code: str = "") -> None:
        """Makes the error; its arguments are described in the class's docstring."""
        super().__init__(message)
        self.error_code = error_code


class BudgetExceeded(LambdaError):
    """The executor's spend cap (``max_cost``) was reached, so this call was not sent.

    Args:
        message: What happened.
        spent: What the calls that ran cost, in US dollars.
        max_cost: The cap, in US dollars.
        waiting: How many calls were waiting to be sent when the cap was reached (they were not
            sent, nor any submitted since).

    Attributes:
        spent (float): As given.
        max_cost (float): As given.
        waiting (int): As given.
    """

    def __init__(self, message: str, spent: float = 0.0, max_cost: float = 0.0, waiting: int = 0) -> None:
        """Makes the error; its arguments are described in the class's docstring."""
        super().__init__(message)
        self.spent = spent
        self.max_cost = max_cost
        self.waiting = waiting


class SpillError(LambdaError):
    """A payload spilled through S3 (``spill=``) could not be stored or read back.

    Args:
        message: What happened.
        url: The object (``s3://bucket/key``).
        permission: The S3 permission the step needs (``s3:GetObject``, ...), if S3 refused it.

    Attributes:
        url (str): As given.
        permission (str): As given.
    """

    def __init__(self, message: str, url: str = "", permission: str = "") -> None:
        """Makes the error; its arguments are described in the class's docstring."""
        super().__init__(message)
        self.url = url
        self.permission = permission


class JournalError(LambdaError):
    """A resume journal cannot be used: not a journal, written by a newer release, corrupt, or held.

    Raised when it is opened, before anything is sent, also when it is held by another run or not
    writable; and by a call whose journal could not record it as sent (a full disk, a file
    deleted while in use), which was therefore not sent."""


class LogsError(LambdaError):
    """A function's logs could not be read from CloudWatch Logs.

    There is no log group, a call's lines were not (all) there within the time given, or
    CloudWatch Logs refused the call."""


class InsecureRequestWarning(UserWarning):
    """Warns that an executor made with ``verify=False`` accepts any certificate.

    Its https calls can then be read and changed by anyone on the path. Named after urllib3's,
    which boto3 users meet for the same setting (filter it with
    ``warnings.simplefilter("ignore", InsecureRequestWarning)``)."""


def warn_insecure(stacklevel: int) -> None:
    """Warns that a client made with verify=False checks no certificate."""
    warnings.warn(
        "verify=False: this client's https calls accept any certificate, so whoever is on the path can read and "
        "change them; pass the CA bundle that signed the endpoint's certificate instead (verify='ca.pem', or "
        "AWS_CA_BUNDLE)",
        InsecureRequestWarning,
        stacklevel=stacklevel + 1,
    )


__all__ = [
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
    "InsecureRequestWarning",
]
