"""Differential testing of the pipeline's two data paths: the same files through ``path="batch"``
and ``path="record"`` (the reference), each in a fresh spool, compared after every step.

A :class:`SpoolPair` holds two spools that differ only in ``Pipeline.path``: the same default
settings, the same received dates (every claimed file's ``received_at`` is set to the same
instant on both sides, one millisecond apart per file so that "earliest" keeps its meaning) and
the same clock for the outputs' 作成日 (``dt`` of the data-path modules frozen at one instant).
File ids differ between the spools; every id is replaced by a placeholder named after the
order the file was claimed in (``<file1>``, ``<file2>`` …), so references between files (a
duplicate's earlier file, a DOUBLE_PAYMENT's first payment) must name the *same* file on both
sides. Spool paths become ``<spool>``; the SHA-256 of each delivered output (which covers the id
the output carries) becomes ``<sha:fileN:destination>`` once checked against the bytes on disk.

:meth:`SpoolPair.assert_same` takes a :class:`Snapshot` of each spool and compares, field by
field: every outcome's state and status, the spool's folders (file names), the delivered
outputs' bytes per destination, the JSON report (parsed), the CSV and HTML reports (bytes), the
ledger's files rows, deliveries, postings (payment key, notice key, status, amount, file,
record), pending postings, and each file's posting flags (code, record, message). A difference
is reported as the first part that differs, with a diff of the two values.

Speed (hypothesis runs hundreds of pairs): by default a pair is not durable (no fsync, the
ledger's commits unsynced, each ledger copied from an empty one made once), and a folder that
held an earlier pair is emptied and used again rather than made anew. None of it changes a byte
the data paths write.

:func:`debit_91_file` and :func:`cvs_file` build the files the sequences and generated examples
feed the pair: 全銀 91 groups with defects written into the record bytes, and cvs 速報/確報/取消.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import hashlib
import json
import os
import pprint
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from gateway.config.settings import Settings, load_settings
from gateway.datapath.pipeline import Outcome, Pipeline
from gateway.storage.ledger import Ledger
from spool.layout import SpoolLayout
from spool.scanner import Arrival

__all__ = [
    "DEBIT_DEFECTS",
    "PATHS",
    "Debit",
    "DebitGroup",
    "Snapshot",
    "Spool",
    "SpoolPair",
    "StorePayment",
    "StoreRecord",
    "assert_same_snapshots",
    "cvs_file",
    "debit_91_file",
    "default_settings",
    "frozen_clock",
]

#: the data path under test first, then the reference
PATHS = ("batch", "record")

#: ``.tmp-<final name>.<pid>.<random>`` (spool.atomic.temp_path)
_TEMP_SUFFIX = re.compile(r"(\.tmp-[^/\"]*?)\.\d+\.[0-9a-f]+(?=$|[/\"\s])")

#: the ledger's files columns compared (timestamps of the run itself and the owner token left out)
_FILE_COLUMNS = (
    "channel",
    "original_name",
    "inbox_path",
    "work_path",
    "size",
    "sha256",
    "state",
    "status",
    "format",
    "records",
    "accepted",
    "rejected_records",
    "final_path",
    "report_json",
    "report_csv",
    "report_html",
    "reason",
    "duplicate_of",
    "forced",
    "reprocess_of",
    "owner",
    "received_at",
)


# ---------------------------------------------------------------- the clock


def _frozen_module(instant: dt.datetime) -> Any:
    """A stand-in for the ``datetime`` module whose ``datetime.now()`` is ``instant``."""

    class FrozenDatetime(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> FrozenDatetime:  # type: ignore[override]
            return cls.fromtimestamp(instant.timestamp(), tz)  # naive local time without tz, as now()

    shim = ModuleType("datetime")
    shim.__dict__.update({name: getattr(dt, name) for name in dir(dt) if not name.startswith("__")})
    shim.datetime = FrozenDatetime  # type: ignore[attr-defined]
    return shim


@contextmanager
def frozen_clock(instant: dt.datetime) -> Iterator[None]:
    """``dt.datetime.now()`` of the data-path modules (gateway.datapath.*, retention aside) is ``instant``:
    the outputs' 作成日 (OutputMeta.created_on) and the alerts' dates are the same on both sides."""
    shim = _frozen_module(instant)
    with pytest.MonkeyPatch.context() as patch:
        for name, module in list(sys.modules.items()):
            if (
                name.startswith("gateway.datapath")
                and name != "gateway.datapath.retention"
                and getattr(module, "dt", None) is dt
            ):
                patch.setattr(module, "dt", shim)
        yield


# ---------------------------------------------------------------- one spool


@dataclass
class Spool:
    """One fresh spool with its ledger and a pipeline on one data path."""

    path: str
    root: Path
    settings: Settings
    ledger: Ledger
    pipeline: Pipeline
    received: dt.datetime
    #: file ids in the order they were claimed (placeholder n+1 for ids[n])
    ids: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    #: what :meth:`normalise_text` replaces, worked out once a snapshot
    _pairs: list[tuple[str, str]] | None = None

    def _claimed(self, file_id: str) -> None:
        """Record the id and give the file the pair's received instant for its place in the sequence."""
        received = self.received + dt.timedelta(milliseconds=len(self.ids))
        self.ids.append(file_id)
        self.ledger.update(file_id, received_at=received.astimezone(dt.UTC).isoformat(timespec="milliseconds"))

    def ingest(self, channel: str, name: str, content: bytes) -> Outcome:
        """Drop ``content`` into the channel's inbox as ``name``, claim it and process it."""
        inbox = self.pipeline.spool.inbox(channel) / name
        inbox.write_bytes(content)
        stat = inbox.stat()
        file_id = self.pipeline.claim(Arrival(channel, inbox, stat.st_size, stat.st_mtime_ns))
        assert file_id is not None, f"{self.path}: {name} was not claimed"
        self._claimed(file_id)
        return self._process(file_id)

    def reprocess(self, step: int, *, force: bool) -> Outcome:
        """``Pipeline.reprocess`` of the file claimed at ``step`` (0-based), then process the new id."""
        row = self.ledger.get(self.ids[step])
        assert row is not None
        file_id = self.pipeline.reprocess(row, force=force)
        self._claimed(file_id)
        return self._process(file_id)

    def _process(self, file_id: str) -> Outcome:
        outcome = self.pipeline.process(file_id)
        self.outcomes.append(outcome)
        return outcome

    # -- normalisation -------------------------------------------------------
    def _replacements(self) -> list[tuple[str, str]]:
        pairs = [(file_id, f"<file{n}>") for n, file_id in enumerate(self.ids, 1)]
        for file_id, placeholder in list(pairs):
            for delivery in self.ledger.deliveries(file_id):
                pairs.append((delivery.sha256, f"<sha:{placeholder[1:-1]}:{delivery.destination}>"))
        pairs.append((str(self.root), "<spool>"))
        return pairs

    def normalise_text(self, text: str) -> str:
        for old, new in self._pairs or self._replacements():
            text = text.replace(old, new)
        return _TEMP_SUFFIX.sub(r"\1.<tmp>", text)

    def normalise_bytes(self, data: bytes) -> bytes:
        for old, new in self._pairs or self._replacements():
            data = data.replace(old.encode(), new.encode())
        return data

    def _normalise(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.normalise_text(value)
        if isinstance(value, list):
            return [self._normalise(item) for item in value]
        if isinstance(value, dict):
            return {key: self._normalise(item) for key, item in value.items()}
        return value

    # -- what is compared ------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """Everything the two paths must agree on, normalised (file ids, spool paths, output hashes)."""
        self._pairs = self._replacements()
        try:
            return self._snapshot()
        finally:
            self._pairs = None

    def _snapshot(self) -> Snapshot:
        db = self.ledger.db
        ledger_ids = [row[0] for row in db.execute("SELECT id FROM files ORDER BY rowid")]
        assert ledger_ids == self.ids, f"{self.path}: the ledger holds other files than those claimed"
        outcomes = [
            (
                self.normalise_text(outcome.file_id),
                outcome.state,
                outcome.status,
                tuple((d.destination, self.normalise_text(Path(d.path).name), d.records) for d in outcome.outputs),
            )
            for outcome in self.outcomes
        ]
        files: list[dict[str, Any]] = []
        flags: dict[str, list[tuple[str, int | None, str]]] = {}
        reports: dict[str, dict[str, Any]] = {}
        for file_id in self.ids:
            row = self.ledger.get(file_id)
            assert row is not None
            placeholder = self.normalise_text(file_id)
            files.append({column: self._normalise(getattr(row, column)) for column in _FILE_COLUMNS})
            posted = json.loads(row.flags) if row.flags else []
            flags[placeholder] = [
                (flag["code"], flag["record"], self.normalise_text(flag["message"])) for flag in posted
            ]
            files[-1]["flags"] = self._normalise(posted)
            reports[placeholder] = self._reports(row.report_json, row.report_csv, row.report_html)
        deliveries = []
        for file_id in self.ids:
            for delivery in self.ledger.deliveries(file_id):
                on_disk = Path(delivery.path).read_bytes()
                assert hashlib.sha256(on_disk).hexdigest() == delivery.sha256, (
                    f"{self.path}: {delivery.path} is not what the ledger recorded"
                )
                deliveries.append(
                    (
                        self.normalise_text(file_id),
                        delivery.destination,
                        self.normalise_text(delivery.temp_path),
                        self.normalise_text(delivery.path),
                        self.normalise_text(delivery.sha256),
                        delivery.records,
                        delivery.state,
                    )
                )
        postings = sorted(
            (row[0], row[1], row[2], row[3], self.normalise_text(row[4]), row[5])
            for row in db.execute("SELECT payment_key, notice_key, status, amount, file_id, record FROM postings")
        )
        pending = sorted(
            (self.normalise_text(row[0]), row[1], row[2], row[3], row[4], row[5])
            for row in db.execute(
                "SELECT file_id, payment_key, notice_key, status, amount, record FROM postings_pending"
            )
        )
        outputs: dict[str, dict[str, bytes]] = {}
        for destination in sorted(self.settings.destinations):
            folder = self.pipeline.transports[destination].folder
            outputs[destination] = {
                self.normalise_text(path.name): self.normalise_bytes(path.read_bytes())
                for path in sorted(folder.iterdir())
                if path.is_file()
            }
        tree = sorted(
            self.normalise_text(str(path.relative_to(self.root)))
            for path in self.root.rglob("*")
            if not path.name.startswith("ledger.sqlite3")
        )
        return Snapshot(outcomes, files, flags, reports, deliveries, postings, pending, outputs, tree)

    def _reports(self, json_path: str | None, csv_path: str | None, html_path: str | None) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if json_path:
            found["json"] = self._normalise(json.loads(Path(json_path).read_text(encoding="utf-8")))
        if csv_path:
            found["csv"] = self.normalise_bytes(Path(csv_path).read_bytes())
        if html_path:
            found["html"] = self.normalise_bytes(Path(html_path).read_bytes())
        return found


@dataclass
class Snapshot:
    """One spool's state after a step, normalised (see :meth:`Spool.snapshot`)."""

    outcomes: list[tuple[str, str, str, tuple[tuple[str, str, int], ...]]]
    files: list[dict[str, Any]]
    #: each file's posting flags: (code, record, message)
    flags: dict[str, list[tuple[str, int | None, str]]]
    #: each file's reports: parsed JSON, CSV and HTML bytes
    reports: dict[str, dict[str, Any]]
    deliveries: list[tuple[Any, ...]]
    postings: list[tuple[Any, ...]]
    pending: list[tuple[Any, ...]]
    #: destination → output name → bytes
    outputs: dict[str, dict[str, bytes]]
    tree: list[str]

    @property
    def routed(self) -> int:
        """Records delivered, over every file and destination (the ledger's deliveries)."""
        return sum(delivery[5] for delivery in self.deliveries)


def _differ(what: str, batch: Any, record: Any) -> None:
    """Raise AssertionError naming ``what`` with a diff of the two values (this module's asserts
    are not rewritten by pytest, so the message carries the detail)."""
    if batch == record:
        return
    if isinstance(batch, bytes) and isinstance(record, bytes):
        at = next((i for i, (b, r) in enumerate(zip(batch, record)) if b != r), min(len(batch), len(record)))
        raise AssertionError(
            f"{what}: batch {len(batch)} bytes, record {len(record)} bytes, first difference at byte {at}:\n"
            f"  batch:  {batch[max(0, at - 60) : at + 60]!r}\n  record: {record[max(0, at - 60) : at + 60]!r}"
        )
    lines = list(
        difflib.unified_diff(
            pprint.pformat(record, width=120).splitlines(),
            pprint.pformat(batch, width=120).splitlines(),
            "record",
            "batch",
            lineterm="",
        )
    )
    shown = "\n".join(lines[:80]) + ("\n…" if len(lines) > 80 else "")
    raise AssertionError(f"{what}:\n{shown}")


def assert_same_snapshots(batch: Snapshot, record: Snapshot, where: str = "") -> None:
    """The batch path's snapshot equals the record path's, part by part (the first difference named)."""
    label = f" ({where})" if where else ""
    _differ(f"terminal states and statuses differ{label}", batch.outcomes, record.outcomes)
    _differ(f"the spools' folders differ{label}", batch.tree, record.tree)
    for destination in record.outputs:
        _differ(
            f"outputs to {destination} differ in names{label}",
            sorted(batch.outputs.get(destination, {})),
            sorted(record.outputs[destination]),
        )
        for name, data in record.outputs[destination].items():
            _differ(f"output {destination}/{name} differs{label}", batch.outputs[destination][name], data)
    _differ(f"outputs differ{label}", batch.outputs, record.outputs)
    _differ(f"posting flags differ{label}", batch.flags, record.flags)
    _differ(f"ledger postings differ{label}", batch.postings, record.postings)
    _differ(f"pending postings differ{label}", batch.pending, record.pending)
    _differ(f"ledger deliveries differ{label}", batch.deliveries, record.deliveries)
    for file, reports in record.reports.items():
        _differ(f"report kinds of {file} differ{label}", sorted(batch.reports.get(file, {})), sorted(reports))
        for kind, content in reports.items():
            _differ(f"{kind} report of {file} differs{label}", batch.reports[file][kind], content)
    _differ(f"reports differ{label}", batch.reports, record.reports)
    _differ(f"ledger files rows differ{label}", batch.files, record.files)


# ---------------------------------------------------------------- the pair


@functools.cache
def default_settings() -> Settings:
    """The embedded default configuration (gateway/defaults/gateway.toml, the same as config/gateway.toml),
    as the integration tests' ``pipeline`` fixture loads it; loaded once, each spool a copy with its root."""
    return load_settings()


@functools.cache
def _empty_ledger() -> bytes:
    """The bytes of a new, empty ledger (its schema, WAL mode set), made once."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.sqlite3"
        Ledger(path).close()  # the last connection closed: the WAL checkpointed into the file
        return path.read_bytes()


def _clear(root: Path, keep: list[Path]) -> None:
    """Remove everything under ``root`` but the spool's own folders (``keep``), which are left empty."""
    folders = set(keep)
    for path in sorted(root.rglob("*"), key=lambda found: len(found.parts), reverse=True):
        if path in folders:
            continue
        if path.is_dir() and not path.is_symlink():
            path.rmdir()  # emptied already: children come first
        else:
            path.unlink()


def _no_fsync(fd: int) -> None:
    """os.fsync while a pair that need not be durable runs."""


class SpoolPair:
    """Two fresh spools under ``folder`` (``batch/`` and ``record/``), fed the same files.

    Use as a context manager (closes the ledgers, restores the clock). A folder that holds an
    earlier pair's spools is used again: every file in them is removed first, the folders are
    kept (hypothesis examples: making and removing some 60 folders a spool costs more than the
    example). ``spill_at`` sets ``Pipeline.posting_spill_at`` on both pipelines, ``posting_batch``
    likewise; ``instant`` is the clock of both sides (now by default); ``durable`` see above."""

    def __init__(
        self,
        folder: Path,
        *,
        spill_at: int | None = None,
        posting_batch: int | None = None,
        instant: dt.datetime | None = None,
        settings: Settings | None = None,
        durable: bool = False,
    ) -> None:
        self.folder = folder
        #: the configuration of both sides (the default one unless given); only the spool root differs
        self.settings = settings or default_settings()
        #: False (the default): no fsync while the pair runs (os.fsync, the ledger's commits). Durability changes no byte the paths
        #: write, and a pair without it costs a third (hypothesis runs hundreds); True for crash tests
        self.durable = durable
        self.spill_at = spill_at
        self.posting_batch = posting_batch
        #: the clock of both sides; now by default (the samples' dates are read relative to today)
        self.instant = (instant or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        self._stack = ExitStack()
        self.spools: dict[str, Spool] = {}

    def __enter__(self) -> SpoolPair:
        self._stack.enter_context(frozen_clock(self.instant))
        if not self.durable:
            patch = self._stack.enter_context(pytest.MonkeyPatch.context())
            patch.setattr(os, "fsync", _no_fsync)
        for path in PATHS:
            root = self.folder / path / "spool"
            settings = self.settings.with_spool_root(root)
            if root.exists():
                _clear(root, keep=SpoolLayout(root, settings.channels, settings.destinations).folders())
            else:
                root.mkdir(parents=True)
            if not self.durable:  # an empty ledger as Ledger() makes one, without its fsyncs
                settings.ledger_path().write_bytes(_empty_ledger())
                settings.ledger_path().chmod(0o600)
            ledger = self._stack.enter_context(Ledger(settings.ledger_path()))
            if not self.durable:
                ledger.db.execute("PRAGMA synchronous=OFF")  # the ledger's commits without fsync
            pipeline = Pipeline(settings, ledger, path=path)
            assert pipeline.path == path
            if self.spill_at is not None:
                pipeline.posting_spill_at = self.spill_at
                pipeline.batch_records = self.spill_at  # the batch path: batches as small, decisions spilled as often
            if self.posting_batch is not None:
                pipeline.posting_batch = self.posting_batch
            pipeline.spool.ensure()
            self.spools[path] = Spool(path, root, settings, ledger, pipeline, self.instant)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @property
    def batch(self) -> Spool:
        return self.spools["batch"]

    @property
    def record(self) -> Spool:
        return self.spools["record"]

    def ingest(self, channel: str, name: str, content: bytes) -> Outcome:
        """The same file into both spools; the record path's outcome (after comparing both sides)."""
        batch = self.batch.ingest(channel, name, content)
        record = self.record.ingest(channel, name, content)
        self.assert_same(f"{channel}/{name}")
        assert (batch.state, batch.status) == (record.state, record.status)
        return record

    def reprocess(self, step: int, *, force: bool) -> Outcome:
        """Reprocess the file of ``step`` (0-based) on both sides; the record path's outcome."""
        batch = self.batch.reprocess(step, force=force)
        record = self.record.reprocess(step, force=force)
        self.assert_same(f"reprocess of step {step}")
        assert (batch.state, batch.status) == (record.state, record.status)
        return record

    def assert_same(self, where: str = "") -> Snapshot:
        """Compare everything; the record path's snapshot, for the test's own sanity checks."""
        record = self.record.snapshot()
        batch = self.batch.snapshot()
        assert_same_snapshots(batch, record, where)
        # what was routed is on disk, not empty, on both sides
        for delivery in record.deliveries:
            if delivery[5] > 0:
                name = Path(delivery[3]).name
                assert record.outputs[delivery[1]][name], f"{delivery[1]}/{name} is empty"
        return record


# ---------------------------------------------------------------- files to feed the pair

#: 全銀 91 data record defects :func:`debit_91_file` can write: field errors (a rejected
#: record) and names missing from the bank master (a warning, the record still routed)
DEBIT_DEFECTS = ("account-digits", "small-kana", "result-code", "unknown-branch", "unknown-bank")


@dataclass(frozen=True)
class Debit:
    """One 91 data record: 顧客番号, 引落金額, 振替結果コード and what is wrong with it (if anything)."""

    customer: str
    amount: int
    code: str | None = "0"
    defect: str | None = None


@dataclass(frozen=True)
class DebitGroup:
    """One header…trailer group: a result (its trailer counts 振替済/不能) or a request (zeros)."""

    result: bool
    debits: tuple[Debit, ...]
    debit_date: str = "0527"


def debit_91_file(
    groups: list[DebitGroup] | tuple[DebitGroup, ...],
    *,
    separator: bytes = b"\r\n",
    after_last: bool = True,
    eof_mark: bool = False,
) -> bytes:
    """A 91 file of the groups (one end record), built with the layout (formats/builder.py: the
    trailers reconcile with the values given), then the defects written into the record bytes:
    ``account-digits`` an X in 口座番号, ``small-kana`` ｯ in 預金者名, ``result-code`` an X as
    振替結果コード (field errors: a rejected record); ``unknown-branch`` branch 999 of bank 0001,
    ``unknown-bank`` bank 9998 (warnings: not in the zengin-code master)."""
    from formats.builder import FileBuilder, Group
    from formats.layouts.zengin import DEBIT_91
    from tests.support.samples import debit_header, debit_record

    records: list[bytes] = []
    end = b""
    for group in groups:
        values = []
        for serial, debit in enumerate(group.debits, 1):
            overrides: dict[str, Any] = {"customer_number": debit.customer}
            if debit.defect == "unknown-branch":
                overrides["branch_code"] = "999"
            elif debit.defect == "unknown-bank":
                overrides["bank_code"] = "9998"
            code = debit.code if group.result else (debit.code if debit.code in (None, "0") else "0")
            values.append(debit_record(serial, debit.amount, code, **overrides))
        built = list(
            FileBuilder(DEBIT_91, result=group.result).records(
                [Group(debit_header(debit_date=group.debit_date), values)]
            )
        )
        end = built[-1]
        data = []
        for record, debit in zip(built[1:-2], group.debits, strict=True):
            raw = bytearray(record)
            if debit.defect == "account-digits":
                raw[45:46] = b"X"  # 口座番号 (44–50)
            elif debit.defect == "small-kana":
                raw[50:51] = b"\xaf"  # ｯ at the start of 預金者名 (51–80)
            elif debit.defect == "result-code":
                raw[111:112] = b"X"  # 振替結果コード (112)
            data.append(bytes(raw))
        records.extend([built[0], *data, built[-2]])
    records.append(end)
    data = separator.join(records) + (separator if after_last else b"")
    return data + (b"\x1a" if eof_mark else b"")


@dataclass(frozen=True)
class StorePayment:
    """One payment at a convenience store: its 納付番号 (the notice), amount, 収納日時 and store."""

    reference: str
    amount: int
    paid_on: dt.date = dt.date(2024, 6, 1)
    paid_time: str = "1432"
    store: str = "0012345"


@dataclass(frozen=True)
class StoreRecord:
    """One cvs data record: a payment's 速報 (01), 確報 (02) or 速報取消 (03); ``bad_check_digit``
    writes its barcode with a wrong check digit (a rejected record)."""

    payment: StorePayment
    kind: str
    bad_check_digit: bool = False


def cvs_file(records: list[StoreRecord] | tuple[StoreRecord, ...], *, separator: bytes = b"\r\n") -> bytes:
    """A file of the cvs channel's default layout (formats/layouts/cvs.toml): header, the records
    (蓄積連番 1, 2, 3 … over the whole file), a trailer with their count and amount, an end record."""
    from formats.codecs import encode_barcode

    layout = default_settings().formats_by_id()[default_settings().channels["cvs"].format]
    header = dict(
        record_type="1",
        created_on=dt.date(2024, 6, 3),
        user_company_code="23456",
        user_company_name="テスト市",
        agent_code="54321",
        agent_name="TEST AGENT",
    )
    data = []
    for record in records:
        payment = record.payment
        barcode = encode_barcode(
            issuer_code="54321",
            free_field={"user_company_code": "23456", "customer_reference": payment.reference},
            amount=payment.amount,
            deadline=dt.date(2024, 6, 30),
        )
        if record.bad_check_digit:
            barcode = barcode[:-1] + str((int(barcode[-1]) + 1) % 10)
        data.append(
            dict(
                record_type="2",
                created_on=dt.date(2024, 6, 3),
                retailer_code="0101",
                cns_application_code="0007",
                user_company_code="23456",
                tax_code="02",
                acceptance_kind="1",
                data_kind=record.kind,
                data_id=None,
                paid_on=payment.paid_on,
                paid_time=payment.paid_time,
                barcode=barcode,
                amount=payment.amount,
                store_code=payment.store,
                settlement_on=None if record.kind == "03" else dt.date(2024, 6, 7),
                store_name="ﾃｽﾄﾏｰﾄ",
            )
        )
    trailer = dict(record_type="8", total_count=len(data), total_amount=sum(r.payment.amount for r in records))
    built = [
        layout.layout_for("header").build(header | {"serial": 1}),
        *(layout.layout_for("data").build(values | {"serial": n}) for n, values in enumerate(data, 2)),
        layout.layout_for("trailer").build(trailer | {"serial": len(data) + 2}),
        layout.layout_for("end").build({"record_type": "9", "serial": len(data) + 3}),
    ]
    return b"".join(record + separator for record in built)
