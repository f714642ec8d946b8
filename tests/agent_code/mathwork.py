"""User code deployed with the agent in the tests (the agent imports it by path)."""

import hashlib
import subprocess
import time

imported_run = subprocess.run  # defined elsewhere, only imported here: the agent must refuse it


class WorkError(Exception):
    pass


def add(a, b=0):
    return a + b


def quotient(a, b):
    """divmod, deployed (the agent calls only the deployed code's functions)."""
    return divmod(a, b)


def reciprocal(x):
    return 1 / x


def lookup(mapping, key):
    return mapping[key]


def describe(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


def fail(message):
    raise WorkError(message)


def unique(values):
    """A set, which JSON cannot carry: the call fails."""
    return set(values)


def repeat(text, times):
    return text * times


def length(text):
    return len(text)


def identity(value):
    return value


def slow(seconds):
    time.sleep(seconds)
    return seconds


class Geometry:
    @staticmethod
    def area(width, height):
        return width * height

    @classmethod
    def name(cls):
        return cls.__name__


def importable(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None


def checksum(data):
    """What the function was given (its type's name) and the SHA-256 of it, as bytes."""
    return {"type": type(data).__name__, "sha256": hashlib.sha256(data).digest()}


def scaled(array, factor):
    """A NumPy array computed in Lambda, with what it was given."""
    return {"given": [str(array.dtype), list(array.shape)], "result": array * factor}


def object_array():
    import numpy

    return numpy.array([{"a": 1}, None], dtype=object)
