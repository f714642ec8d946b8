"""Property tests (hypothesis) of the Rust payload conversion, on the real path: Python value ->
JSON in Rust -> HTTP -> LocalLambda's synthetic echo -> JSON -> Python value in Rust."""

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lambda_executor import LambdaExecutor
from lambda_executor._core import to_json

# JSON as Python has it; strings are Unicode scalar values (no lone surrogates, which UTF-8 cannot carry).
text = st.text(st.characters(exclude_categories=("Cs",)))
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.tuples(inner, inner) | st.dictionaries(text, inner, max_size=5),
    max_leaves=25,
)


def as_json(value):
    """What JSON gives back: tuples become lists."""
    if isinstance(value, (list, tuple)):
        return [as_json(item) for item in value]
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    return value


def same(a, b):
    """Equal, and floats equal to the bit (and of the same type: 1.0 stays a float)."""
    if isinstance(a, float) or isinstance(b, float):
        return (
            type(a) is type(b)
            and (a == b or (math.isnan(a) and math.isnan(b)))
            and math.copysign(1, a) == math.copysign(1, b)
        )
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@pytest.fixture
def echo(local):
    local.add_synthetic("echo")
    with LambdaExecutor(max_workers=4, endpoint_url=local.endpoint_url) as executor:
        yield executor


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(json_values)
def test_any_json_value_round_trips_exactly(echo, value):
    assert same(echo.submit("echo", value).result(timeout=30), as_json(value))


not_json = (
    st.sets(st.integers(), min_size=1)
    | st.binary()
    | st.just(float("nan"))
    | st.just(float("inf"))
    | st.just(-float("inf"))
    | st.integers(min_value=2**64)
    | st.integers(max_value=-(2**63) - 1)
    | st.builds(object)
    | st.dictionaries(st.integers(), st.none(), min_size=1)
    | st.complex_numbers(allow_nan=False)
)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_anything_else_is_a_type_error_wherever_it_hides(data):
    bad = data.draw(not_json)
    container = data.draw(st.sampled_from(["bare", "list", "dict", "deep"]))
    value = {"bare": bad, "list": [1, bad], "dict": {"k": bad}, "deep": {"a": [{"b": (bad,)}]}}[container]
    with pytest.raises(TypeError):
        to_json(value)


@settings(max_examples=100, deadline=None)
@given(text, st.integers(4096, 20_000))
def test_long_strings_convert_as_short_ones_do(piece, length):
    # Long strings that need no escaping take a faster way into JSON than the others.
    long = (piece or "x") * (length // max(len(piece), 1) + 1)
    assert json.loads(to_json({"blob": long, "list": [long]})) == {"blob": long, "list": [long]}


@pytest.mark.parametrize(
    "long", ["x" * 5000, "é€😀" * 2000, 'quote " and newline \n and tab \t ' * 200, "\x00\x1f" * 3000]
)
def test_a_long_string_is_the_json_python_writes(long):
    assert to_json(long) == json.dumps(long, ensure_ascii=False).encode()
