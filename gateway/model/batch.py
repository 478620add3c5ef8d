"""Canonical records in columns: many records of one canonical model, a list of values per field.

The batch data path (gateway/datapath/batch.py) normalises, routes, posts and renders
records in batches of tens of thousands; a :class:`CanonicalBatch` holds them as columns,
never as one model object per record. The canonical models of gateway/model/records.py
stay the contract: :meth:`CanonicalBatch.checked` holds every column to its model field's
type and constraints (the same coercions pydantic makes; a value pydantic would refuse
raises the very ``ValidationError`` the model raises for that record), and
:meth:`CanonicalBatch.model_at` builds the model of one record where one is needed (an
edge: a renderer that takes models, a message naming one record).
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, cast

import annotated_types
import numpy as np
from pydantic import BaseModel, TypeAdapter
from pydantic.fields import FieldInfo

from gateway.model.records import BankAccount, SourceRef

__all__ = ["CanonicalBatch"]

_ACCOUNT = tuple(BankAccount.model_fields)


@dataclass
class CanonicalBatch:
    """Records of one canonical model: ``columns`` by model field (absent: the field's
    default), ``account`` the bank account's four columns when the records carry one, and
    where each record came from (one file and channel; record numbers and byte offsets)."""

    model: type[BaseModel]
    columns: dict[str, list[Any]]
    file_id: str
    channel: str
    records: list[int]
    offsets: list[int]
    account: dict[str, list[Any]] | None = None
    _defaults: dict[str, list[Any]] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def kind(self) -> str:
        """The record kind routes name (``when.record``): payment, assessment …"""
        return str(getattr(self.model, "record", "payment"))

    def column(self, name: str) -> list[Any]:
        """A model field's values (its default for every record when the batch has no column)."""
        if name in self.columns:
            return self.columns[name]
        if name not in self._defaults:
            info = self.model.model_fields[name]
            self._defaults[name] = [info.get_default(call_default_factory=True)] * len(self)
        return self._defaults[name]

    @classmethod
    def of(cls, records: Sequence[BaseModel]) -> CanonicalBatch:
        """The batch of some models of one kind (the record path hands renderers one at a time)."""
        model = type(records[0])
        fields = [name for name in model.model_fields if name not in ("source", "account")]
        columns = {name: [getattr(record, name) for record in records] for name in fields}
        account = None
        if "account" in model.model_fields:
            accounts = [getattr(record, "account", None) for record in records]
            account = {part: [getattr(held, part, None) for held in accounts] for part in _ACCOUNT}
        sources = [getattr(record, "source") for record in records]  # noqa: B009 - every canonical model has one
        return cls(
            model,
            columns,
            sources[0].file_id,
            sources[0].channel,
            [source.record for source in sources],
            [source.offset for source in sources],
            account,
        )

    def account_at(self, row: int) -> dict[str, Any] | None:
        """The bank account of one record (None when it carries none)."""
        if self.account is None:
            return None
        parts = {part: values[row] for part, values in self.account.items()}
        return None if all(value is None for value in parts.values()) else parts

    def source_at(self, row: int) -> SourceRef:
        return SourceRef(file_id=self.file_id, channel=self.channel, record=self.records[row], offset=self.offsets[row])

    def model_at(self, row: int) -> BaseModel:
        """The canonical model of one record (validated, as the record path builds it)."""
        values = {name: column[row] for name, column in self.columns.items()}
        if self.account is not None:
            values["account"] = self.account_at(row)
        return self.model(**values, source=self.source_at(row))

    def take(self, rows: np.ndarray) -> CanonicalBatch:
        """The records at ``rows`` (indices in order, or a boolean per record)."""
        if rows.dtype == bool:
            if rows.all():
                return self
            rows = np.flatnonzero(rows)
        picked = rows.tolist()

        def pick(values: list[Any]) -> list[Any]:
            return [values[row] for row in picked]

        return CanonicalBatch(
            self.model,
            {name: pick(values) for name, values in self.columns.items()},
            self.file_id,
            self.channel,
            pick(self.records),
            pick(self.offsets),
            {part: pick(values) for part, values in self.account.items()} if self.account is not None else None,
        )

    def checked(self) -> CanonicalBatch:
        """The batch with every column held to its model field (coerced as pydantic coerces);
        raises the model's ``ValidationError`` for the first record it refuses."""
        columns = {name: self._check(self.model.model_fields[name], values) for name, values in self.columns.items()}
        account = None
        if self.account is not None:
            account = {part: self._check(BankAccount.model_fields[part], self.account[part]) for part in _ACCOUNT}
        return CanonicalBatch(self.model, columns, self.file_id, self.channel, self.records, self.offsets, account)

    def _check(self, info: FieldInfo, values: list[Any]) -> list[Any]:
        check = _fast_check(info)
        if check is not None:
            try:
                bad = check(values)
            except TypeError:  # an unhashable value: pydantic decides, below
                bad = -1
            if bad is None:
                return values
            if bad >= 0:
                self.model_at(bad)  # raises the model's own error for that record
        adapter = _adapter(info)
        memo: dict[tuple[type, Any], Any] = {}
        out: list[Any] = []
        for row, value in enumerate(values):
            key = (type(value), value)
            try:
                out.append(memo[key])
                continue
            except KeyError:
                pass
            except TypeError:  # not hashable
                key = None  # type: ignore[assignment]
            try:
                checked = adapter.validate_python(value)
            except ValueError:
                self.model_at(row)  # raises the model's own error for that record
                raise
            if key is not None:
                memo[key] = checked
            out.append(checked)
        return out


def _plain(annotation: Any) -> tuple[Any, bool]:
    """(the annotation without ``None``, whether ``None`` is allowed)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        return (args[0] if len(args) == 1 else annotation), optional
    return annotation, False


def _fast_check(info: FieldInfo) -> Callable[[list[Any]], int | None] | None:
    """A check that needs no coercion for a field of a plain type (str, int, date, a Literal)
    with simple constraints: it answers the first row it refuses (or None). None when the field
    needs pydantic itself (then :func:`_adapter` validates each distinct value)."""
    annotation, optional = _plain(info.annotation)
    allowed: set[type] = {type(None)} if optional else set()
    # each test looks at the column's distinct values other than None
    tests: list[Callable[[set[Any]], bool]] = []
    for meta in info.metadata:
        test = _constraint(meta)
        if test is None:
            return None
        tests.append(test)
    if typing.get_origin(annotation) is typing.Literal:
        choices = set(typing.get_args(annotation)) | ({None} if optional else set())
        if not all(type(choice) is str for choice in choices - {None}):
            return None
        tests.append(choices.issuperset)
        allowed |= {str}
    elif annotation in (str, int, dt.date):
        allowed.add(annotation)
    else:
        return None

    def passes(values: list[Any]) -> bool:  # (a TypeError for an unhashable value: pydantic decides)
        if not set(map(type, values)) <= allowed:
            return False
        if not tests:
            return True
        distinct = set(values) - {None}
        return all(test(distinct) for test in tests)

    def check(values: list[Any]) -> int | None:
        if passes(values):
            return None
        return next(row for row, value in enumerate(values) if not passes([value]))

    return check


def _constraint(meta: Any) -> Callable[[set[Any]], bool] | None:
    """A test of the distinct values of a column for one constraint pydantic would check, if it is a simple one."""
    if isinstance(meta, annotated_types.MinLen):
        least = meta.min_length
        return lambda values: min(map(len, values), default=least) >= least
    if isinstance(meta, annotated_types.MaxLen):
        most = meta.max_length
        return lambda values: max(map(len, values), default=most) <= most
    if isinstance(meta, annotated_types.Ge):
        bound = meta.ge
        return lambda values: all(value >= bound for value in values)
    if isinstance(meta, annotated_types.Gt):
        above = meta.gt
        return lambda values: all(value > above for value in values)
    pattern = getattr(meta, "pattern", None)
    if isinstance(pattern, str) and len(vars(meta)) == 1:
        search = re.compile(pattern).search
        return lambda values: all(search(value) for value in values)
    return None


@cache
def _adapter_of(annotation: Any, metadata: tuple[Any, ...]) -> TypeAdapter[Any]:
    return TypeAdapter(typing.Annotated[annotation, *metadata] if metadata else annotation)


def _adapter(info: FieldInfo) -> TypeAdapter[Any]:
    return _adapter_of(cast(Any, info.annotation), tuple(info.metadata))
