"""Shared fixtures of the API tests."""

import warnings

import pytest


@pytest.fixture(autouse=True)
def _quiet_pettingzoo_warnings():
    # Unbounded observation spaces (as in MPE2) make pettingzoo.test warn on every call.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(infinity|too low|too high).*")
        yield
