"""What the Zengin (全銀協) file formats share: codes, record rules, the end record."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

import numpy as np

from formats import banks
from formats.errors import FieldError, Reason, Severity
from formats.fields import Digits
from formats.layout import FieldIssue, RecordLayout, RecordRule, end_record

#: what a warning-only rule finds over a block (see ``RecordRule.vector_warnings``)
VectorWarnings = tuple[np.ndarray, tuple[tuple[str, Reason, np.ndarray], ...]]

__all__ = [
    "ACCOUNT_TYPES_CONSIGNOR",
    "CODE_DIVISION",
    "END",
    "KnownBank",
    "KnownCode",
    "NEW_CODES",
    "RECORD_LENGTH",
    "RESULT_CODES",
    "identify_zengin",
]

RECORD_LENGTH = 120

#: コード区分: 0 = JIS (single-byte Shift_JIS). 1 = EBCDIC has no Japanese codec in Python: refused.
CODE_DIVISION = {"0": "JIS"}

ACCOUNT_TYPES_CONSIGNOR = {"1": "普通", "2": "当座", "9": "その他"}

NEW_CODES = {"0": "その他", "1": "第1回引落分", "2": "変更分"}

#: 振替結果コード. 5–7 are unused; collection agents may add their own: those are kept, flagged.
RESULT_CODES = {
    "0": "振替済",
    "1": "資金不足",
    "2": "預金取引なし",
    "3": "預金者の都合による振替停止",
    "4": "預金口座振替依頼書なし",
    "8": "委託者の都合による振替停止",
    "9": "その他",
}

END = end_record(RECORD_LENGTH, filler_label="ダミー")


def identify_zengin(type_code: bytes) -> Callable[[bytes], bool]:
    """A content test: the first record is a Zengin header of the given 種別コード."""

    def identify(first_record: bytes) -> bool:
        return first_record[:1] == b"1" and first_record[1:3] == type_code

    return identify


class KnownBank(RecordRule):
    """Warn (never reject) when a bank or branch code is not in the zengin-code master."""

    def __init__(self, bank_field: str = "bank_code", branch_field: str = "branch_code") -> None:
        self.bank_field = bank_field
        self.branch_field = branch_field

    def check(self, layout: RecordLayout, values: Mapping[str, Any], raw: bytes) -> Iterable[FieldIssue]:
        bank, branch = values.get(self.bank_field), values.get(self.branch_field)
        if bank is None:
            return
        bank_spec = layout.by_name[self.bank_field]
        branch_spec = layout.by_name[self.branch_field]
        if not banks.is_known_bank(bank):
            yield FieldIssue(
                bank_spec,
                Reason.UNKNOWN_BANK,
                "a bank code in the zengin-code master",
                raw[bank_spec.offset : bank_spec.offset + bank_spec.width],
                severity=Severity.WARNING,
            )
        elif branch is not None and not banks.is_known_branch(bank, branch):
            yield FieldIssue(
                branch_spec,
                Reason.UNKNOWN_BRANCH,
                f"a branch of bank {bank} in the zengin-code master",
                raw[branch_spec.offset : branch_spec.offset + branch_spec.width],
                severity=Severity.WARNING,
            )

    def vector_ok(self, layout: RecordLayout, columns: Callable[[str], np.ndarray]) -> np.ndarray:
        known_banks, known_branches = banks.known_tables()
        bank = _ints(columns(self.bank_field))
        branch = _ints(columns(self.branch_field))
        ok: np.ndarray = known_banks[bank] & known_branches[bank * 1000 + branch]
        return ok

    def vector_warnings(
        self, layout: RecordLayout, columns: Callable[[str], np.ndarray], strict: bool
    ) -> VectorWarnings | None:
        """UNKNOWN_BANK / UNKNOWN_BRANCH over a block, exactly as ``check`` gives them, for 4- and
        3-digit codes (a blank optional code is ``None`` to ``check``: no warning)."""
        bank_spec, branch_spec = layout.by_name[self.bank_field], layout.by_name[self.branch_field]
        for spec, width in ((bank_spec, 4), (branch_spec, 3)):
            if not (isinstance(spec.kind, Digits) and spec.kind.align == "zero" and spec.width == width):
                return None
        bank_cols, branch_cols = columns(self.bank_field), columns(self.branch_field)
        bank_digits = _all_digits(bank_cols)
        branch_digits = _all_digits(branch_cols)
        exact = (bank_cols == 0x20).all(axis=1) | (bank_digits & (branch_digits | (branch_cols == 0x20).all(axis=1)))
        known_banks, known_branches = banks.known_tables()
        bank = _ints(bank_cols)
        bank_known = bank_digits & known_banks[bank]
        unknown_branch = bank_known & branch_digits & ~known_branches[bank * 1000 + _ints(branch_cols)]
        return exact, (
            (self.bank_field, Reason.UNKNOWN_BANK, bank_digits & ~bank_known),
            (self.branch_field, Reason.UNKNOWN_BRANCH, unknown_branch),
        )


class KnownCode(RecordRule):
    """Warn when a digit code (e.g. 振替結果コード) is not one of the defined ones; keep the record."""

    def __init__(self, field: str, codes: Mapping[str, str], reason: Reason) -> None:
        self.field = field
        self.codes = codes
        self.reason = reason
        self._tables: dict[tuple[int, bool], tuple[object, np.ndarray, np.ndarray]] = {}
        self._known = np.zeros(256, dtype=bool)
        for code in codes:
            if len(code) == 1:
                self._known[ord(code)] = True

    def check(self, layout: RecordLayout, values: Mapping[str, Any], raw: bytes) -> Iterable[FieldIssue]:
        value = values.get(self.field)
        if value is not None and value not in self.codes:
            spec = layout.by_name[self.field]
            yield FieldIssue(
                spec,
                self.reason,
                "one of " + ", ".join(self.codes),
                raw[spec.offset : spec.offset + spec.width],
                severity=Severity.WARNING,
            )

    def vector_ok(self, layout: RecordLayout, columns: Callable[[str], np.ndarray]) -> np.ndarray | None:
        if any(len(code) != 1 for code in self.codes):
            return None
        cols = columns(self.field)
        ok: np.ndarray = self._known[cols[:, 0]] | (cols[:, 0] == 0x20)
        return ok

    def vector_warnings(
        self, layout: RecordLayout, columns: Callable[[str], np.ndarray], strict: bool
    ) -> VectorWarnings | None:
        """The warning over a block, for a one-byte field: each of the 256 bytes is decoded once by
        the field's kind, as ``check`` would see it (a byte the kind refuses never reaches ``check``)."""
        spec = layout.by_name[self.field]
        if spec.width != 1:
            return None
        key = (id(spec.kind), strict)
        tables = self._tables.get(key)
        if tables is None:
            warn = np.zeros(256, dtype=bool)
            exact = np.ones(256, dtype=bool)
            for byte in range(256):
                try:
                    value = spec.kind.decode(bytes([byte]), strict)
                except FieldError:
                    continue
                except (UnicodeDecodeError, ValueError):
                    exact[byte] = False
                    continue
                warn[byte] = value is not None and value not in self.codes
            tables = self._tables[key] = (spec.kind, exact, warn)
        _kind, exact, warn = tables
        column = columns(self.field)[:, 0]
        return exact[column], ((self.field, self.reason, warn[column]),)


def _all_digits(cols: np.ndarray) -> np.ndarray:
    digits = ((cols >= 0x30) & (cols <= 0x39)).all(axis=1)
    return cast(np.ndarray, digits)  # numpy types .all(axis=…) as scalar | array


def _ints(cols: np.ndarray) -> np.ndarray:
    weights = 10 ** np.arange(cols.shape[1] - 1, -1, -1, dtype=np.int64)
    # rows whose bytes are not digits are refused by the field checks; clip keeps indexing safe
    values: np.ndarray = np.clip((cols.astype(np.int64) - 0x30) @ weights, 0, 10 ** cols.shape[1] - 1)
    return values
