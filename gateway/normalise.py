"""Normalisers: good records of a format → canonical :class:`~gateway.models.Payment`.

One normaliser a format family. It sees each accepted data record with its group's
header and the group's kind (request or result, from validation), and returns the
canonical model, or ``None`` when the record is not a payment (a debit *request* is
an instruction to the bank, not money).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from formats.zengin.common import RESULT_CODES
from gateway.models import Payment, SourceRef

__all__ = ["DebitResultNormaliser", "Normaliser", "implied_date", "normaliser_for"]


def implied_date(mmdd: str, reference: dt.date, *, direction: str) -> dt.date:
    """The date an MMDD field means (全銀 headers carry no year).

    ``direction="past"``: the latest such date on or before ``reference`` (a result
    arrives after the debit); ``"future"``: the next one on or after it (a request is
    written before the debit). 0229 falls back to the nearest leap year.
    """
    month, day = int(mmdd[:2]), int(mmdd[2:])
    step = -1 if direction == "past" else 1
    year = reference.year
    for _ in range(9):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            year += step
            continue
        if (direction == "past" and candidate <= reference) or (direction == "future" and candidate >= reference):
            return candidate
        year += step
    raise ValueError(f"no date {mmdd} near {reference.isoformat()}")


@dataclass(frozen=True)
class GroupContext:
    """What a data record's group tells about it."""

    header: Mapping[str, Any]
    kind: str  # "request" | "result" | "transfer"


class Normaliser(Protocol):
    def normalise(self, values: Mapping[str, Any], group: GroupContext, source: SourceRef) -> Payment | None: ...


class DebitResultNormaliser:
    """全銀 91 result records → payments: 振替済 (code 0) paid, any other code failed.

    The 顧客番号 is the 消込特定キー; the 領収日 is the header's 引落日 in the year it
    implies relative to the day the file was received.
    """

    def __init__(self, received_on: dt.date) -> None:
        self.received_on = received_on
        self._dates: dict[str, dt.date] = {}

    def normalise(self, values: Mapping[str, Any], group: GroupContext,
                  source: SourceRef | Mapping[str, Any]) -> Payment | None:
        if group.kind != "result":
            return None
        code = values.get("result_code")
        mmdd = group.header["debit_date"]
        if mmdd not in self._dates:
            self._dates[mmdd] = implied_date(mmdd, self.received_on, direction="past")
        return Payment(
            kind="direct-debit",
            status="paid" if code == "0" else "failed",
            reconciliation_key=values["customer_number"],
            # one debit: the consignor, the day and the customer number (a re-sent file posts nothing twice)
            payment_key=f"{group.header['consignor_code']}:{self._dates[mmdd].isoformat()}:{values['customer_number']}",
            principal=values["amount"],
            receipt_date=self._dates[mmdd],
            result_code=code,
            result_meaning=RESULT_CODES.get(code or "", f"未定義の結果コード {code}"),
            account={"bank_code": values["bank_code"], "branch_code": values["branch_code"],
                     "account_type": values["account_type"], "number": values["account_number"]},
            source=source,
        )


def normaliser_for(format_id: str, received_on: dt.date) -> Normaliser | None:
    """The normaliser of a format, or None when the format carries no payments (e.g. 21 transfers)."""
    if format_id == "zengin-91":
        return DebitResultNormaliser(received_on)
    return None
