"""Posting once: what the collection system has been told about each payment.

Every payment that carries a ``payment_key`` (the identity of one payment event:
barcode + 収納日時 + 店舗, 仕向センタ + 処理年月日 + 通番, 委託者 + 引落日 + 顧客番号 …)
is checked against the ``postings`` table of the ledger before it is routed:

============  ==========================  =======================================
arrives       already posted              then
============  ==========================  =======================================
不能 (failed)  nothing                      routed (a failed debit is reported once)
不能           anything                     not routed (DUPLICATE_POSTING)
============  ==========================  =======================================
速報 (prelim)  nothing                      routed as 速報; remembered
速報           速報 / 取消                    not routed (DUPLICATE_POSTING: a re-sent file)
速報           確報                          not routed (PRELIMINARY_AFTER_CONFIRMED)
確報 / paid    nothing / 速報 / cancelled    routed as 収納 — a 速報 then its 確報 reach
                                            the collection system as one confirmed payment
確報 / paid    確報                          not routed (DUPLICATE_POSTING): never twice
取消           速報                          routed as 取消; the 速報 is reversed
取消           nothing                       not routed (CANCEL_WITHOUT_PRELIMINARY)
取消           取消                          not routed (DUPLICATE_POSTING)
取消           確報                          not routed (CANCEL_AFTER_CONFIRMED)
============  ==========================  =======================================

調定 (assessments) and 収納情報 (revenue postings) have no payment states: each version
(調定履歴SEQ, 収入履歴SEQ of one notice and instalment) is sent once; the same one again —
a regenerated file — is not routed (ALREADY_SENT). A record that no route takes is not
remembered (it was sent nowhere).

An operator's forced reprocess (``gateway reprocess ID --force``) routes again what
would be refused as already posted, and flags each such record.

A confirmed payment whose notice (``Payment.notice_key``) was already paid under
another payment key — at a store and by direct debit, say — is routed (the money is
real) and flagged DOUBLE_PAYMENT: a refund candidate (二重納付 → 還付候補).

Decisions are taken while a file is routed and written to the ledger in the same
transaction that records its deliveries (:meth:`Ledger.plan_deliveries`), so they
survive restarts and a crash never leaves a posting without its output or the
reverse. A large file's decisions do not stay in memory: every ``spill_at`` of them go
to the ledger's ``postings_pending`` table (not posted yet, read back for the rest of the
file) and move into ``postings`` in that same transaction; a routing that starts again
forgets them first. What the ledger holds is read for a batch of records at once
(:meth:`PostingBook.prefetch`); what the file itself decided takes precedence. If another process posted the same key meanwhile, the ledger refuses the
plan (:class:`PostingConflictError`) and the file is routed again.

The batch data path decides a batch at once (:meth:`PostingBook.decide_batch`): one
set-based query reads what the ledger holds for the batch's keys and notices (and what the
file spilled, for the keys a filter of spilled keys may hold); a record whose key and notice
nothing else bears on is decided by its status alone, every other record by :meth:`decide`
in file order, by the same rules. The first decisions go to ``postings_new`` (no index), the
rest to ``postings_pending``; both move into ``postings`` with the deliveries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from formats.errors import Reason
from gateway.model.batch import CanonicalBatch
from gateway.model.records import (
    Payment,
    instalment_key,
    instalment_notice_key,
    instalment_posting_key,
    payment_notice_key,
)
from gateway.storage.ledger import PostingMatches, PostingRow

__all__ = ["Flag", "PostingBook", "PostingDecision"]


@dataclass(frozen=True, slots=True)
class Flag:
    """Something an operator must see about one record (a warning in the file's report)."""

    code: Reason
    record: int
    offset: int
    message: str


@dataclass(frozen=True, slots=True)
class PostingDecision:
    route: bool
    flags: tuple[Flag, ...] = ()
    row: PostingRow | None = None  # what to remember, when routed


# What a file's decisions are spilled to and read back from. Protocols rather than Callable
# types: mypy cannot check a lambda with a default argument (``lambda rows, file_id=…: …``, as
# pipeline.py passes) against a Callable type.
class _Spill(Protocol):
    def __call__(self, rows: list[PostingRow], /) -> None: ...


class _SpilledLookup(Protocol):
    def __call__(self, payment_key: str, /) -> PostingRow | None: ...


class _SpilledNoticeLookup(Protocol):
    def __call__(self, notice_key: str, /) -> list[PostingRow]: ...


class _Matches(Protocol):
    def __call__(
        self, payment_keys: list[str], notice_keys: list[str], spilled_keys: list[str], spilled_notices: list[str], /
    ) -> PostingMatches: ...


_Spilled = Callable[[list[tuple[str, str, str, int, int]]], None]


def _hashes(values: list[str]) -> np.ndarray:
    return np.fromiter(map(hash, values), dtype=np.int64, count=len(values))


@dataclass
class _Filter:
    """Which strings a file's routing has spilled: their hashes, one sorted array. A string it
    holds *may* have been spilled (hashes collide); one it does not hold was not."""

    hashes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def add(self, values: list[str]) -> None:
        if values:  # (a stable sort of int64 is a radix sort: linear)
            self.hashes = np.sort(np.concatenate([self.hashes, _hashes(values)]), kind="stable")

    def may_hold(self, values: list[str]) -> list[str]:
        if not len(self.hashes) or not values:
            return []
        wanted = _hashes(values)
        at = np.searchsorted(self.hashes, wanted).clip(max=len(self.hashes) - 1)
        held = self.hashes[at] == wanted
        return [value for value, hit in zip(values, held.tolist(), strict=True) if hit]


@dataclass
class PostingBook:
    """Decides, record by record, what reaches the collection system; remembers within the file.

    ``lookup`` reads what the ledger already holds for a payment key; ``notice_lookup``
    the confirmed payment keys of a notice.
    """

    lookup: Callable[[str], PostingRow | None]
    notice_lookup: Callable[[str], list[PostingRow]]
    file_id: str
    #: an operator's forced reprocess: what would be refused as already posted is routed again (and flagged)
    forced: bool = False
    #: where decisions go when ``spill_at`` are held (a large file's postings do not stay in memory),
    #: and how they are read back: the ledger's postings_pending table (Ledger.spill_postings …)
    spill: _Spill | None = None
    spilled_lookup: _SpilledLookup | None = None
    spilled_notice_lookup: _SpilledNoticeLookup | None = None
    spill_at: int = 20_000
    #: the batch path's spills, rows as (payment key, notice key, status, amount, record): the
    #: decisions of records decided one by one (postings_pending), and of those decided in bulk
    #: (postings_new); and what it has spilled (filters of keys, and of notices confirmed)
    spill_tuples: _Spilled | None = None
    spill_new: _Spilled | None = None
    spilled_keys: _Filter = field(default_factory=_Filter)
    spilled_notices: _Filter = field(default_factory=_Filter)
    #: what the ledger holds, read for a batch of records at once (Ledger.postings_by_key …)
    bulk_lookup: Callable[[list[str]], dict[str, PostingRow]] | None = None
    bulk_notice_lookup: Callable[[list[str]], dict[str, list[PostingRow]]] | None = None
    known: dict[str, PostingRow | None] = field(default_factory=dict)
    known_notices: dict[str, list[PostingRow]] = field(default_factory=dict)
    #: what the ledger holds and the file spilled, for a batch's keys at once (the batch path)
    matches: _Matches | None = None
    known_spilled: dict[str, PostingRow] | None = None
    known_spilled_notices: dict[str, list[PostingRow]] | None = None
    pending: dict[str, PostingRow] = field(default_factory=dict)
    pending_notices: dict[str, list[PostingRow]] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)
    spilled: bool = False

    def decide(self, payment: Any) -> PostingDecision:
        decision = self._decide(payment)
        if (
            self.forced
            and not decision.route
            and decision.flags[0].code in (Reason.DUPLICATE_POSTING, Reason.ALREADY_SENT)
        ):
            first = decision.flags[0]
            forced = Flag(first.code, first.record, first.offset, first.message + "; sent again: forced reprocess")
            if isinstance(payment, Payment):
                key, status = (
                    f"{payment.kind}:{payment.payment_key}",
                    _STATUS_POSTED.get(payment.status, payment.status),
                )
            else:
                key, status = payment.posting_key, "confirmed"
            decision = PostingDecision(True, (forced,), self._remember(key, payment, status).row)
        self.flags.extend(decision.flags)
        return decision

    def prefetch(self, records: list[Any]) -> None:
        """Read what the ledger holds for the keys and notices of the next records, at once.
        (What this file decides meanwhile is kept apart and takes precedence.)"""
        if self.bulk_lookup is None or self.bulk_notice_lookup is None:
            return
        keys = [key for key in map(_posting_key, records) if key is not None]
        self.known = dict.fromkeys(keys)
        self.known.update(self.bulk_lookup(keys))
        notices = [record.notice_key for record in records if isinstance(record, Payment)]
        self.known_notices = {notice: [] for notice in notices}
        self.known_notices.update(self.bulk_notice_lookup(notices))

    def _ledger(self, key: str) -> PostingRow | None:
        return self.known[key] if key in self.known else self.lookup(key)

    def _ledger_notice(self, notice: str) -> list[PostingRow]:
        if notice in self.known_notices:
            return self.known_notices[notice]
        return self.notice_lookup(notice)

    def _before(self, key: str) -> PostingRow | None:
        """What this file decided, or the ledger holds, for a key."""
        row = self.pending.get(key)
        if not row and self.spilled:
            if self.known_spilled is not None:  # read for the whole batch (decide_batch)
                row = self.known_spilled.get(key)
            else:
                assert self.spilled_lookup is not None  # given with spill (pipeline.py); spilled only after a spill
                row = self.spilled_lookup(key)
        return row or self._ledger(key)

    def _once(self, record: Any) -> PostingDecision:
        """Records with a ``posting_key`` but no payment states (調定, 収納情報): sent once."""
        key = getattr(record, "posting_key", None)
        if key is None:
            return PostingDecision(route=True)
        before = self._before(key)
        if before is not None:
            return PostingDecision(
                False,
                (
                    Flag(
                        Reason.ALREADY_SENT,
                        record.source.record,
                        record.source.offset,
                        f"already sent (file {before.file_id}, record {before.record})",
                    ),
                ),
            )
        return self._remember(key, record, "confirmed")

    def _decide(self, payment: Any) -> PostingDecision:
        if not isinstance(payment, Payment):
            return self._once(payment)
        if payment.payment_key is None:
            return PostingDecision(route=True)
        key = f"{payment.kind}:{payment.payment_key}"
        before = self._before(key)
        where = f"(file {before.file_id}, record {before.record})" if before else ""
        record, offset = payment.source.record, payment.source.offset

        def flag(code: Reason, message: str) -> Flag:
            return Flag(code, record, offset, message)

        if payment.status == "failed":  # a debit that did not happen: reported once, never again
            if before is not None:
                return PostingDecision(False, (flag(Reason.DUPLICATE_POSTING, f"already reported {where}"),))
            return self._remember(key, payment, "failed")
        if payment.status == "preliminary":
            if before is not None and before.status == "confirmed":
                return PostingDecision(
                    False, (flag(Reason.PRELIMINARY_AFTER_CONFIRMED, f"確報 already posted {where}"),)
                )
            if before is not None:  # the same 速報 again (or again after its 取消): a re-sent file
                return PostingDecision(False, (flag(Reason.DUPLICATE_POSTING, f"速報 already sent {where}"),))
            return self._remember(key, payment, "preliminary")
        if payment.status == "cancelled":
            if before is not None and before.status == "cancelled":
                return PostingDecision(False, (flag(Reason.DUPLICATE_POSTING, f"取消 already sent {where}"),))
            if before is None:
                return PostingDecision(
                    False, (flag(Reason.CANCEL_WITHOUT_PRELIMINARY, "no 速報 to cancel for this payment"),)
                )
            if before.status == "confirmed":
                return PostingDecision(False, (flag(Reason.CANCEL_AFTER_CONFIRMED, f"確報 posted {where}"),))
            return self._remember(key, payment, "cancelled")
        # paid / confirmed
        if before is not None and before.status == "confirmed":
            return PostingDecision(False, (flag(Reason.DUPLICATE_POSTING, f"already posted {where}"),))
        flags: tuple[Flag, ...] = ()
        spilled: list[PostingRow] = []
        if self.spilled and self.known_spilled_notices is not None:  # read for the whole batch (decide_batch)
            spilled = self.known_spilled_notices.get(payment.notice_key, [])
        elif self.spilled:
            assert self.spilled_notice_lookup is not None  # given with spill (pipeline.py); spilled only after a spill
            spilled = self.spilled_notice_lookup(payment.notice_key)
        others = [
            row
            for row in [
                *self.pending_notices.get(payment.notice_key, []),
                *spilled,
                *self._ledger_notice(payment.notice_key),
            ]
            if row.payment_key != key and row.status == "confirmed"
        ]
        if others:
            first = others[0]
            flags = (
                flag(
                    Reason.DOUBLE_PAYMENT,
                    f"notice {payment.notice_key} already paid (file {first.file_id}, record {first.record}, "
                    f"{first.amount} yen): refund candidate",
                ),
            )
        decision = self._remember(key, payment, "confirmed")
        return PostingDecision(True, flags, decision.row)

    def _remember(self, key: str, payment: Any, status: str) -> PostingDecision:
        row = PostingRow(key, payment.notice_key, status, payment.total, self.file_id, payment.source.record)
        self.pending[key] = row
        if status == "confirmed":
            self.pending_notices.setdefault(payment.notice_key, []).append(row)
        if self.spill is not None and len(self.pending) >= self.spill_at:
            self.spill(list(self.pending.values()))
            self.pending.clear()
            self.pending_notices.clear()
            self.spilled = True
        return PostingDecision(True, (), row)

    def rows(self) -> list[PostingRow]:
        """The decisions still in memory (those spilled are in the ledger already)."""
        return list(self.pending.values())

    # -- the batch data path ---------------------------------------------------
    def decide_batch(self, batch: CanonicalBatch, rows: np.ndarray) -> np.ndarray:
        """:meth:`decide` for the records ``rows`` of a batch (those routed somewhere), in order,
        with one set-based query for all of them (``matches``). Which of them go: a boolean per row.

        A record whose payment key and notice appear nowhere else — not in the ledger, not earlier
        in this file, not twice in this batch — is decided in bulk by its status alone (it is what
        nearly every record of a large file is). Every other record is decided one by one by
        :meth:`decide`, in file order, with what the ledger and the file hold for it read in that
        same query. The decisions of the batch are then spilled to the ledger (``postings_new``, ``postings_pending``),
        so the next batch's query sees them."""
        # given by the batch path (pipeline.py), which spills a batch at a time (``spill`` is None)
        assert self.matches is not None and self.spill_tuples is not None and self.spill_new is not None
        assert self.spill is None
        picked = rows.tolist()
        keys, notices, statuses, amounts = _posting_columns(batch, picked)
        payments = batch.model is Payment
        keyed = [key for key in keys if key is not None]
        notice_list = [notice for notice in notices if notice is not None] if payments else []
        found = self.matches(
            keyed, notice_list, self.spilled_keys.may_hold(keyed), self.spilled_notices.may_hold(notice_list)
        )
        # a record is decided one by one when anything else bears on it (the module's text)
        keys_before = {key for key, count in Counter(keyed).items() if count > 1}
        keys_before.update(found.by_key, found.pending_by_key)
        notices_before: set[str | None] = set()
        if payments:
            notices_before.update(notice for notice, count in Counter(notice_list).items() if count > 1)
            notices_before.update(found.pending_by_notice)
            notices_before.update(
                notice for notice, before in found.by_notice.items() if any(row.status == "confirmed" for row in before)
            )
        hard = [
            index
            for index, (key, notice) in enumerate(zip(keys, notices, strict=True))
            if key is not None and (key in keys_before or notice in notices_before)
        ]
        go = np.ones(len(picked), dtype=bool)
        records = batch.records
        if hard:
            hard_keys = [keys[index] for index in hard]
            self.known = {key: found.by_key.get(key) for key in hard_keys if key is not None}
            hard_notices = [notices[index] for index in hard]
            self.known_notices = {n: found.by_notice.get(n, []) for n in hard_notices if n is not None}
            self.known_spilled, self.known_spilled_notices = found.pending_by_key, found.pending_by_notice
            for index in hard:  # in file order; each decision stays in ``pending`` for the rest of the batch
                go[index] = self.decide(batch.model_at(picked[index])).route
            self.known_spilled = self.known_spilled_notices = None
        easy = np.ones(len(picked), dtype=bool)
        easy[hard] = False
        cancelled = [
            index for index, status in enumerate(statuses) if status == "cancelled" and easy[index] and keys[index]
        ]
        for index in cancelled:  # nothing before it: no 速報 to cancel
            go[index] = easy[index] = False
            source = batch.source_at(picked[index])
            self.flags.append(
                Flag(
                    Reason.CANCEL_WITHOUT_PRELIMINARY,
                    source.record,
                    source.offset,
                    "no 速報 to cancel for this payment",
                )
            )
        alone = [
            (key, notice, status, amount, records[row])
            for key, notice, status, amount, row, bulk in zip(
                keys, notices, statuses, amounts, picked, easy.tolist(), strict=True
            )
            if bulk and key is not None
        ]
        one_by_one = list(map(_as_tuple, self.pending.values()))
        self.pending.clear()
        self.pending_notices.clear()
        # the batch's decisions, for the next batches (not posted yet)
        for spill, rows_ in ((self.spill_new, alone), (self.spill_tuples, one_by_one)):
            if rows_:
                spill(rows_)
                self.spilled = True
                self.spilled_keys.add([row[0] for row in rows_])
                self.spilled_notices.add([row[1] for row in rows_ if row[2] == "confirmed"])
        return go


def _posting_key(record: Any) -> str | None:
    """The key a record is posted under: a payment's kind and payment key, else its ``posting_key``."""
    if isinstance(record, Payment):
        return payment_posting_key(record.kind, record.payment_key)
    return getattr(record, "posting_key", None)


def payment_posting_key(kind: str, payment_key: str | None) -> str | None:
    """A payment's posting key: its kind and payment key (none when it has no payment key)."""
    return None if payment_key is None else f"{kind}:{payment_key}"


#: a payment's status as the posting book remembers it
_STATUS_POSTED = {"paid": "confirmed"}


def _as_tuple(row: PostingRow) -> tuple[str, str, str, int, int]:
    return (row.payment_key, row.notice_key, row.status, row.amount, row.record)


def _posting_columns(
    batch: CanonicalBatch, rows: list[int]
) -> tuple[list[str | None], list[str | None], list[str], list[int]]:
    """For the records ``rows``: posting key, notice key, the status remembered, amount (total).

    The same values :meth:`PostingBook.decide` takes from each model (``_posting_key``,
    ``notice_key``, the status as posted, ``total``), from columns."""
    model = batch.model

    def col(name: str) -> list[Any]:
        values = batch.column(name)
        return [values[row] for row in rows]

    totals = [sum(parts) for parts in zip(*(col(name) for name in getattr(model, "total_fields", ())), strict=True)]
    if model is Payment:
        keys = [payment_posting_key(kind, key) for kind, key in zip(col("kind"), col("payment_key"), strict=True)]
        notices: list[str | None] = [
            payment_notice_key(number, reconciliation)
            for number, reconciliation in zip(col("notice_number"), col("reconciliation_key"), strict=True)
        ]
        statuses = [_STATUS_POSTED.get(status, status) for status in col("status")]
        return keys, notices, statuses, totals
    seq = getattr(model, "posting_seq", None)
    if seq is None:  # a record with no posting key: routed, nothing remembered
        return [None] * len(rows), [None] * len(rows), ["confirmed"] * len(rows), totals or [0] * len(rows)
    record = model.record  # type: ignore[attr-defined]  # every model with a posting_seq has one
    parts = [col(name) for name in ("municipality_code", "notice_number", "tax_item", "fiscal_year", "instalment")]
    instalments = [instalment_key(*values) for values in zip(*parts, strict=True)]
    keys = [instalment_posting_key(record, key, number) for key, number in zip(instalments, col(seq), strict=True)]
    notices = [instalment_notice_key(record, number) for number in col("notice_number")]
    return list(keys), notices, ["confirmed"] * len(rows), totals
