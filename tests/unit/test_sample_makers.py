"""The sample makers (tests/data/**/make_samples.py) and their writer (tests/support/):
no project code, and every golden .dat is exactly what its maker assembles."""

from __future__ import annotations

import ast
import runpy
import sys
from pathlib import Path

import pytest

from tests.support import fixedwidth

TESTS = Path(__file__).resolve().parents[1]
DATA = TESTS / "data"
MAKERS = sorted(DATA.rglob("make_samples.py"))
PROJECT_PACKAGES = {"formats", "gateway", "adapters", "spool"}


def _imported_top_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "path", [*MAKERS, TESTS / "support" / "fixedwidth.py"], ids=lambda path: str(path.relative_to(TESTS))
)
def test_no_project_code(path: Path):
    """The samples are the ground truth: neither a maker nor their writer (tests/support/fixedwidth.py)
    imports the code under test (the other support modules drive it and may)."""
    assert not _imported_top_names(path) & PROJECT_PACKAGES


def test_every_maker_reproduces_its_golden_files(monkeypatch: pytest.MonkeyPatch):
    """Run every maker with its writes caught: each .dat it assembles equals the committed
    file byte for byte, and every .dat under tests/data comes from one of them."""
    made: dict[Path, bytes] = {}

    def catching_writer(folder: Path):
        def write(case: str, data: bytes) -> Path:
            path = (folder / f"{case}.dat").resolve()
            assert path not in made, f"{path} written twice"
            made[path] = data
            return path

        return write

    monkeypatch.setattr(fixedwidth, "writer", catching_writer)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the makers put the repository on it
    for maker in MAKERS:
        runpy.run_path(str(maker), run_name="__main__")

    assert set(made) == {path.resolve() for path in DATA.rglob("*.dat")}
    for path, data in sorted(made.items()):
        assert data == path.read_bytes(), path.relative_to(DATA)
