"""What the agent's tests share: the deployed code."""

import pytest
from helpers import AGENT_CODE
from lambda_executor.bundle import stage


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """mathwork.py and the agent, laid out as `lambda-executor deploy` bundles them."""
    root = tmp_path_factory.mktemp("deployed")
    stage([AGENT_CODE / "mathwork.py"], root)
    return root
