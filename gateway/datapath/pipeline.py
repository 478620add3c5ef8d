"""The flow of one file: claim → hash → duplicate check → validate → normalise → route
→ stage outputs → deliver → report → archive. Exactly once, across crashes.

The ledger records each step before the next one can be seen from outside:

1. **claim**: a ledger row (``claiming``), then an atomic no-replace rename from the
   inbox into ``work/`` (of two processes exactly one wins; the loser forgets its row);
2. **processing**: decided inside one transaction, unless the same content was
   already accepted (then ``duplicate/``, an audit event, nothing routed);
3. **validate** the whole file (fast path where it applies). A refused file
   (grammar, totals, encoding, empty) routes nothing and goes to ``quarantine/``;
4. **route**: the accepted data records are read again, normalised into canonical
   payments and rendered by each destination into a staged temporary file;
5. **delivering**: every staged output is recorded (name, SHA-256) in one
   transaction, then renamed into place; ``delivered`` when all are;
6. the reports are written, the input moves to ``archive/`` (or ``rejected/`` when no
   record was acceptable), and the ledger closes the file.

A crash at any point is recovered by :meth:`Pipeline.recover`: ``claiming`` rows are
finished or forgotten, ``processing`` rows start again from their work file (staged
temporaries discarded, so nothing was delivered twice), ``delivering`` rows rename
what was staged and never regenerate, ``delivered`` rows are only filed away.

Bad input never crashes the gateway: an exception while processing a file
quarantines that file with a report and an audit event, and the next file goes on.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adapters.local import LocalFolder, StagedFile, output_name
from adapters.renderers import OutputMeta, Renderer
from adapters.specs import make_renderer, normaliser_for
from formats.checkdigits import MY_NUMBER_MASK, mask_my_numbers
from formats.columns import BLOCK_RECORDS
from formats.dates import JST
from formats.errors import Level, Reason, Rejection, Severity
from formats.framing import Framer
from formats.layout import FileLayout
from formats.reader import RecordReader
from formats.validate import validate_path
from formats.validator import Status, ValidationResult
from gateway.config.protection import FlowGuard, IndividualNumberFlowError
from gateway.config.settings import Settings
from gateway.datapath.batch import BatchSinks, route_batches
from gateway.datapath.posting import Flag, PostingBook
from gateway.datapath.routing import Router
from gateway.model.batch import CanonicalBatch
from gateway.model.normalise import GroupContext
from gateway.reporting.audit import get_logger
from gateway.reporting.reports import FileReport, write_reports
from gateway.storage.ledger import Delivery, FileRow, Ledger, PostingConflictError
from gateway.storage.transfers import TransferStore
from spool.atomic import move_into, sha256_fd
from spool.intake import Refused, copy_into, open_inbox_file, take, work_name
from spool.layout import SpoolLayout
from spool.scanner import Arrival
from spool.states import FileState

__all__ = ["Outcome", "Pipeline", "readable_name"]

#: What a purpose-limited channel refuses a whole file for: record kinds it does not know,
#: and records longer or shorter than its layout (fields it does not expect).
_UNEXPECTED_CONTENT = frozenset({"UNKNOWN_RECORD_TYPE", "RECORD_LENGTH"})


def readable_name(name: str) -> str:
    """A file name as text the ledger, the log and the reports can hold.

    A name that is not UTF-8 (Python keeps its bytes as surrogates) is read as
    Shift_JIS when it is (files uploaded from Windows), else its odd bytes are
    written as \\xNN escapes. A valid individual number in it is masked (the input
    is filed under the masked name). Path separators never survive.
    """
    try:
        name.encode("utf-8")
        text = name
    except UnicodeEncodeError:
        raw = name.encode("utf-8", "surrogateescape")
        try:
            text = raw.decode("cp932")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", "backslashreplace")
    # an individual number in a file name never reaches the ledger, the log or a report
    return mask_my_numbers(text, MY_NUMBER_MASK).replace("/", "_").replace("\0", "_")


def _flag_dict(flag: Flag) -> dict[str, Any]:
    """A posting flag as a report warning (a validation warning's Rejection)."""
    return Rejection(
        flag.code,
        Level.RECORD,
        f"record {flag.record}: {flag.message}",
        record=flag.record,
        offset=flag.offset,
        severity=Severity.WARNING,
    ).as_dict()


def _cannot_take(error: OSError) -> Refused:
    """An inbox file that could not be moved into work/ for a reason other than a lost race."""
    if error.errno == errno.ENAMETOOLONG:
        return Refused("name", "ファイル名が長すぎるため、受け付けませんでした。", "the file name is too long: refused")
    text = error.strerror or str(error)
    return Refused(
        "cannot-take", f"作業フォルダへ移せませんでした ({text})。", f"could not be moved into work/ ({text})"
    )


#: NOT_ROUTED warnings listed per file (the report says how many records were routed)
_MAX_UNROUTED_FLAGS = 1000


def _unrouted(record: Any) -> str:
    kind = getattr(type(record), "record", "payment")
    detail = f"科目 {record.tax_item}" if getattr(record, "tax_item", None) else ""
    return f"no route takes this {kind} record {detail}".rstrip()


@dataclass(frozen=True)
class Outcome:
    """How one file ended."""

    file_id: str
    state: str  # archived | rejected | quarantined | duplicate
    status: str
    outputs: tuple[Delivery, ...] = ()


@dataclass
class _Staging:
    """The outputs of one input file while they are being written."""

    meta: OutputMeta
    transports: dict[str, LocalFolder]
    renderers: dict[str, tuple[str, dict[str, str]]]
    open: dict[str, tuple[StagedFile, Renderer]] = field(default_factory=dict)

    def add(self, destination: str, payment: Any) -> None:
        """Render one record for one destination (the guard has cleared the pair)."""
        staged, renderer = self.ensure(destination)
        staged.write(renderer.add(payment))

    def add_batch(self, destination: str, batch: CanonicalBatch, rows: np.ndarray) -> None:
        """Render the records ``rows`` of a batch for one destination: one write (the guard has cleared the pair)."""
        staged, renderer = self.ensure(destination)
        staged.write(renderer.add_batch(batch, rows))

    def ensure(self, destination: str) -> tuple[StagedFile, Renderer]:
        """The destination's output, opened on first use (also when no record reaches it: ``every_file``)."""
        if destination not in self.open:
            renderer = make_renderer(*self.renderers[destination])
            staged = self.transports[destination].stage(output_name(self.meta.file_id, destination, renderer.extension))
            staged.write(renderer.begin(self.meta))
            self.open[destination] = (staged, renderer)
        return self.open[destination]

    def finish(self) -> list[Delivery]:
        deliveries = []
        for destination, (staged, renderer) in sorted(self.open.items()):
            staged.write(renderer.end())
            digest = staged.finish()
            deliveries.append(Delivery(destination, str(staged.temp), str(staged.final), digest, renderer.records))
        return deliveries

    def discard(self) -> None:
        for staged, _ in self.open.values():
            staged.discard()


def _first_header(path: Path, layout: FileLayout, strict: bool) -> dict[str, Any] | None:
    """The decoded first record when it is a valid header (outputs carry some of its values on)."""
    with open(path, "rb") as stream:
        for record in RecordReader(stream, layout, strict=strict):
            return dict(record.values) if record.ok and record.role == "header" else None
    return None


class Pipeline:
    """Processes files of one spool, with one ledger connection (one per thread)."""

    #: posting decisions held in memory while a file is routed; more go to the ledger (flat memory)
    posting_spill_at = 20_000
    #: routed records decided together: the ledger's postings are read once a batch, not once a record
    posting_batch = 500
    #: records a block of the batch path holds (its batches: a group's accepted records within a block)
    batch_records = BLOCK_RECORDS

    def __init__(
        self,
        settings: Settings,
        ledger: Ledger,
        *,
        spool: SpoolLayout | None = None,
        layouts: dict[str, FileLayout] | None = None,
        path: str = "batch",
    ) -> None:
        if path not in ("batch", "record"):
            raise ValueError(f"path: expected 'batch' or 'record', found {path!r}")
        #: how accepted records are normalised, routed, posted and rendered: in column batches
        #: (``batch``), or one record at a time (``record``: the reference the batch path is tested against)
        self.path = path
        self.settings = settings
        self.ledger = ledger
        self.spool = spool or SpoolLayout(settings.spool.root, settings.channels, settings.destinations)
        self.router = Router(settings.routes)
        #: the layout each channel reads (tests may substitute one)
        self.layouts = layouts or {
            name: settings.formats_by_id()[channel.format] for name, channel in settings.channels.items()
        }
        self.transports = {name: LocalFolder(settings.destination_path(name)) for name in settings.destinations}
        self.renderers = {
            name: (destination.render, destination.options) for name, destination in settings.destinations.items()
        }
        self.guard = FlowGuard(settings.cleared_flows())
        self.log = get_logger()
        #: inbox entries refused but impossible to move, by path: (size, mtime) when refused
        self._refused_in_place: dict[Path, tuple[int, int]] = {}

    # -- arrival and claim -------------------------------------------------
    def claim(
        self, arrival: Arrival, *, marker: Path | None = None, forced: bool = False, reprocess_of: str | None = None
    ) -> str | None:
        """Take a stable inbox file into ``work/``; its ledger id, or None if another process took it.

        The inbox entry is opened once without following a link (spool/intake.py) and the
        file worked on through that descriptor. An entry the gateway will not take (a link,
        a FIFO or device, several hard links, unreadable, swapped after the check, a name the
        spool cannot hold) ends at once in ``quarantined`` with a report and an alert; it never
        stops the gateway and never blocks the next file."""
        seen = self._refused_in_place.get(arrival.path)
        if seen is not None and seen == (arrival.size, arrival.mtime_ns):
            return None  # refused earlier and could not be moved: waits for an operator
        file_id = Ledger.new_file_id()
        name = readable_name(arrival.path.name)
        log = self.log.bind(file_id=file_id, channel=arrival.channel, original_name=name)
        inbox_path = arrival.path.parent / name
        try:
            fd, info = open_inbox_file(arrival.path)
        except FileNotFoundError:
            log.info("claim-lost", reason="the file is gone (another process took it)")
            return None
        except Refused as refusal:
            return self._refuse(arrival, file_id, name, refusal, log, forced=forced, reprocess_of=reprocess_of)
        try:
            log.info("received", size=info.st_size, inbox=str(inbox_path))
            work = self.spool.work / work_name(file_id, name)
            self.ledger.begin_claim(
                file_id, arrival.channel, name, inbox_path, work, info.st_size, forced=forced, reprocess_of=reprocess_of
            )
            try:
                taken = take(arrival.path, fd, info, self.spool.work, work.name)
            except (FileNotFoundError, FileExistsError):
                self.ledger.abandon(file_id)
                log.info("claim-lost", reason="another process took the file")
                return None
            except Refused as refusal:  # what moved into work/ is not what was opened: file it away unread
                return self._refuse(arrival, file_id, name, refusal, log, moved=work)
            except OSError as error:
                return self._refuse(arrival, file_id, name, _cannot_take(error), log)
        finally:
            os.close(fd)
        if marker is not None:
            marker.unlink(missing_ok=True)
        self.ledger.claimed(file_id, taken.sha256, taken.size)
        log.info("claimed", sha256=taken.sha256, work=str(taken.path), copied=taken.copied)
        return file_id

    def _refuse(
        self,
        arrival: Arrival,
        file_id: str,
        name: str,
        refusal: Refused,
        log: Any,
        *,
        moved: Path | None = None,
        forced: bool = False,
        reprocess_of: str | None = None,
    ) -> str:
        """End an inbox entry the gateway will not take: moved into quarantine/ as it is (a link
        stays a link, never followed), a report, an audit event and an alert."""
        work = moved or self.spool.work / work_name(file_id, name)
        if self.ledger.get(file_id) is None:
            self.ledger.begin_claim(
                file_id,
                arrival.channel,
                name,
                arrival.path.parent / name,
                work,
                arrival.size,
                forced=forced,
                reprocess_of=reprocess_of,
            )
        source = moved or arrival.path
        try:
            final: Path | None = move_into(source, self.spool.quarantine, work.name)
        except FileNotFoundError:
            final = None  # gone meanwhile: nothing left to keep
        except OSError as error:  # cannot even be moved (the inbox not writable …): left where it is, once
            log.error("refused-left-in-inbox", error=repr(error))
            final = None
            self._refused_in_place[arrival.path] = (arrival.size, arrival.mtime_ns)
        reason = f"受け付けできないファイルです: {refusal.reason_ja} ({refusal.reason})"
        self.ledger.update(file_id, status="refused", reason=reason, final_path=str(final) if final else None)
        row = self._require(file_id)
        reports = self._report(row, None, state=FileState.QUARANTINED.folder, status="refused", reason=reason)
        self.ledger.finish(file_id, "quarantined", **reports)
        log.error("file-refused", code=refusal.code, reason=refusal.reason, path=str(final or arrival.path))
        self._alert("file-refused", arrival.channel, f"{name} (ファイルID {file_id}): {refusal.reason_ja}")
        return file_id

    def _alert(self, kind: str, channel: str, message: str) -> None:
        """An alert for operators (``gateway alerts``, the console); a failure to record one is logged."""
        try:
            store = TransferStore(self.settings.ledger_path())
            try:
                store.raise_alert(kind, date=dt.datetime.now(JST).date(), message=message, channel=channel)
            finally:
                store.close()
        except Exception as error:  # the audit event already says it; never stop for an alert
            self.log.error("alert-failed", kind=kind, error=repr(error))

    def reprocess(self, row: FileRow, *, force: bool) -> str:
        """Put a finished file through the pipeline again under a new id (the operator's override).

        An archived or rejected input stays where it is (a copy is processed); a
        duplicate or quarantined one is moved. ``force`` skips the duplicate check.
        """
        if row.state not in ("archived", "rejected", "quarantined", "duplicate"):
            raise ValueError(f"file {row.id} is {row.state}: only a finished file can be reprocessed")
        if not row.final_path or not os.path.lexists(row.final_path):
            raise FileNotFoundError(
                f"file {row.id}: its input is no longer in the spool (erased after its retention period?)"
            )
        source = Path(row.final_path)
        try:
            fd, info = open_inbox_file(source)  # never follows a link a refused entry may be
        except Refused as refusal:
            raise ValueError(f"file {row.id}: {refusal.reason_ja} ({refusal.reason})") from None
        try:
            file_id = Ledger.new_file_id()
            work = self.spool.work / work_name(file_id, row.original_name)
            self.ledger.begin_claim(
                file_id, row.channel, row.original_name, source, work, info.st_size, forced=force, reprocess_of=row.id
            )
            try:
                if row.state in ("archived", "rejected"):
                    taken = copy_into(fd, self.spool.work, work.name)
                else:
                    taken = take(source, fd, info, self.spool.work, work.name)
            except (FileNotFoundError, FileExistsError, Refused):  # another process reprocessed it first
                self.ledger.abandon(file_id)
                raise FileNotFoundError(f"file {row.id}: already taken for reprocessing by another process") from None
        finally:
            os.close(fd)
        self.ledger.claimed(file_id, taken.sha256, taken.size)
        self.log.bind(file_id=file_id, channel=row.channel).warning(
            "reprocess", reprocess_of=row.id, forced=force, sha256=taken.sha256
        )
        return file_id

    # -- processing ----------------------------------------------------------
    def process(self, file_id: str) -> Outcome:
        """Carry one claimed (or interrupted) file to a terminal state. Never raises for bad input."""
        row = self.ledger.get(file_id)
        if row is None:
            raise KeyError(f"no file {file_id} in the ledger")
        log = self.log.bind(file_id=file_id, channel=row.channel, sha256=row.sha256)
        if not os.path.lexists(row.work_path):
            return self._input_gone(row, log)
        try:
            if row.state == "delivering":
                self._commit_staged(row, log)
                row = self._require(file_id)
            if row.state == "delivered":
                return self._file_away(row, log)
            return self._process(row, log)
        except IndividualNumberFlowError as error:
            log.error("individual-number-flow-stopped", detail=str(error))
            return self._fail(self._require(file_id), error, log)
        except Exception as error:  # a bug or a layout that raises: quarantine, never crash
            return self._fail(self._require(file_id), error, log)

    def _process(self, row: FileRow, log: Any) -> Outcome:
        work = Path(row.work_path)
        if row.state == "claimed":
            earlier = self.ledger.start_processing(row.id)
            if earlier is not None:
                return self._duplicate(row, earlier, log)
        else:  # interrupted while processing: start again, discarding anything staged
            for transport in self.transports.values():
                transport.discard_stale(row.id)
            log.info("resumed", state=row.state)
        layout = self.layouts[row.channel]
        channel = self.settings.channels[row.channel]
        result = validate_path(work, layout, strict=channel.strict)
        log.info(
            "parsed",
            format=layout.id,
            status=str(result.status),
            records=result.records,
            accepted=result.accepted,
            rejected=result.rejected_records,
            warnings=len(result.warnings),
        )
        counts = dict(
            format=layout.id,
            status=str(result.status),
            records=result.records,
            accepted=result.accepted,
            rejected_records=result.rejected_records,
        )
        if result.status is Status.REJECTED_FILE:
            reason = "ファイル全体が不備のため、何も送付していません: " + ", ".join(
                sorted({str(e.code) for e in result.errors if e.level == "file" or e.record is not None})[:6]
            )
            self.ledger.update(row.id, **counts)
            return self._quarantine(row, result, reason, "rejected-file", log)
        unexpected = sorted({str(e.code) for e in result.errors if e.code in _UNEXPECTED_CONTENT})
        if unexpected and channel.purpose_limited:
            # no collecting beyond the purpose (目的外の入手): records or fields the channel does not expect
            reason = (
                "このチャネルで想定していないレコード種別・項目を含むため、ファイル全体を受け付けず、何も送付していません: "
                + ", ".join(unexpected)
            )
            self.ledger.update(row.id, **counts)
            log.warning("refused-unexpected-content", codes=unexpected)
            return self._quarantine(row, result, reason, "rejected-file", log)

        first_header = _first_header(work, layout, channel.strict)
        for attempt in range(1, 4):
            staging = _Staging(
                OutputMeta(row.id, row.channel, layout.id, dt.datetime.now(JST).date(), first_header),
                self.transports,
                self.renderers,
            )
            self.ledger.discard_pending_postings(row.id)  # a resumed or retried routing starts afresh
            book = self._posting_book(row)
            try:
                routed = self._route(row, layout, result, staging, book)
                for route in self.settings.routes:  # receivers that see every run, even an empty one
                    if route.every_file and row.channel in (route.when.channel or ()):
                        for destination in route.to:
                            staging.ensure(destination)
                deliveries = staging.finish()
                # in record order (the record path decides a few hundred records at a time, the batch path more)
                ordered = sorted(book.flags, key=lambda flag: flag.record)
                flags = json.dumps([_flag_dict(flag) for flag in ordered], ensure_ascii=False)
                self.ledger.plan_deliveries(row.id, deliveries, book.rows(), flags=flags, **counts)
                break
            except PostingConflictError as conflict:
                staging.discard()
                log.warning("posting-conflict", attempt=attempt, detail=str(conflict))
                if attempt == 3:
                    raise
            except BaseException:
                staging.discard()
                try:
                    self.ledger.discard_pending_postings(row.id)
                except Exception:  # the original error matters more; the next attempt clears them anyway
                    pass
                raise
        for flag in book.flags:
            log.warning("posting-flag", code=str(flag.code), record=flag.record, detail=flag.message)
        log.info("staged", outputs=len(deliveries), payments=routed)
        self._commit_staged(self._require(row.id), log)
        return self._file_away(self._require(row.id), log, result)

    def _posting_book(self, row: FileRow) -> PostingBook:
        """The posting book of one routing of a file: the batch path reads the ledger a batch at a
        time and spills each batch's decisions; the record path a few hundred records at a time."""
        file_id = row.id
        if self.path == "batch":
            return PostingBook(
                self.ledger.posting,
                self.ledger.postings_for_notice,
                file_id,
                forced=bool(row.forced),
                matches=lambda *keys: self.ledger.posting_matches(file_id, *keys),
                spill_tuples=lambda rows: self.ledger.spill_posting_rows(file_id, rows),
                spill_new=lambda rows: self.ledger.spill_new_postings(file_id, rows),
            )
        return PostingBook(
            self.ledger.posting,
            self.ledger.postings_for_notice,
            file_id,
            forced=bool(row.forced),
            spill_at=self.posting_spill_at,
            spill=lambda rows: self.ledger.spill_postings(file_id, rows),
            spilled_lookup=lambda key: self.ledger.pending_posting(file_id, key),
            spilled_notice_lookup=lambda notice: self.ledger.pending_postings_for_notice(file_id, notice),
            bulk_lookup=self.ledger.postings_by_key,
            bulk_notice_lookup=self.ledger.postings_by_notice,
        )

    def _route(
        self, row: FileRow, layout: FileLayout, result: ValidationResult, staging: _Staging, book: PostingBook
    ) -> int:
        """Read the accepted data records again, normalise and render them. Returns payments routed."""
        received = dt.datetime.fromisoformat(row.received_at).astimezone(JST).date()
        if self.path == "batch":
            return route_batches(
                Path(row.work_path),
                file_id=row.id,
                channel=row.channel,
                layout=layout,
                result=result,
                received_on=received,
                strict=self.settings.channels[row.channel].strict,
                sinks=BatchSinks(self.router, self.guard, staging, book, _unrouted, _MAX_UNROUTED_FLAGS),
                block_records=self.batch_records,
            )
        normaliser = normaliser_for(layout, received)
        if normaliser is None or result.accepted == 0:
            return 0
        # records the validation refused; when not all were listed, check each record again
        refused = {issue.record for issue in result.errors if issue.record is not None}
        recheck = result.dropped_errors > 0
        kinds = [group.kind for group in result.groups]
        strict = self.settings.channels[row.channel].strict
        data_type = layout.type_of("data")
        header_type = layout.type_of("header")
        routed = unrouted = 0
        batch: list[tuple[Any, list[tuple[str, str]]]] = []
        group_index = -1
        header: dict[str, Any] = {}
        with open(row.work_path, "rb") as stream:
            reader = RecordReader(stream, layout, strict=strict)
            for frame in Framer(stream, layout.record_length):
                kind_byte = frame.raw[layout.type_offset : layout.type_offset + 1]
                if kind_byte == header_type:
                    group_index += 1
                    header = reader.read_frame(frame).values
                    continue
                if kind_byte != data_type or frame.index in refused or group_index < 0:
                    continue
                record_layout = layout.records[data_type][1]
                if recheck:
                    checked = reader.read_frame(frame)
                    if not checked.ok:
                        continue
                    values = checked.values
                else:
                    values = record_layout.decode_clean(frame.raw, strict)
                source = {"file_id": row.id, "channel": row.channel, "record": frame.index, "offset": frame.offset}
                payment = normaliser.normalise(values, GroupContext(header, kinds[group_index]), source)
                if payment is None:
                    continue
                destinations = self.router.destinations(payment)
                if not destinations:  # a good record that goes nowhere: the operator must know (and nothing is posted)
                    if unrouted < _MAX_UNROUTED_FLAGS:
                        unrouted += 1
                        book.flags.append(Flag(Reason.NOT_ROUTED, frame.index, frame.offset, _unrouted(payment)))
                    continue
                batch.append((payment, destinations))
                if len(batch) >= self.posting_batch:
                    routed += self._post_and_stage(batch, book, staging)
            routed += self._post_and_stage(batch, book, staging)
        return routed

    def _post_and_stage(
        self, batch: list[tuple[Any, list[tuple[str, str]]]], book: PostingBook, staging: _Staging
    ) -> int:
        """Decide a batch of routed records in order (what the ledger holds read for all of them at
        once) and render those that go. Empties the batch; returns how many went."""
        book.prefetch([record for record, _ in batch])
        routed = 0
        for record, destinations in batch:
            if not book.decide(record).route:
                continue
            for route, destination in destinations:
                self.guard.check(record, route, destination)  # 個人番号 only where cleared
                staging.add(destination, record)
            routed += 1
        batch.clear()
        return routed

    def _commit_staged(self, row: FileRow, log: Any) -> None:
        """Rename every staged output into place (idempotent: a renamed one is left alone)."""
        for delivery in self.ledger.deliveries(row.id):
            temp, final = Path(delivery.temp_path), Path(delivery.path)
            if temp.exists():
                LocalFolder.commit(temp, final)
            log.info(
                "routed",
                destination=delivery.destination,
                path=str(final),
                output_sha256=delivery.sha256,
                records=delivery.records,
            )
        self.ledger.delivered(row.id)

    # -- endings -------------------------------------------------------------
    def _file_away(self, row: FileRow, log: Any, result: ValidationResult | None = None) -> Outcome:
        """Reports, then the input to archive/ (rejected/ when nothing was acceptable)."""
        if result is None:  # resumed after a crash: the report needs the validation again
            result = validate_path(
                Path(row.work_path), self.layouts[row.channel], strict=self.settings.channels[row.channel].strict
            )
        nothing_good = result.records > 0 and result.accepted == 0
        deliveries = self.ledger.deliveries(row.id)
        outputs = [dict(destination=d.destination, path=d.path, sha256=d.sha256, records=d.records) for d in deliveries]
        state = "rejected" if nothing_good else "archived"
        final = self._end(row, result, state, status=str(result.status), outputs=outputs)
        log.info(
            state,
            path=str(final),
            status=str(result.status),
            accepted=result.accepted,
            rejected=result.rejected_records,
        )
        return Outcome(row.id, state, str(result.status), tuple(deliveries))

    def _quarantine(self, row: FileRow, result: ValidationResult | None, reason: str, status: str, log: Any) -> Outcome:
        final = self._end(row, result, "quarantined", status=status, reason=reason)
        log.warning("quarantined", path=str(final), status=status, reason=reason)
        return Outcome(row.id, "quarantined", status)

    def _duplicate(self, row: FileRow, earlier: str, log: Any) -> Outcome:
        reason = f"同じ内容のファイルが処理済みです (ファイルID {earlier})。再処理は gateway reprocess {row.id} --force"
        final = self._end(row, None, "duplicate", status="duplicate", reason=reason)
        log.warning("duplicate", path=str(final), duplicate_of=earlier)
        return Outcome(row.id, "duplicate", "duplicate")

    def _fail(self, row: FileRow, error: Exception, log: Any) -> Outcome:
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        log.error("worker-failed", state=row.state, error=detail, traceback=traceback.format_exc())
        if not os.path.lexists(row.work_path):
            return self._input_gone(self._require(row.id), log)
        if row.state in ("delivering", "delivered"):
            # outputs are already out: leave the row for recovery, never re-route
            return Outcome(row.id, row.state, "failed")
        for transport in self.transports.values():
            transport.discard_stale(row.id)
        reason = f"処理中にエラーが発生したため隔離しました。何も送付していません: {detail}"
        try:
            return self._quarantine(row, None, reason, "failed", log)
        except Exception as second:  # even the quarantine failed (disk full?): keep the file in work/
            log.critical("quarantine-failed", error=repr(second))
            return Outcome(row.id, row.state, "failed")

    def _input_gone(self, row: FileRow, log: Any) -> Outcome:
        """The input vanished from work/ (removed or moved by hand) before it was filed away.

        Filed away just before a crash: the row is closed. Otherwise it ends at once, with a
        report and an alert, instead of being retried for ever: nothing staged is delivered
        when nothing was yet (``quarantined``), what was planned is delivered when the outputs
        were already decided (``archived``, the report saying the input is lost)."""
        if row.final_path and os.path.lexists(row.final_path):
            return self._finish_moved(row)
        decided = row.state in ("delivering", "delivered")
        if row.state == "delivering":
            self._commit_staged(row, log)
        if not decided:
            for transport in self.transports.values():
                transport.discard_stale(row.id)
            self.ledger.discard_pending_postings(row.id)
        deliveries = self.ledger.deliveries(row.id) if decided else []
        if decided:
            state, status = "archived", (row.status if row.status in ("ok", "rejected-records") else "ok")
            reason = (
                "出力は送付済みですが、入力ファイルが作業フォルダから失われていたため保管できませんでした"
                "(外部から削除・移動された可能性があります)。"
            )
        else:
            state, status = "quarantined", "failed"
            reason = (
                "入力ファイルが作業フォルダから失われていたため、処理を終了しました。何も送付していません"
                "(外部から削除・移動された可能性があります。元のファイルを再投入してください)。"
            )
        outputs = [dict(destination=d.destination, path=d.path, sha256=d.sha256, records=d.records) for d in deliveries]
        self.ledger.update(row.id, status=status, reason=reason, final_path=None)
        counts = {key: getattr(row, key) or 0 for key in ("records", "accepted", "rejected_records")}
        reports = self._report(
            row, None, state=FileState(state).folder, status=status, reason=reason, outputs=outputs, **counts
        )
        self.ledger.finish(row.id, state, **reports)
        log.error("input-missing", state=state, work=row.work_path)
        self._alert("input-missing", row.channel, f"{row.original_name} (ファイルID {row.id}): {reason}")
        return Outcome(row.id, state, status, tuple(deliveries))

    def _end(self, row: FileRow, result: ValidationResult | None, state: str, **report_fields: Any) -> Path:
        """Write the reports, record where the input goes, move it, close the ledger row."""
        folder = self.spool.finished(FileState(state))
        work = Path(row.work_path)
        final = folder / work.name
        reports = self._report(row, result, state=FileState(state).folder, **report_fields)
        ledger_fields = {key: value for key, value in report_fields.items() if key in ("status", "reason")}
        # everything the closed row must say is recorded before the move, so that a crash
        # between the move and the close loses nothing (recovery only sets the state)
        self.ledger.update(row.id, final_path=str(final), **ledger_fields, **reports)
        if work.exists() or not final.exists():
            move_into(work, folder, work.name)
        self.ledger.finish(row.id, state)
        return final

    def _report(self, row: FileRow, result: ValidationResult | None, **fields: Any) -> dict[str, str]:
        row = self._require(row.id)
        metadata = dict(
            file_id=row.id,
            channel=row.channel,
            original_name=row.original_name,
            sha256=row.sha256 or "0" * 64,
            size=row.size or 0,
            received_at=dt.datetime.fromisoformat(row.received_at),
            **fields,
        )
        if result is not None:
            report = FileReport.from_validation(result, **metadata)
            posting_flags = json.loads(row.flags) if row.flags else []
            if posting_flags:
                report = report.model_copy(update={"warnings": [*report.warnings, *posting_flags]})
        else:
            report = FileReport(format=row.format, **metadata)
        paths = write_reports(self.spool.reports, report)
        return {f"report_{kind}": str(path) for kind, path in paths.items()}

    def _require(self, file_id: str) -> FileRow:
        row = self.ledger.get(file_id)
        if row is None:
            raise KeyError(file_id)
        return row

    # -- recovery --------------------------------------------------------------
    def recover(self) -> list[Outcome]:
        """Finish every unfinished file whose owner is gone (after a crash, at start-up).

        One row that cannot be recovered is logged and left; it never stops the others."""
        outcomes = []
        for row in self.ledger.unfinished():
            try:
                outcome = self._recover(row)
            except Exception as error:
                self.log.bind(file_id=row.id, channel=row.channel).error(
                    "recovery-failed", state=row.state, error=repr(error), traceback=traceback.format_exc()
                )
                continue
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def _recover(self, row: FileRow) -> Outcome | None:
        if not self.ledger.take_over(row.id):
            return None
        row = self._require(row.id)
        if row.state == "claiming":
            work = Path(row.work_path)
            if not os.path.lexists(work):  # the move never happened: the file is still in its inbox
                self.ledger.abandon(row.id)
                return None
            try:  # the move happened (a file of our own, checked before it was moved)
                fd, _ = open_inbox_file(work)
            except Refused as refusal:
                arrival = Arrival(row.channel, Path(row.inbox_path), row.size or 0, 0)
                self._refuse(arrival, row.id, row.original_name, refusal, self.log.bind(file_id=row.id), moved=work)
                return Outcome(row.id, "quarantined", "refused")
            try:
                self.ledger.claimed(row.id, sha256_fd(fd), os.fstat(fd).st_size)
            finally:
                os.close(fd)
        return self.process(row.id)

    def _finish_moved(self, row: FileRow) -> Outcome:
        """The input was filed away just before a crash (reports already written): close the row."""
        folder = Path(row.final_path or "").parent
        try:
            state = FileState.of_folder(folder.name) if folder.parent == self.spool.root else FileState.ARCHIVED
        except ValueError:
            state = FileState.ARCHIVED
        self.ledger.finish(row.id, state)
        self.log.bind(file_id=row.id).info(state, path=row.final_path, recovered=True)
        return Outcome(row.id, state, row.status or "ok", tuple(self.ledger.deliveries(row.id)))
