"""Fixtures of the integration tests (in process, on a real spool and ledger)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.config.settings import load_settings
from gateway.datapath.pipeline import Pipeline
from gateway.storage.ledger import Ledger


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    """The pipeline of the default configuration on a new spool under the test's folder."""
    root = tmp_path / "spool"
    root.mkdir()
    settings = load_settings(spool_root=root)
    with Ledger(settings.ledger_path()) as ledger:
        built = Pipeline(settings, ledger)
        built.spool.ensure()
        yield built
