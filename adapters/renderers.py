"""Renderers: canonical payments → the bytes a destination system takes.

A renderer writes one output file for one input file: ``begin`` once, ``add`` per
payment, ``end`` once, each returning bytes to append. Output names are derived from
the input file's id and the destination, so a retry replaces instead of duplicating.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Protocol

from formats.collection import COLLECTION_INTAKE
from formats.zengin.common import RESULT_CODES
from gateway.models import Payment

__all__ = ["RENDERER_CLASSES", "RENDERER_NAMES", "NumberLinkageRenderer", "CollectionIntakeRenderer", "DebitFollowupCsvRenderer", "OutputMeta", "Renderer", "make_renderer"]

CHANNEL_KIND_CODES = {"direct-debit": "01", "convenience-store": "02", "pay-easy": "03", "ocr": "04", "eltax": "05"}
STATUS_CODES = {"paid": "1", "failed": "2", "preliminary": "3", "cancelled": "4"}


@dataclass(frozen=True)
class OutputMeta:
    """What an output knows about the input it came from."""

    file_id: str
    channel: str
    format: str
    created_on: dt.date


class Renderer(Protocol):
    extension: str
    records: int

    def begin(self, meta: OutputMeta) -> bytes: ...
    def add(self, payment: Payment) -> bytes: ...
    def end(self) -> bytes: ...


class CollectionIntakeRenderer:
    """The collection system's fixed-width intake (formats/collection.py), CRLF after each record."""

    extension = "dat"
    accepts = frozenset({"payment"})
    writes_individual_numbers: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self.records = 0
        self.principal = self.late_fee = self.dunning_fee = 0
        layout = COLLECTION_INTAKE
        self.header = layout.layout_for("header")
        self.data = layout.layout_for("data")
        self.trailer = layout.layout_for("trailer")
        self.end_record = layout.layout_for("end")

    def begin(self, meta: OutputMeta) -> bytes:
        return self.header.encode(dict(
            record_type="1", layout_id="GWCI01", created_on=meta.created_on, source_file_id=meta.file_id,
            source_channel=meta.channel, source_format=meta.format,
        )) + b"\r\n"

    def add(self, payment: Payment) -> bytes:
        self.records += 1
        self.principal += payment.principal
        self.late_fee += payment.late_fee
        self.dunning_fee += payment.dunning_fee
        account = payment.account
        return self.data.encode(dict(
            record_type="2",
            reconciliation_key=payment.reconciliation_key,
            channel_kind=CHANNEL_KIND_CODES[payment.kind],
            status=STATUS_CODES[payment.status],
            principal=payment.principal,
            late_fee=payment.late_fee,
            dunning_fee=payment.dunning_fee,
            receipt_date=payment.receipt_date,
            revenue_date=payment.revenue_date,
            result_code=payment.result_code or "",
            notice_number=payment.notice_number or "",
            tax_item=payment.tax_item or "",
            fiscal_year=payment.fiscal_year,
            instalment=payment.instalment or "",
            bank_code=account.bank_code if account else None,
            branch_code=account.branch_code if account else None,
            source_record=payment.source.record,
        )) + b"\r\n"

    def end(self) -> bytes:
        return self.trailer.encode(dict(
            record_type="8", record_count=self.records, principal_total=self.principal,
            late_fee_total=self.late_fee, dunning_fee_total=self.dunning_fee,
        )) + b"\r\n" + self.end_record.encode({"record_type": "9"}) + b"\r\n"


class DebitFollowupCsvRenderer:
    """Failed debits for 督促/再振替 follow-up: CSV in UTF-8 with BOM (opens in Excel), CRLF.

    Account numbers are shown by their last 3 digits only: the list is for people.
    """

    extension = "csv"
    accepts = frozenset({"payment"})
    writes_individual_numbers: frozenset[str] = frozenset()
    COLUMNS = ("ファイルID", "レコード番号", "顧客番号", "引落日", "引落金額", "振替結果コード", "結果内容",
               "金融機関コード", "支店コード", "預金種目", "口座番号(下3桁)")

    def __init__(self) -> None:
        self.records = 0

    def _row(self, values: tuple[object, ...]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerow(values)
        return buffer.getvalue().encode("utf-8")

    def begin(self, meta: OutputMeta) -> bytes:
        return "\ufeff".encode("utf-8") + self._row(self.COLUMNS)

    def add(self, payment: Payment) -> bytes:
        self.records += 1
        account = payment.account
        return self._row((
            payment.source.file_id, payment.source.record, payment.reconciliation_key,
            payment.receipt_date.isoformat() if payment.receipt_date else "", payment.principal,
            payment.result_code or "", payment.result_meaning or RESULT_CODES.get(payment.result_code or "", ""),
            account.bank_code if account else "", account.branch_code if account else "",
            account.account_type if account else "", account.masked_number if account else "",
        ))

    def end(self) -> bytes:
        return b""


class NumberLinkageRenderer:
    """Number-linkage records for the collection system, in the micjet-linkage layout
    (formats/micjet.py). Its output holds 個人番号: only a route with a legal basis may
    feed it (gateway/protection.py)."""

    extension = "dat"
    accepts = frozenset({"number-linkage"})
    writes_individual_numbers = frozenset({"individual_number"})

    def __init__(self) -> None:
        from formats.micjet import MICJET_LINKAGE

        self.records = 0
        self.serial_total = 0
        self.layout = MICJET_LINKAGE
        self.legal_basis: str | None = None
        self._header: bytes | None = None
        self._meta: OutputMeta | None = None

    def begin(self, meta: OutputMeta) -> bytes:
        self._meta = meta
        return b""  # the header names the legal basis, known with the first record

    def add(self, record: object) -> bytes:
        out = b""
        if self.records == 0:
            assert self._meta is not None
            self.legal_basis = record.legal_basis  # type: ignore[attr-defined]
            out = self.layout.layout_for("header").encode(dict(
                created_on=self._meta.created_on, municipality_code="000000",
                legal_basis=self.legal_basis)) + b"\r\n"
        elif record.legal_basis != self.legal_basis:  # type: ignore[attr-defined]
            raise ValueError("records of one output must share one legal basis")
        self.records += 1
        self.serial_total += self.records
        return out + self.layout.layout_for("data").encode(dict(
            serial=self.records, process_kind=record.process_kind,  # type: ignore[attr-defined]
            integrated_address_number=record.integrated_address_number,  # type: ignore[attr-defined]
            resident_code=record.resident_code, my_number=record.individual_number,  # type: ignore[attr-defined]
            change_date=record.change_date)) + b"\r\n"  # type: ignore[attr-defined]

    def end(self) -> bytes:
        return (self.layout.layout_for("trailer").encode(dict(record_count=self.records,
                                                              serial_total=self.serial_total)) + b"\r\n"
                + self.layout.layout_for("end").encode({}) + b"\r\n")


class RefundTransferRenderer:
    """Refund orders → a 全銀 総合振込 (21) file for the bank, built by formats.builder (names
    normalised to half-width kana and cut by bytes, totals computed). The requester's own
    details come from the destination's ``options`` (requester_code, requester_name,
    bank_code, branch_code, account_type, account_number)."""

    extension = "dat"
    takes_options = True
    accepts = frozenset({"refund-order"})
    writes_individual_numbers: frozenset[str] = frozenset()
    REQUIRED = ("requester_code", "requester_name", "bank_code", "branch_code")

    def __init__(self, options: dict[str, str] | None = None) -> None:
        self.options = dict(options or {})
        missing = [key for key in self.REQUIRED if key not in self.options]
        if missing:
            raise ValueError(f"renderer zengin-21-refunds needs destination options {', '.join(missing)}")
        self.records = 0
        self._orders: list[object] = []

    def begin(self, meta: OutputMeta) -> bytes:
        return b""

    def add(self, order: object) -> bytes:
        self.records += 1
        self._orders.append(order)
        return b""  # the file is written whole at the end (its header needs the transfer date)

    def end(self) -> bytes:
        from formats.builder import FileBuilder, Group
        from formats.zengin import TRANSFER_21

        if not self._orders:
            return b""
        first = self._orders[0]
        header = dict(code_division="0", requester_code=self.options["requester_code"],
                      requester_name=self.options["requester_name"],
                      transfer_date=first.transfer_date,  # type: ignore[attr-defined]
                      bank_code=self.options["bank_code"], bank_name="", branch_code=self.options["branch_code"],
                      branch_name="", account_type=self.options.get("account_type"),
                      account_number=self.options.get("account_number"))
        records = [dict(
            bank_code=order.account.bank_code, bank_name="", branch_code=order.account.branch_code,  # type: ignore[attr-defined]
            branch_name="", clearing_house=None, account_type=order.account.account_type,  # type: ignore[attr-defined]
            account_number=order.account.number, payee_name=order.payee_kana,  # type: ignore[attr-defined]
            amount=order.amount, new_code="0",  # type: ignore[attr-defined]
            customer_codes=order.refund_id[-10:].rjust(10, "0") + "0" * 10,  # type: ignore[attr-defined]
            transfer_kind="7", edi_flag=None) for order in self._orders]
        return FileBuilder(TRANSFER_21).to_bytes([Group(header, records)])


RENDERER_CLASSES: dict[str, type] = {
    "collection-intake": CollectionIntakeRenderer,
    "debit-followup-csv": DebitFollowupCsvRenderer,
    "number-linkage": NumberLinkageRenderer,
    "zengin-21-refunds": RefundTransferRenderer,
}
_RENDERERS = RENDERER_CLASSES
RENDERER_NAMES = tuple(_RENDERERS)


def make_renderer(name: str, options: dict[str, str] | None = None) -> Renderer:
    try:
        renderer = _RENDERERS[name]
    except KeyError:
        raise KeyError(f"unknown renderer {name!r}: expected one of {', '.join(_RENDERERS)}") from None
    return renderer(options or {}) if getattr(renderer, "takes_options", False) else renderer()
