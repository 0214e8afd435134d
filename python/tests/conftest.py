# The module under test is the build tree's (PYTHONPATH=build/python, as
# scripts/test.sh sets it) or an installed one.
import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(0)
