"""Bank and branch codes, looked up in the `zengin-code` package's master.

The master is updated irregularly, so it is a lookup, not an authority: an unknown
code is a warning in the report, never a rejection. Loading the master takes about
0.3 s and 20 MB, so the code tables that validation needs are cached (per installed
zengin-code version) as a small file under the user's cache folder; names are only
looked up in the full master when asked for.
"""

from __future__ import annotations

import os
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np

__all__ = ["bank_name", "branch_name", "is_known_bank", "is_known_branch", "known_tables"]


class _Branch(Protocol):
    """What is read of a ``zengin_code.Branch`` (the package ships no types)."""

    name: str


class _Bank(Protocol):
    """What is read of a ``zengin_code.Bank``: its name and its branches by code."""

    name: str
    branches: dict[str, _Branch]


@cache
def _master() -> dict[str, _Bank]:
    from zengin_code import Bank

    return {code: bank for code, bank in Bank.all.items()}


def bank_name(code: str) -> str | None:
    bank = _master().get(code)
    return None if bank is None else bank.name


def branch_name(bank_code: str, branch_code: str) -> str | None:
    bank = _master().get(bank_code)
    if bank is None:
        return None
    branch = bank.branches.get(branch_code)
    return None if branch is None else branch.name


def is_known_bank(code: str) -> bool:
    return len(code) == 4 and code.isdigit() and bool(known_tables()[0][int(code)])


def is_known_branch(bank_code: str, branch_code: str) -> bool:
    if not (len(bank_code) == 4 and bank_code.isdigit() and len(branch_code) == 3 and branch_code.isdigit()):
        return False
    return bool(known_tables()[1][int(bank_code) * 1000 + int(branch_code)])


def _cache_file() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "collection-gateway" / f"zengin-code-{metadata.version('zengin-code')}.npz"


def _codes_from_master() -> tuple[np.ndarray, np.ndarray]:
    bank_codes: list[int] = []
    branch_keys: list[int] = []
    for code, bank in _master().items():
        if not (code.isdigit() and len(code) == 4):
            continue
        bank_codes.append(int(code))
        for branch_code in bank.branches:
            if branch_code.isdigit() and len(branch_code) == 3:
                branch_keys.append(int(code) * 1000 + int(branch_code))
    return np.array(bank_codes, dtype=np.int64), np.array(branch_keys, dtype=np.int64)


@cache
def known_tables() -> tuple[np.ndarray, np.ndarray]:
    """Boolean tables: banks[code] and branches[code * 1000 + branch] (used by both paths)."""
    path = _cache_file()
    try:
        with np.load(path) as cached:
            bank_codes, branch_keys = cached["banks"], cached["branches"]
    except (OSError, KeyError, ValueError):
        bank_codes, branch_keys = _codes_from_master()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp.npz")
            np.savez_compressed(temporary, banks=bank_codes, branches=branch_keys)
            os.replace(temporary, path)
        except OSError:
            pass  # a read-only home only costs the 0.3 s load next time
    banks = np.zeros(10_000, dtype=bool)
    branches = np.zeros(10_000_000, dtype=bool)
    banks[bank_codes] = True
    branches[branch_keys] = True
    return banks, branches
