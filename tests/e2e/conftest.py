"""Fixtures of the end-to-end tests (real `gateway run` processes)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.gateways import Gateways


@pytest.fixture
def gateways(tmp_path: Path) -> Iterator[Gateways]:
    """Starts gateway processes in the test's folder and stops every one of them afterwards."""
    pool = Gateways(tmp_path)
    yield pool
    pool.stop_all()
