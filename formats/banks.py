"""Bank and branch codes, looked up in the `zengin-code` package's master.

The master is updated irregularly, so it is a lookup, not an authority: an unknown
code is a warning in the report, never a rejection. It is loaded once, lazily
(about 0.3 s and 20 MB).
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = ["bank_name", "branch_name", "is_known_bank", "is_known_branch", "known_tables"]


@cache
def _master() -> dict[str, dict[str, str] | str]:
    from zengin_code import Bank

    return {code: bank for code, bank in Bank.all.items()}


def bank_name(code: str) -> str | None:
    bank = _master().get(code)
    return None if bank is None else bank.name  # type: ignore[union-attr]


def branch_name(bank_code: str, branch_code: str) -> str | None:
    bank = _master().get(bank_code)
    if bank is None:
        return None
    branch = bank.branches.get(branch_code)  # type: ignore[union-attr]
    return None if branch is None else branch.name


def is_known_bank(code: str) -> bool:
    return code in _master()


def is_known_branch(bank_code: str, branch_code: str) -> bool:
    bank = _master().get(bank_code)
    return bank is not None and branch_code in bank.branches  # type: ignore[union-attr]


@cache
def known_tables() -> tuple[np.ndarray, np.ndarray]:
    """Boolean tables for the fast path: banks[code] and branches[code * 1000 + branch]."""
    banks = np.zeros(10_000, dtype=bool)
    branches = np.zeros(10_000_000, dtype=bool)
    for code, bank in _master().items():
        if not (code.isdigit() and len(code) == 4):
            continue
        banks[int(code)] = True
        for branch_code in bank.branches:  # type: ignore[union-attr]
            if branch_code.isdigit() and len(branch_code) == 3:
                branches[int(code) * 1000 + int(branch_code)] = True
    return banks, branches
