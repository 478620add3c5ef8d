"""Fixtures every test gets (tests/support/ holds the helpers)."""

from __future__ import annotations

import threading

import pytest


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Fail a test that leaves threads running."""
    before = threading.active_count()
    yield
    assert threading.active_count() <= before, "a test leaked threads"
