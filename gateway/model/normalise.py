"""Normalisers: good records of a format → canonical :class:`~gateway.model.records.Payment`.

One normaliser a format family. It sees each accepted data record with its group's
header and the group's kind (request or result, from validation), and returns the
canonical model, or ``None`` when the record is not a payment (a debit *request* is
an instruction to the bank, not money).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

from pydantic import BaseModel, ConfigDict, ValidationError

from formats.layout import FileLayout
from formats.layouts.zengin.common import RESULT_CODES
from gateway.model.batch import CanonicalBatch
from gateway.model.records import (
    AddressChange,
    Assessment,
    Canonical,
    Payment,
    PaymentKind,
    PaymentStatus,
    PublicFundAccount,
    RevenuePosting,
    SourceRef,
)

__all__ = [
    "BatchSource",
    "CanonicalMapping",
    "DebitResultNormaliser",
    "InterSystemNormaliser",
    "MappedNormaliser",
    "RecordMapping",
    "check_canonical",
    "record_mapping",
    "Normaliser",
    "canonical_mapping",
    "implied_date",
]


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


@dataclass(frozen=True)
class BatchSource:
    """Where the records of a batch came from: one file and channel, each record's number and offset."""

    file_id: str
    channel: str
    records: list[int]
    offsets: list[int]

    def __len__(self) -> int:
        return len(self.records)


class Normaliser(Protocol):
    def normalise(
        self, values: Mapping[str, Any], group: GroupContext, source: SourceRef | Mapping[str, Any]
    ) -> Canonical | None: ...

    def normalise_batch(
        self, columns: Mapping[str, list[Any]], group: GroupContext, source: BatchSource
    ) -> CanonicalBatch | None:
        """:meth:`normalise` for many records of one group at once, in columns (the batch data path):
        the same canonical records, or None when the group's records are not canonical records."""
        ...


def _batch(
    model: type[BaseModel],
    columns: dict[str, list[Any]],
    source: BatchSource,
    account: dict[str, list[Any]] | None = None,
) -> CanonicalBatch:
    """The canonical batch of ``columns``, held to the model (the model's error for a record it refuses)."""
    batch = CanonicalBatch(model, columns, source.file_id, source.channel, source.records, source.offsets, account)
    return batch.checked()


def _memo(function: Any) -> Any:
    """``function`` over a column, computed once per distinct value."""

    def over(values: list[Any]) -> list[Any]:
        memo: dict[Any, Any] = {}
        out = []
        for value in values:
            if value not in memo:
                memo[value] = function(value)
            out.append(memo[value])
        return out

    return over


class DebitResultNormaliser:
    """全銀 91 result records → payments: 振替済 (code 0) paid, any other code failed.

    The 顧客番号 is the 消込特定キー; the 領収日 is the header's 引落日 in the year it
    implies relative to the day the file was received.
    """

    def __init__(self, received_on: dt.date) -> None:
        self.received_on = received_on
        self._dates: dict[str, dt.date] = {}

    def _debit_date(self, group: GroupContext) -> dt.date:
        mmdd = group.header["debit_date"]
        if mmdd not in self._dates:
            self._dates[mmdd] = implied_date(mmdd, self.received_on, direction="past")
        return self._dates[mmdd]

    @staticmethod
    def _payment_key(group: GroupContext, debit_date: dt.date, customer_number: Any) -> str:
        """One debit: the consignor, the day and the customer number (a re-sent file posts nothing twice)."""
        return f"{group.header['consignor_code']}:{debit_date.isoformat()}:{customer_number}"

    @staticmethod
    def _status(code: Any) -> str:
        return "paid" if code == "0" else "failed"

    @staticmethod
    def _meaning(code: Any) -> str:
        return RESULT_CODES.get(code or "", f"未定義の結果コード {code}")

    def normalise(
        self, values: Mapping[str, Any], group: GroupContext, source: SourceRef | Mapping[str, Any]
    ) -> Payment | None:
        if group.kind != "result":
            return None
        code = values.get("result_code")
        debit_date = self._debit_date(group)
        return Payment(
            kind="direct-debit",
            status=self._status(code),
            reconciliation_key=values["customer_number"],
            payment_key=self._payment_key(group, debit_date, values["customer_number"]),
            principal=values["amount"],
            receipt_date=debit_date,
            result_code=code,
            result_meaning=self._meaning(code),
            account={part: values[field] for part, field in self.ACCOUNT.items()},
            source=source,
        )

    #: the bank account's parts, from the data record's fields
    ACCOUNT = {
        "bank_code": "bank_code",
        "branch_code": "branch_code",
        "account_type": "account_type",
        "number": "account_number",
    }

    def normalise_batch(
        self, columns: Mapping[str, list[Any]], group: GroupContext, source: BatchSource
    ) -> CanonicalBatch | None:
        if group.kind != "result":
            return None
        rows = len(source)
        codes = columns["result_code"] if "result_code" in columns else [None] * rows
        debit_date = self._debit_date(group)
        prefix = self._payment_key(group, debit_date, "")
        customers = columns["customer_number"]
        return _batch(
            Payment,
            {
                "kind": ["direct-debit"] * rows,
                "status": _memo(self._status)(codes),
                "reconciliation_key": customers,
                "payment_key": [f"{prefix}{customer}" for customer in customers],
                "principal": columns["amount"],
                "receipt_date": [debit_date] * rows,
                "result_code": codes,
                "result_meaning": _memo(self._meaning)(codes),
            },
            source,
            {part: columns[field] for part, field in self.ACCOUNT.items()},
        )


class CanonicalMapping(BaseModel):
    """A layout file's ``[canonical]`` table: which fields make the canonical payment.

    A *source* is a field name (``"amount"``), a field decoded by a codec and one of its
    parts (``"barcode.customer_reference"``), or a constant (``"=01"``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: PaymentKind
    status: PaymentStatus | StatusFromField
    reconciliation_key: str
    payment_key: list[str] | None = None
    principal: str
    late_fee: str | None = None
    dunning_fee: str | None = None
    receipt_date: str | None = None
    revenue_date: str | None = None
    notice_number: str | None = None
    tax_item: str | None = None
    fiscal_year: str | None = None
    instalment: str | None = None
    resident_code: str | None = None
    result_code: str | None = None
    codecs: dict[str, Literal["cvs-barcode", "ocr", "elqr"]] = {}


class MappedNormaliser:
    """Records of a layout described in a file → payments, as its ``[canonical]`` table says."""

    def __init__(self, mapping: CanonicalMapping) -> None:
        self.mapping = mapping

    def _codec(self, name: str, value: Any) -> Mapping[str, Any]:
        from formats.codecs import DECODERS, first_error

        result = DECODERS[self.mapping.codecs[name]](str(value))
        if not result.valid:
            raise ValueError(f"{name}: {first_error(result).message}")
        return result.fields

    def _get(self, source: str | None, values: Mapping[str, Any], decoded: dict[str, Mapping[str, Any]]) -> Any:
        if source is None:
            return None
        if source.startswith("="):
            return source[1:]
        field, _, part = source.partition(".")
        if field not in values:
            raise KeyError(f"[canonical] names {field!r}, which is not a field of the data record")
        if not part:
            return values[field]
        if field not in decoded:
            decoded[field] = self._codec(field, values[field])
        return decoded[field][part]

    def normalise(
        self, values: Mapping[str, Any], group: GroupContext, source: SourceRef | Mapping[str, Any]
    ) -> Payment | None:
        m = self.mapping
        decoded: dict[str, Mapping[str, Any]] = {}
        get = lambda name: self._get(name, values, decoded)  # noqa: E731
        if isinstance(m.status, StatusFromField):
            status = m.status.map[str(values[m.status.field])]
        else:
            status = m.status
        key = None
        if m.payment_key:
            key = ":".join(str(get(part)) for part in m.payment_key)
        return Payment(
            kind=m.kind,
            status=status,
            reconciliation_key=str(get(m.reconciliation_key)),
            payment_key=key,
            principal=get(m.principal),
            late_fee=get(m.late_fee) or 0,
            dunning_fee=get(m.dunning_fee) or 0,
            receipt_date=_date(get(m.receipt_date)),
            revenue_date=_date(get(m.revenue_date)),
            notice_number=_text(get(m.notice_number)),
            tax_item=_text(get(m.tax_item)),
            fiscal_year=get(m.fiscal_year),
            instalment=_text(get(m.instalment)),
            resident_code=_text(get(m.resident_code)),
            result_code=_text(get(m.result_code)),
            source=source,
        )

    def normalise_batch(
        self, columns: Mapping[str, list[Any]], group: GroupContext, source: BatchSource
    ) -> CanonicalBatch:
        m = self.mapping
        rows = len(source)
        decoded: dict[str, list[Mapping[str, Any]]] = {}

        def get(name: str | None) -> list[Any]:
            if name is None:
                return [None] * rows
            if name.startswith("="):
                return [name[1:]] * rows
            field, _, part = name.partition(".")
            if field not in columns:
                raise KeyError(f"[canonical] names {field!r}, which is not a field of the data record")
            if not part:
                return columns[field]
            if field not in decoded:
                decoded[field] = _memo(lambda value, field=field: self._codec(field, value))(columns[field])
            return [fields[part] for fields in decoded[field]]

        if isinstance(m.status, StatusFromField):
            status = _memo(lambda value, to=m.status.map: to[str(value)])(columns[m.status.field])
        else:
            status = [m.status] * rows
        data: dict[str, list[Any]] = {"kind": [m.kind] * rows, "status": status}
        if m.payment_key:
            parts = [get(part) for part in m.payment_key]
            data["payment_key"] = [":".join(map(str, values)) for values in zip(*parts, strict=True)]
        data.update(
            reconciliation_key=[str(value) for value in get(m.reconciliation_key)],
            principal=get(m.principal),
            late_fee=[value or 0 for value in get(m.late_fee)],
            dunning_fee=[value or 0 for value in get(m.dunning_fee)],
            receipt_date=_memo(_date)(get(m.receipt_date)),
            revenue_date=_memo(_date)(get(m.revenue_date)),
            notice_number=[_text(value) for value in get(m.notice_number)],
            tax_item=[_text(value) for value in get(m.tax_item)],
            fiscal_year=get(m.fiscal_year),
            instalment=[_text(value) for value in get(m.instalment)],
            resident_code=[_text(value) for value in get(m.resident_code)],
            result_code=[_text(value) for value in get(m.result_code)],
        )
        return _batch(Payment, data, source)


class StatusFromField(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str
    map: dict[str, PaymentStatus]


CanonicalMapping.model_rebuild()


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    text = str(value)
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8])) if len(text) == 8 and text.isdigit() else None


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


class InterSystemNormaliser:
    """Records of an inter-system layout → their canonical model, field for field.

    The layouts of formats/layouts/levy-assessment.toml, address.toml, payment_info.py and micjet.py
    name their fields after the canonical models, so a record's values are the model's; ``from_header``
    adds fields the group's header carries (e.g. a levy file's 送信元システム), and
    ``renames`` reads a model field from a data field of another name (a city's layout file).
    """

    OPTIONAL_TEXT = (
        "change_reason",
        "delivery_address",
        "delivery_address_line2",
        "delivery_name",
        "address_line2",
        "sex",
        "postal_code",
        "delivery_postal_code",
    )
    ACCOUNT = {
        "bank_code": "bank_code",
        "branch_code": "branch_code",
        "account_type": "account_type",
        "number": "account_number",
    }

    def __init__(
        self, model: type[BaseModel], from_header: Mapping[str, str] = {}, renames: Mapping[str, str] = {}
    ) -> None:
        self.model = model
        self.from_header = dict(from_header)
        self.sources = {
            name: renames.get(name, name)
            for name in model.model_fields
            if name not in ("source", "account", *from_header)
        }
        self.account = (
            {part: renames.get(field, field) for part, field in self.ACCOUNT.items()}
            if "account" in model.model_fields
            else None
        )

    def normalise(
        self, values: Mapping[str, Any], group: GroupContext, source: SourceRef | Mapping[str, Any]
    ) -> Canonical:
        data: dict[str, Any] = {name: values[field] for name, field in self.sources.items() if field in values}
        data.update({name: group.header[field] for name, field in self.from_header.items()})
        for name in self.OPTIONAL_TEXT:
            if name in data and data[name] == "":
                data[name] = None
        if self.account is not None:
            data["account"] = {part: values[field] for part, field in self.account.items()}
        return cast(Canonical, self.model(**data, source=source))  # every model of the tables has a source

    def normalise_batch(
        self, columns: Mapping[str, list[Any]], group: GroupContext, source: BatchSource
    ) -> CanonicalBatch:
        rows = len(source)
        data = {name: columns[field] for name, field in self.sources.items() if field in columns}
        data.update({name: [group.header[field]] * rows for name, field in self.from_header.items()})
        for name in self.OPTIONAL_TEXT:
            if name in data:
                data[name] = [None if value == "" else value for value in data[name]]
        account = None
        if self.account is not None:
            account = {part: columns[field] for part, field in self.account.items()}
        return _batch(self.model, data, source, account)


#: The canonical records a layout file's ``[canonical] record = …`` may name.
MAPPABLE_RECORDS: dict[str, type[BaseModel]] = {
    "assessment": Assessment,
    "revenue-posting": RevenuePosting,
    "address-change": AddressChange,
    "public-fund-account": PublicFundAccount,
}


class RecordMapping(BaseModel):
    """A layout file's ``[canonical]`` table for an inter-system record (a city's variant of
    the levy, 収納情報, address or 公金受取口座 layout): which canonical record its data records
    become, and where the model's fields are when the layout names them otherwise."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    record: Literal["assessment", "revenue-posting", "address-change", "public-fund-account"]
    fields: dict[str, str] = {}  # model field → data field of another name
    header: dict[str, str] = {}  # model field → header field


def record_mapping(layout: FileLayout) -> RecordMapping:
    """The layout's ``[canonical]`` table for an inter-system record, checked: every field the
    canonical record requires comes from a data field (same name, or renamed) or a header field."""
    try:
        mapping = RecordMapping.model_validate(layout.canonical)
    except ValidationError as error:
        raise ValueError(f"layout {layout.id}: [canonical] is not valid: {error}") from None
    model = MAPPABLE_RECORDS[mapping.record]
    data = layout.layout_for("data").by_name
    header = layout.layout_for("header").by_name
    for name, field in mapping.header.items():
        if field not in header:
            raise ValueError(
                f"layout {layout.id}: [canonical] header.{name} = {field!r}, which is not a field of "
                f"the header record ({', '.join(header)})"
            )
    wanted = {name: info.is_required() for name, info in model.model_fields.items() if name != "source"}
    if wanted.pop("account", None) is not None:
        wanted.update(dict.fromkeys(InterSystemNormaliser.ACCOUNT.values(), True))
    for name, required in wanted.items():
        if name in mapping.header:
            continue
        field = mapping.fields.get(name, name)
        if field not in data and (required or name in mapping.fields):
            raise ValueError(
                f"layout {layout.id}: [canonical] record = {mapping.record!r} needs {name!r}: expected "
                f'a data field of that name, fields.{name} = "<data field>" or header.{name} = '
                f'"<header field>" (data fields: {", ".join(data)})'
            )
    return mapping


def check_canonical(layout: FileLayout) -> None:
    """Check a layout file's ``[canonical]`` table at start (a payment or an inter-system record)."""
    if layout.canonical is None:
        return
    if "record" in layout.canonical:
        record_mapping(layout)
    else:
        canonical_mapping(layout)


def canonical_mapping(layout: FileLayout) -> CanonicalMapping:
    """The layout's ``[canonical]`` table, checked against its data record's fields."""
    try:
        mapping = CanonicalMapping.model_validate(layout.canonical)
    except ValidationError as error:
        raise ValueError(f"layout {layout.id}: [canonical] is not valid: {error}") from None
    fields = layout.layout_for("data").by_name
    sources = [
        mapping.reconciliation_key,
        mapping.principal,
        *(mapping.payment_key or []),
        *(
            getattr(mapping, name)
            for name in (
                "late_fee",
                "dunning_fee",
                "receipt_date",
                "revenue_date",
                "notice_number",
                "tax_item",
                "fiscal_year",
                "instalment",
                "resident_code",
                "result_code",
            )
        ),
    ]
    if isinstance(mapping.status, StatusFromField):
        sources.append(mapping.status.field)
    for source in sources:
        if source is None or source.startswith("="):
            continue
        field, _, part = source.partition(".")
        if field not in fields:
            raise ValueError(
                f"layout {layout.id}: [canonical] names {field!r}, which is not a field of the "
                f"data record ({', '.join(fields)})"
            )
        if part and field not in mapping.codecs:
            raise ValueError(
                f"layout {layout.id}: [canonical] reads {source!r} but {field!r} has no codec in [canonical] codecs"
            )
    return mapping
