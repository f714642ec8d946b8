"""Calling Python functions in Lambda through the agent (lambda_executor.agent.handler), against
LocalLambda running the agent under awslambdaric with tests/agent_code as the deployed code."""

import asyncio
import base64
import importlib
import os
import re
import zlib
from pathlib import Path

import pytest
from helpers import AGENT_CODE
from lambda_executor import WARM_EVENT, FunctionError, LambdaExecutor, PayloadTooLargeError, remote
from lambda_executor.bundle import AGENT_HANDLER, stage


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """mathwork.py and the agent, laid out as `lambda-executor deploy` bundles them."""
    root = tmp_path_factory.mktemp("deployed")
    stage([AGENT_CODE / "mathwork.py"], root)
    return root


@pytest.fixture
def agent(local, mathwork, deployed):
    local.add_function("agent", AGENT_HANDLER, deployed, memory_size=256)
    with LambdaExecutor(max_workers=8, endpoint_url=local.endpoint_url, agent="agent") as executor:
        yield executor


def test_calls_a_function_by_import_path_with_json_arguments(agent, mathwork):
    assert agent.submit(mathwork.add, 2, b=3).result() == 5
    assert agent.submit(mathwork.describe, 1, [2], x={"y": None}).result() == {
        "args": [1, [2]],
        "kwargs": {"x": {"y": None}},
    }
    assert agent.submit(mathwork.Geometry.area, 3, 4).result() == 12
    assert agent.submit(mathwork.Geometry.name).result() == "Geometry"
    assert list(agent.map(mathwork.add, [1, 2, 3], [10, 20, 30])) == [11, 22, 33]
    assert asyncio.run(agent.ainvoke(mathwork.add, 1, 1)) == 2


def test_an_exception_comes_back_with_its_type_name_and_traceback(agent, mathwork):
    with pytest.raises(FunctionError) as raised:
        agent.submit(mathwork.fail, "no good").result()
    assert (raised.value.error_type, raised.value.error_message) == ("WorkError", "no good")
    assert any("mathwork.py" in line for line in raised.value.stack_trace)


def test_functions_without_an_import_path_are_refused_before_sending(agent, local, mathwork):
    def local_function(x):
        return x

    main_function = type(mathwork.add)(mathwork.add.__code__, {}, "main_function")
    main_function.__module__ = "__main__"
    for function, why in ((lambda x: x, "lambda"), (local_function, "inside another"), (main_function, "__main__")):
        with pytest.raises(TypeError, match=why):
            agent.submit(function, 1)
    assert local.stats("agent")["invocations"] == 0


def test_without_an_agent_a_python_function_is_a_type_error_that_says_how(local, mathwork):
    with LambdaExecutor(endpoint_url=local.endpoint_url) as executor:
        with pytest.raises(TypeError, match="agent="):
            executor.submit(mathwork.add, 1, 2)


@pytest.mark.parametrize(
    "path",
    [
        "os:getcwd",  # the standard library is not deployed code
        "posix:system",  # nor are built-in modules
        "subprocess:run",
        "json:loads",
        "mathwork:__class__",  # no dunder walking
        "../mathwork:add",  # not a module path
        "mathwork",  # no function named
        "mathwork:no_such_function",
        "mathwork:time.sleep",  # no walking into what the code imported
        "lambda_executor.agent:os.system",  # nor into the agent's own imports
        "lambda_executor.agent:importlib.import_module",
        "lambda_executor.agent:handler",  # the agent does not call itself
        "mathwork:imported_run",  # defined elsewhere, only imported here
    ],
)
def test_the_agent_refuses_anything_but_functions_of_the_deployed_code(agent, path):
    with pytest.raises(FunctionError) as raised:
        agent.submit("agent", {"call": path, "args": []}).result()
    assert raised.value.error_type == "AgentError", raised.value


def test_the_agent_refuses_code_outside_its_root_even_if_importable_there(local, tmp_path, deployed, mathwork):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "elsewhere.py").write_text("def run():\n    return 'ran'\n")
    local.add_function("agent", AGENT_HANDLER, deployed, environment={"PYTHONPATH": str(outside)})
    with LambdaExecutor(endpoint_url=local.endpoint_url, agent="agent") as executor:
        assert executor.submit(mathwork.importable, "elsewhere").result()  # Python could import it
        with pytest.raises(FunctionError, match="not a module of the deployed code"):
            executor.submit("agent", {"call": "elsewhere:run"}).result()


def test_large_arguments_and_results_travel_compressed_and_limits_apply_after(agent, mathwork, local):
    big = "lambda " * 1_000_000  # 7 MB of JSON, a few KB compressed
    assert agent.submit(mathwork.length, big).result() == len(big)
    assert agent.submit(mathwork.repeat, "abc", 2_000_000).result() == "abc" * 2_000_000
    incompressible = base64.b64encode(os.urandom(5_000_000)).decode()  # 6.7 MB, still over 6 MB packed
    with pytest.raises(PayloadTooLargeError):
        agent.submit(mathwork.length, incompressible)
    # A result shaped like the envelope comes back as it was.
    envelope_like = {"lambda_executor.zlib": "not base64"}
    assert agent.submit(mathwork.identity, envelope_like).result() == envelope_like


def test_compression_can_be_turned_off(local, mathwork, deployed):
    local.add_function("agent", AGENT_HANDLER, deployed)
    with LambdaExecutor(endpoint_url=local.endpoint_url, agent="agent", compress_over=None) as executor:
        with pytest.raises(PayloadTooLargeError):
            executor.submit(mathwork.length, "lambda " * 1_000_000)
        assert executor.submit(mathwork.add, 1, 2).result() == 3


def test_remote_names_another_agent_for_one_call(agent, local, mathwork, deployed):
    local.add_function("other-agent", AGENT_HANDLER, deployed)
    assert agent.submit(remote(mathwork.add, agent="other-agent"), 5, 5).result() == 10
    assert local.stats("other-agent")["invocations"] == 1
    with LambdaExecutor(endpoint_url=local.endpoint_url) as plain:  # no default agent needed
        assert plain.submit(remote(mathwork.add, agent="agent"), 1, 2).result() == 3


def test_the_agent_answers_warm_up(agent, local):
    assert agent.warm("agent", 3) == 3
    assert agent.submit("agent", WARM_EVENT).result() is None
    assert local.stats("agent")["cold_starts"] == 3


def test_nothing_is_ever_unpickled():
    package = Path(importlib.import_module("lambda_executor").__file__).parent
    sources = list(package.rglob("*.py"))
    assert len(sources) > 5
    for source in sources:
        assert not re.search(
            r"^\s*(import|from)\s+(c?pickle|dill|cloudpickle|marshal|shelve)\b", source.read_text(), re.M
        ), source


def test_a_compressed_call_cannot_unpack_into_gigabytes():
    from lambda_executor import agent

    packer = zlib.compressobj()
    bomb = b"".join(packer.compress(b"\0" * 2**20) for _ in range(300)) + packer.flush()  # 300 MB of zeros
    with pytest.raises(agent.AgentError, match="more than"):
        agent.handler({"call": "mathwork:add", agent.COMPRESSED: base64.b64encode(bomb).decode()}, None)


def test_cpythons_test_map_exception_passes_against_the_executor(agent, mathwork):
    """Lib/test/test_concurrent_futures' test_map_exception, with divmod deployed (and JSON's
    lists for its tuples)."""
    i = agent.map(mathwork.quotient, [1, 1, 1, 1], [2, 3, 0, 5])
    assert i.__next__() == [0, 1]
    assert i.__next__() == [0, 1]
    with pytest.raises(ZeroDivisionError):
        i.__next__()


def test_a_remote_built_in_exception_is_caught_as_it_and_as_a_function_error(agent, mathwork):
    with pytest.raises(KeyError) as raised:
        agent.submit(mathwork.lookup, {"a": 1}, "b").result()
    error = raised.value
    assert isinstance(error, FunctionError) and isinstance(error, LookupError)
    assert (error.error_type, error.error_message) == ("KeyError", "'b'")
    assert any("mathwork.py" in line for line in error.stack_trace)
    assert "Remote traceback" in str(error)
    # A type of the user's own stays a plain FunctionError, as does one that is not a built-in
    # Exception's, though Python has it.
    with pytest.raises(FunctionError) as raised:
        agent.submit(mathwork.fail, "no good").result()
    assert type(raised.value) is FunctionError
    assert type(FunctionError("SystemExit", "bye")) is FunctionError
