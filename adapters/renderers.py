"""Renderers: canonical records → the bytes a destination system takes.

A renderer writes one output file for one input file: ``begin`` once, ``add_batch`` for
each batch of records (columns: :class:`~gateway.model.batch.CanonicalBatch`; ``add`` for
one record is the batch of one), ``end`` once, each returning bytes to append. Fixed-width
records are encoded a column at a time (formats/columns.py ``encode_records``): one
``bytes`` a batch. Output names are derived from the input file's id and the
destination, so a retry replaces instead of duplicating.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, cast

import numpy as np

from formats.columns import encode_records
from formats.layout import FileLayout
from formats.layouts.zengin.common import RESULT_CODES
from formats.masking import mask
from formats.registry import get_format
from gateway.model.batch import CanonicalBatch
from gateway.model.records import RefundOrder

__all__ = [
    "AddressRenderer",
    "CollectionIntakeRenderer",
    "DebitFollowupCsvRenderer",
    "LayoutRenderer",
    "LevyAssessmentRenderer",
    "NumberLinkageRenderer",
    "OutputMeta",
    "PaymentInfoRenderer",
    "PublicFundAccountRenderer",
    "RefundTransferRenderer",
    "Renderer",
    "RendererClass",
    "BatchRenderer",
]

CHANNEL_KIND_CODES = {"direct-debit": "01", "convenience-store": "02", "pay-easy": "03", "ocr": "04", "eltax": "05"}
STATUS_CODES = {"paid": "1", "failed": "2", "preliminary": "3", "cancelled": "4"}


@dataclass(frozen=True)
class OutputMeta:
    """What an output knows about the input it came from."""

    file_id: str
    channel: str
    format: str
    created_on: dt.date
    #: the input's first header record (decoded), for outputs that carry its values on
    header: Mapping[str, Any] | None = None


class Renderer(Protocol):
    extension: str
    records: int

    def begin(self, meta: OutputMeta) -> bytes: ...
    def add(self, record: Any) -> bytes: ...
    def add_batch(self, batch: CanonicalBatch, rows: np.ndarray) -> bytes: ...
    def end(self) -> bytes: ...


class BatchRenderer:
    """What every renderer shares: one record is rendered as a batch of one."""

    def add_batch(self, batch: CanonicalBatch, rows: np.ndarray) -> bytes:  # pragma: no cover - abstract
        raise NotImplementedError

    def add(self, record: Any) -> bytes:
        """Render one canonical record (the record path)."""
        return self.add_batch(CanonicalBatch.of([record]), np.ones(1, dtype=bool))


CRLF = b"\r\n"
#: what makes the csv module quote a value (the delimiter, the quote, a line break)
_CSV_SPECIAL = re.compile(r'[,"\r\n]')
_CSV_LINE = "{}\r\n"


def _or(values: list[Any], default: Any) -> list[Any]:
    """``value or default`` down a column."""
    return [value or default for value in values]


class RendererClass(Protocol):
    """A renderer class (adapters/specs.py names them): the record kinds it takes, the 個人番号 fields it writes."""

    accepts: frozenset[str]
    writes_individual_numbers: frozenset[str]

    def __call__(self, *args: Any, **kwargs: Any) -> Renderer: ...


class CollectionIntakeRenderer(BatchRenderer):
    """The collection system's fixed-width intake (formats/layouts/collection-intake.toml), CRLF after each record."""

    extension = "dat"
    accepts = frozenset({"payment"})
    writes_individual_numbers: ClassVar[frozenset[str]] = frozenset()

    def __init__(self) -> None:
        self.records = 0
        self.principal = self.late_fee = self.dunning_fee = 0
        layout = get_format("collection-intake")
        self.header = layout.layout_for("header")
        self.data = layout.layout_for("data")
        self.trailer = layout.layout_for("trailer")
        self.end_record = layout.layout_for("end")

    def begin(self, meta: OutputMeta) -> bytes:
        return (
            self.header.encode(
                dict(
                    record_type="1",
                    layout_id="GWCI01",
                    created_on=meta.created_on,
                    source_file_id=meta.file_id,
                    source_channel=meta.channel,
                    source_format=meta.format,
                )
            )
            + CRLF
        )

    def add_batch(self, batch: CanonicalBatch, rows: np.ndarray) -> bytes:
        payments = batch.take(rows)
        count = len(payments)
        principal, late_fee, dunning_fee = (payments.column(name) for name in ("principal", "late_fee", "dunning_fee"))
        self.records += count
        self.principal += sum(principal)
        self.late_fee += sum(late_fee)
        self.dunning_fee += sum(dunning_fee)
        account = payments.account or {}
        no_account = [None] * count
        columns = dict(
            record_type=["2"] * count,
            reconciliation_key=payments.column("reconciliation_key"),
            channel_kind=[CHANNEL_KIND_CODES[kind] for kind in payments.column("kind")],
            status=[STATUS_CODES[status] for status in payments.column("status")],
            principal=principal,
            late_fee=late_fee,
            dunning_fee=dunning_fee,
            receipt_date=payments.column("receipt_date"),
            revenue_date=payments.column("revenue_date"),
            result_code=_or(payments.column("result_code"), ""),
            notice_number=_or(payments.column("notice_number"), ""),
            tax_item=_or(payments.column("tax_item"), ""),
            fiscal_year=payments.column("fiscal_year"),
            instalment=_or(payments.column("instalment"), ""),
            bank_code=account.get("bank_code", no_account),
            branch_code=account.get("branch_code", no_account),
            source_record=payments.records,
        )
        return encode_records(self.data, columns, count, CRLF)

    def end(self) -> bytes:
        return (
            self.trailer.encode(
                dict(
                    record_type="8",
                    record_count=self.records,
                    principal_total=self.principal,
                    late_fee_total=self.late_fee,
                    dunning_fee_total=self.dunning_fee,
                )
            )
            + b"\r\n"
            + self.end_record.encode({"record_type": "9"})
            + b"\r\n"
        )


class DebitFollowupCsvRenderer(BatchRenderer):
    """Failed debits for 督促/再振替 follow-up: CSV in UTF-8 with BOM (opens in Excel), CRLF.

    Account numbers are shown by their last 3 digits only: the list is for people.
    """

    extension = "csv"
    accepts = frozenset({"payment"})
    writes_individual_numbers: ClassVar[frozenset[str]] = frozenset()
    COLUMNS = (
        "ファイルID",
        "レコード番号",
        "顧客番号",
        "引落日",
        "引落金額",
        "振替結果コード",
        "結果内容",
        "金融機関コード",
        "支店コード",
        "預金種目",
        "口座番号(下3桁)",
    )

    def __init__(self) -> None:
        self.records = 0

    @staticmethod
    def _rows(rows: Any) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(rows)
        return buffer.getvalue().encode("utf-8")

    @classmethod
    def _columns(cls, columns: list[list[Any]]) -> bytes:
        """The rows of ``columns`` as :meth:`_rows` writes them: joined with commas when no value
        needs quoting (no comma, quote or line break, more than one column), else by the csv module."""
        if len(columns) < 2 or not all(set(map(type, column)) <= {str, int} for column in columns):
            return cls._rows(zip(*columns, strict=True))  # (None, floats, bools: as the csv module writes them)
        texts = [list(map(str, column)) for column in columns]
        if not any(_CSV_SPECIAL.search("".join(column)) for column in texts):
            return "".join(map(_CSV_LINE.format, map(",".join, zip(*texts, strict=True)))).encode("utf-8")
        return cls._rows(zip(*columns, strict=True))

    def begin(self, meta: OutputMeta) -> bytes:
        return "\ufeff".encode("utf-8") + self._rows([self.COLUMNS])

    def add_batch(self, batch: CanonicalBatch, rows: np.ndarray) -> bytes:
        payments = batch.take(rows)
        count = len(payments)
        self.records += count
        blank = [""] * count
        account = payments.account or {}
        codes = payments.column("result_code")
        return self._columns(
            [
                [payments.file_id] * count,
                payments.records,
                payments.column("reconciliation_key"),
                [day.isoformat() if day else "" for day in payments.column("receipt_date")],
                payments.column("principal"),
                _or(codes, ""),
                [
                    meaning or RESULT_CODES.get(code or "", "")
                    for meaning, code in zip(payments.column("result_meaning"), codes, strict=True)
                ],
                *(_or(account.get(part, blank), "") for part in ("bank_code", "branch_code", "account_type")),
                [mask(number, "account") if number else "" for number in account.get("number", blank)],
            ]
        )

    def end(self) -> bytes:
        return b""


class RefundTransferRenderer(BatchRenderer):
    """Refund orders → a 全銀 総合振込 (21) file for the bank, built by formats.builder (names
    normalised to half-width kana and cut by bytes, totals computed). The requester's own
    details come from the destination's ``options`` (requester_code, requester_name,
    bank_code, branch_code, account_type, account_number)."""

    extension = "dat"
    takes_options = True
    accepts = frozenset({"refund-order"})
    writes_individual_numbers: ClassVar[frozenset[str]] = frozenset()
    REQUIRED = ("requester_code", "requester_name", "bank_code", "branch_code")

    def __init__(self, options: dict[str, str] | None = None) -> None:
        self.options = dict(options or {})
        missing = [key for key in self.REQUIRED if key not in self.options]
        if missing:
            raise ValueError(f"renderer zengin-21-refunds needs destination options {', '.join(missing)}")
        self.records = 0
        self._orders: list[RefundOrder] = []

    def begin(self, meta: OutputMeta) -> bytes:
        return b""

    def add_batch(self, batch: CanonicalBatch, rows: np.ndarray) -> bytes:
        # accepts only refund orders (the router sees to it); a refund file is small: models are fine
        orders = [cast(RefundOrder, batch.model_at(row)) for row in np.flatnonzero(rows).tolist()]
        self.records += len(orders)
        self._orders.extend(orders)
        return b""  # the file is written whole at the end (its header needs the transfer date)

    def end(self) -> bytes:
        from formats.builder import FileBuilder, Group
        from formats.layouts.zengin import TRANSFER_21

        if not self._orders:
            return b""
        first = self._orders[0]
        header = dict(
            code_division="0",
            requester_code=self.options["requester_code"],
            requester_name=self.options["requester_name"],
            transfer_date=first.transfer_date,
            bank_code=self.options["bank_code"],
            bank_name="",
            branch_code=self.options["branch_code"],
            branch_name="",
            account_type=self.options.get("account_type"),
            account_number=self.options.get("account_number"),
        )
        records = [
            dict(
                bank_code=order.account.bank_code,
                bank_name="",
                branch_code=order.account.branch_code,
                branch_name="",
                clearing_house=None,
                account_type=order.account.account_type,
                account_number=order.account.number,
                payee_name=order.payee_kana,
                amount=order.amount,
                new_code="0",
                customer_codes=order.refund_id[-10:].rjust(10, "0") + "0" * 10,
                transfer_kind="7",
                edi_flag=None,
            )
            for order in self._orders
        ]
        return FileBuilder(TRANSFER_21).to_bytes([Group(header, records)])


class LayoutRenderer(BatchRenderer):
    """Canonical records back into a fixed-width layout of formats/: header, one data
    record per canonical record, trailer with totals computed from what was written, end.

    Used for the inter-system files, whose layouts name their fields after the canonical
    models. The header is written with the first record (or at the end for an empty
    output), from the input's header where it has the value. Records are numbered again
    (``serial``) so the output's hash totals prove the output, not the input.
    """

    extension = "dat"
    layout: FileLayout  # each kind's, set in its __init__
    writes_individual_numbers: ClassVar[frozenset[str]] = frozenset()
    #: trailer field → data field summed into it (besides the count)
    sums: ClassVar[dict[str, str]] = {}
    #: header fields taken from the input's header when it has them, else from the first record
    header_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.records = 0
        self._totals = dict.fromkeys(self.sums, 0)
        self._meta: OutputMeta | None = None
        self._header_written = False

    def begin(self, meta: OutputMeta) -> bytes:
        self._meta = meta
        return b""

    def header_values(self, first: Any | None) -> dict[str, Any]:
        assert self._meta is not None
        source = dict(self._meta.header or {})
        values: dict[str, Any] = {"created_on": self._meta.created_on}
        for name in self.header_fields:
            if name in source:
                values[name] = source[name]
            elif first is not None and hasattr(first, name):
                values[name] = getattr(first, name)
        return values

    def data_columns(self, records: CanonicalBatch) -> dict[str, list[Any]]:
        """The data records' values, by field: the model's fields, the account's parts, ``serial`` numbered again."""
        values = {
            name: records.column(name) for name in records.model.model_fields if name not in ("source", "account")
        }
        if records.account is not None:
            values.update(
                bank_code=records.account["bank_code"],
                branch_code=records.account["branch_code"],
                account_type=records.account["account_type"],
                account_number=records.account["number"],
            )
        if "serial" in values:
            values["serial"] = list(range(self.records + 1, self.records + len(records) + 1))
        return values

    def check(self, records: CanonicalBatch) -> None:
        """Refuse records this output may not hold (ValueError naming the first); the rest of a subclass's rules."""

    def _header(self, first: Any | None) -> bytes:
        self._header_written = True
        return self.layout.layout_for("header").encode(self.header_values(first)) + CRLF

    def add_batch(self, batch: CanonicalBatch, rows: np.ndarray) -> bytes:
        records = batch.take(rows)
        if not len(records):
            return b""
        self.check(records)
        out = b"" if self._header_written else self._header(records.model_at(0))
        values = self.data_columns(records)
        self.records += len(records)
        for total, field_name in self.sums.items():
            self._totals[total] += sum(values[field_name])
        return out + encode_records(self.layout.layout_for("data"), values, len(records), CRLF)

    def end(self) -> bytes:
        out = b"" if self._header_written else self._header(None)
        totals = self.layout.totals
        trailer = {totals.count_field: self.records, **self._totals}
        return (
            out
            + self.layout.layout_for("trailer").encode(trailer)
            + b"\r\n"
            + self.layout.layout_for("end").encode({})
            + b"\r\n"
        )


class LevyAssessmentRenderer(LayoutRenderer):
    """調定 for the collection system, in the levy-assessment layout (formats/layouts/levy-assessment.toml): the
    accepted records of one levy file, totals of what is sent."""

    accepts = frozenset({"assessment"})
    header_fields = ("municipality_code", "source_system")
    sums = {"assessed_total": "assessed_amount"}

    def __init__(self) -> None:
        from formats.registry import get_format

        self.layout = get_format("levy-assessment")
        super().__init__()

    def check(self, records: CanonicalBatch) -> None:
        source = (self._meta.header or {}).get("source_system") if self._meta else None
        if source is not None and any(system != source for system in records.column("source_system")):
            raise ValueError("records of one assessment output must come from one levy system")


class PaymentInfoRenderer(LayoutRenderer):
    """収納情報 for one levy department (formats/layouts/payment_info.py), from the collection
    system's reconciliation output. Options: ``department`` (01 市民税課, 02 資産税課,
    03 保険年金課) and optionally ``tax_items`` (comma-separated 科目; default the
    department's own, formats.layouts.payment_info.DEPARTMENT_TAX_ITEMS). A posting of another
    科目 never reaches the department: the whole input is stopped instead (the routes'
    ``when.tax_item`` should never let one through; this is the second lock)."""

    takes_options = True
    accepts = frozenset({"revenue-posting"})
    header_fields = ("municipality_code", "revenue_date")
    sums = {"principal_total": "principal", "late_fee_total": "late_fee", "dunning_fee_total": "dunning_fee"}

    def __init__(self, options: dict[str, str] | None = None) -> None:
        from formats.layouts.payment_info import DEPARTMENT_TAX_ITEMS, DEPARTMENTS, PAYMENT_INFO

        self.layout = PAYMENT_INFO
        options = dict(options or {})
        department = options.get("department")
        if department not in DEPARTMENTS:
            raise ValueError(
                "renderer payment-info needs destination option department, one of "
                + ", ".join(f"{code} {name}" for code, name in DEPARTMENTS.items())
            )
        self.department = department
        listed = options.get("tax_items")
        self.tax_items = (
            frozenset(item.strip() for item in listed.split(",") if item.strip())
            if listed
            else DEPARTMENT_TAX_ITEMS[department]
        )
        super().__init__()

    def header_values(self, first: Any | None) -> dict[str, Any]:
        values = super().header_values(first)
        values["department"] = self.department
        if "revenue_date" not in values:
            assert self._meta is not None
            values["revenue_date"] = self._meta.created_on
        values.setdefault("municipality_code", "000000")
        return values

    def check(self, records: CanonicalBatch) -> None:
        for tax_item in records.column("tax_item"):
            if tax_item not in self.tax_items:
                raise ValueError(
                    f"科目 {tax_item} is not one of department {self.department}'s "
                    f"({', '.join(sorted(self.tax_items))}): check the routes' when.tax_item"
                )


class AddressRenderer(LayoutRenderer):
    """宛名 changes in the address layout (formats/layouts/address.toml). Option ``scope``: ``all``
    (default; the collection system addresses its notices, 送付先 included) or ``basic``
    (MICJET's 団体内統合宛名: 住民コード, 氏名, 生年月日, 性別, 住所 — the 送付先 fields are
    left blank: no data beyond the purpose)."""

    takes_options = True
    accepts = frozenset({"address-change"})
    header_fields = ("municipality_code", "extract_kind")
    sums = {"serial_total": "serial"}
    DELIVERY = ("delivery_postal_code", "delivery_address", "delivery_address_line2", "delivery_name")

    def __init__(self, options: dict[str, str] | None = None) -> None:
        from formats.registry import get_format

        self.layout = get_format("address")
        self.scope = (options or {}).get("scope", "all")
        if self.scope not in ("all", "basic"):
            raise ValueError("renderer address: option scope expected 'all' or 'basic'")
        super().__init__()

    def header_values(self, first: Any | None) -> dict[str, Any]:
        values = super().header_values(first)
        values.setdefault("extract_kind", "1")
        values.setdefault("municipality_code", "000000")
        return values

    def data_columns(self, records: CanonicalBatch) -> dict[str, list[Any]]:
        values = super().data_columns(records)
        if self.scope == "basic":
            values.update(dict.fromkeys(self.DELIVERY, [None] * len(records)))
        return values


class PublicFundAccountRenderer(LayoutRenderer):
    """公金受取口座 results for the collection system (refunds), in the public-fund-account
    layout (formats/layouts/micjet.py)."""

    accepts = frozenset({"public-fund-account"})
    header_fields = ("municipality_code", "inquiry_date")
    sums = {"serial_total": "serial"}

    def __init__(self) -> None:
        from formats.layouts.micjet import PUBLIC_FUND_ACCOUNT

        self.layout = PUBLIC_FUND_ACCOUNT
        super().__init__()


class NumberLinkageRenderer(LayoutRenderer):
    """Number-linkage records for the collection system, in the micjet-linkage layout
    (formats/layouts/micjet.py). Its output holds 個人番号: only a route with a legal basis may
    feed it (gateway/config/protection.py). One output, one 利用事務 (legal basis) in its header."""

    accepts = frozenset({"number-linkage"})
    writes_individual_numbers = frozenset({"individual_number"})
    header_fields = ("municipality_code", "legal_basis")
    sums = {"serial_total": "serial"}

    def __init__(self) -> None:
        from formats.layouts.micjet import MICJET_LINKAGE

        self.layout = MICJET_LINKAGE
        self.legal_basis: str | None = None
        super().__init__()

    def header_values(self, first: Any | None) -> dict[str, Any]:
        values = super().header_values(first)
        values.setdefault("municipality_code", "000000")
        self.legal_basis = values.get("legal_basis")
        return values

    def data_columns(self, records: CanonicalBatch) -> dict[str, list[Any]]:
        for record, legal_basis in zip(records.records, records.column("legal_basis"), strict=True):
            if legal_basis != self.legal_basis:
                raise ValueError(
                    f"records of one output must share one legal basis: the header names "
                    f"{self.legal_basis!r}, record {record} {legal_basis!r}"
                )
        values = super().data_columns(records)
        values.update(
            serial=list(range(self.records + 1, self.records + len(records) + 1)),
            my_number=values.pop("individual_number"),
        )
        return values
