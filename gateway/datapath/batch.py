"""The batch data path: a validated file's accepted records normalised, routed, posted and
rendered in batches of columns, never one Python object per record.

The file is read in blocks of tens of thousands of records (formats/columns.py
``read_blocks``: one ``(n, record_length)`` array a block). Within a block, each group's
accepted data records are one batch:

1. **decode** — the fields the normaliser reads, a column at a time (``Columns``);
2. **normalise** — the format's normaliser builds a :class:`~gateway.model.batch.CanonicalBatch`
   (columns of the canonical model's fields, held to the model's types and constraints);
3. **route** — each route condition is one predicate over the columns
   (:meth:`Router.destinations_batch`); a record no route takes is flagged ``NOT_ROUTED``;
4. **post** — the posting book decides the routed records with one set-based query against
   the ledger (:meth:`PostingBook.decide_batch`: 速報/確報/取消, DOUBLE_PAYMENT, forced
   reprocess), and spills the batch's decisions to the ledger;
5. **guard and render** — the individual-number guard checks each route→destination pair
   once a batch; each destination's renderer encodes its rows a column at a time and the
   staged output gets one write a batch.

The record path (``Pipeline(path="record")``: :meth:`Pipeline._route`) does the same one record
at a time; both give the same outputs, reports and ledger rows
(tests/integration/test_batch_differential.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from adapters.specs import normaliser_for
from formats.columns import BLOCK_RECORDS, Block, Columns, read_blocks
from formats.errors import Reason
from formats.fastpath import BlockChecker
from formats.framing import Frame
from formats.layout import FileLayout
from formats.reader import RecordReader
from formats.validator import ValidationResult
from gateway.config.protection import FlowGuard
from gateway.datapath.posting import Flag, PostingBook
from gateway.datapath.routing import Router
from gateway.model.batch import CanonicalBatch
from gateway.model.normalise import BatchSource, GroupContext, Normaliser

__all__ = ["BatchSinks", "BatchStaging", "route_batches"]


class BatchStaging(Protocol):
    def add_batch(self, destination: str, batch: CanonicalBatch, rows: np.ndarray) -> None: ...


class _Unrouted(Protocol):
    def __call__(self, record: Any) -> str: ...


@dataclass
class BatchSinks:
    """Where a file's batches go: the router, the individual-number guard, the staged outputs,
    the posting book, and how a record no route takes is flagged (its message, how many are listed)."""

    router: Router
    guard: FlowGuard
    staging: BatchStaging
    book: PostingBook
    unrouted_message: _Unrouted
    max_unrouted_flags: int


def route_batches(
    path: Path,
    *,
    file_id: str,
    channel: str,
    layout: FileLayout,
    result: ValidationResult,
    received_on: dt.date,
    strict: bool,
    sinks: BatchSinks,
    block_records: int = BLOCK_RECORDS,
) -> int:
    """Normalise, route, post and render the accepted data records of a validated file; the
    number of records sent somewhere."""
    normaliser = normaliser_for(layout, received_on)
    if normaliser is None or result.accepted == 0:
        return 0
    # records the validation refused; when not all were listed, each record is checked again
    refused = np.array(sorted({issue.record for issue in result.errors if issue.record is not None}), dtype=np.int64)
    data_type = layout.type_of("data")
    header_type = layout.type_of("header")[0]
    data_layout = layout.records[data_type][1]
    recheck = BlockChecker(data_layout, strict) if result.dropped_errors > 0 else None
    kinds = [group.kind for group in result.groups]
    route = _Batches(file_id, channel, data_layout, normaliser, sinks)
    group_index = -1
    header: dict[str, Any] = {}
    with path.open("rb") as stream:
        reader = RecordReader(stream, layout, strict=strict)  # headers, and records checked again
        for block in read_blocks(path, layout, result.separator, block_records):
            types = block.records[:, layout.type_offset]
            data = (types == data_type[0]) & ~np.isin(block.numbers, refused)
            heads = np.flatnonzero(types == header_type).tolist()
            starts = heads if heads and heads[0] == 0 else [0, *heads]  # each group's part of the block
            for start, stop in zip(starts, [*starts[1:], len(block)], strict=True):
                if start in heads:
                    group_index += 1
                    header = dict(reader.read_frame(_frame(block, start)).values)
                    start += 1
                if group_index < 0 or start >= stop:
                    continue
                rows = start + np.flatnonzero(data[start:stop])
                if recheck is not None:
                    rows = _checked_again(block, rows, recheck, reader)
                if len(rows):
                    route(block, rows, GroupContext(header, kinds[group_index]))
    return route.sent


def _frame(block: Block, row: int) -> Frame:
    return Frame(int(block.numbers[row]), int(block.offsets[row]), block.raw(row))


def _checked_again(block: Block, rows: np.ndarray, checker: BlockChecker, reader: RecordReader) -> np.ndarray:
    """The rows that pass validation (when more errors were found than listed): in bulk where the
    vector check can say, record by record where it cannot."""
    checked = checker.check(block.records[rows])
    ok = checked[0] if checked is not None else np.zeros(len(rows), dtype=bool)
    for index in np.flatnonzero(~ok).tolist():
        ok[index] = reader.read_frame(_frame(block, int(rows[index]))).ok
    kept: np.ndarray = rows[ok]
    return kept


class _Batches:
    """Normalise → route → post → guard → render, a batch at a time (the module's text)."""

    def __init__(self, file_id: str, channel: str, data_layout: Any, normaliser: Normaliser, sinks: BatchSinks) -> None:
        self.file_id, self.channel, self.data_layout, self.normaliser = file_id, channel, data_layout, normaliser
        self.router, self.guard, self.staging, self.book = sinks.router, sinks.guard, sinks.staging, sinks.book
        self.unrouted_message, self.max_unrouted_flags = sinks.unrouted_message, sinks.max_unrouted_flags
        self.unrouted = 0
        self.sent = 0

    def __call__(self, block: Block, rows: np.ndarray, group: GroupContext) -> None:
        columns = Columns(self.data_layout, block.records[rows])
        source = BatchSource(self.file_id, self.channel, block.numbers[rows].tolist(), block.offsets[rows].tolist())
        batch = self.normaliser.normalise_batch(columns, group, source)
        if batch is None or not len(batch):
            return
        targets = self.router.destinations_batch(batch)
        anywhere = np.zeros(len(batch), dtype=bool)
        for _, _, taken in targets:
            anywhere |= taken
        self._flag_unrouted(batch, np.flatnonzero(~anywhere))
        routed = np.flatnonzero(anywhere)
        if not len(routed):
            return
        send = np.zeros(len(batch), dtype=bool)
        send[routed[self.book.decide_batch(batch, routed)]] = True
        for route, destination, taken in targets:
            rows = taken & send
            if rows.any():
                self.guard.check_batch(batch, rows, route, destination)  # 個人番号 only where cleared
                self.staging.add_batch(destination, batch, rows)
        self.sent += int(send.sum())

    def _flag_unrouted(self, batch: CanonicalBatch, rows: np.ndarray) -> None:
        """A good record that goes nowhere: the operator must know (and nothing is posted)."""
        for row in rows.tolist():
            if self.unrouted >= self.max_unrouted_flags:
                return
            self.unrouted += 1
            source = batch.source_at(row)
            self.book.flags.append(
                Flag(Reason.NOT_ROUTED, source.record, source.offset, self.unrouted_message(batch.model_at(row)))
            )
