"""`gateway run`: the watcher and the worker, until SIGTERM or SIGINT.

The watchdog handler only sets an event (spool/watcher.py); this loop does the work:
scan the inboxes for stable files, claim each, process it to the end, and go on.
On a stop signal the current file is finished, then the loop stops cleanly. At start,
and from time to time, files left unfinished by a process that died are recovered.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
import time
import traceback
from collections.abc import Callable
from types import FrameType
from typing import Any

from adapters.schedule import EndpointLocks, EndpointRunner, Scheduler, endpoints_of
from gateway.config.settings import Settings
from gateway.datapath.pipeline import Outcome, Pipeline
from gateway.datapath.retention import PURGE_EVERY, purge_for_settings
from gateway.reporting.audit import get_logger
from gateway.storage.ledger import Ledger
from gateway.storage.transfers import TransferStore
from spool.atomic import remove_stale_temps
from spool.layout import SpoolLayout
from spool.scanner import StableScanner
from spool.watcher import Watcher

__all__ = ["Service"]

RECOVERY_EVERY = 30.0


class Service:
    """One gateway process on one spool."""

    def __init__(self, settings: Settings, *, stop: threading.Event | None = None) -> None:
        self.settings = settings
        self.stop = stop or threading.Event()
        self.wake = threading.Event()
        self.spool = SpoolLayout(settings.spool.root, settings.channels, settings.destinations)
        self.log = get_logger()
        self.stop_signal: str | None = None
        self.stop_requested_at: str | None = None

    def install_signal_handlers(self) -> None:
        def handler(signum: int, frame: FrameType | None) -> None:
            # only set flags: a signal can arrive while this thread holds the audit log's lock
            self.stop_signal = signal.Signals(signum).name
            self.stop_requested_at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
            self.stop.set()
            self.wake.set()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def _purge(self) -> None:
        """The daily erasure ([retention]); a failure is logged and tried again the next day."""
        try:
            purge_for_settings(self.settings, now=dt.datetime.now(dt.UTC))
        except Exception as error:  # never stops the gateway
            self.log.error("purge-failed", error=repr(error))

    def _start_console(self) -> tuple[Any, threading.Thread] | None:
        """The web console beside the worker (``[console] with_run``); a console that cannot start
        (the port taken …) is logged and the gateway goes on without it."""
        try:
            import uvicorn

            from gateway.entrypoints.console.app import create_app

            console = self.settings.console
            app = create_app(self.settings, configure_audit=False)  # `gateway run` configured the audit log
            server = uvicorn.Server(
                uvicorn.Config(
                    app,
                    host=console.host,
                    port=console.port,
                    log_level="warning",
                    server_header=False,
                    proxy_headers=False,
                )
            )
        except Exception as error:  # never stops the gateway
            self.log.error("console-failed", error=repr(error))
            return None
        thread = threading.Thread(target=server.run, name="gateway-console", daemon=True)
        thread.start()  # outside the main thread uvicorn leaves the signal handlers to us
        self.log.info("console-started", url=f"http://{console.host}:{console.port}/")
        return server, thread

    def run(self, *, until_idle: bool = False, on_outcome: Callable[[Outcome], None] | None = None) -> None:
        """Process files until stopped (or, with ``until_idle``, until the inboxes are empty)."""
        self.spool.ensure()
        settings = self.settings
        ledger = Ledger(settings.ledger_path())
        pipeline = Pipeline(settings, ledger, spool=self.spool)
        scanner = StableScanner(
            self.spool.inboxes(),
            quiet_seconds=settings.spool.quiet_seconds,
            done_markers={name: channel.done_marker for name, channel in settings.channels.items()},
        )
        watcher = Watcher(list(self.spool.inboxes().values()), self.wake, rescan_seconds=settings.spool.rescan_seconds)
        self.log.info("started", spool=str(settings.spool.root), channels=sorted(settings.channels))
        report = on_outcome or (lambda outcome: None)
        # scheduled SFTP pulls and pushes run beside the worker, in their own thread
        endpoints = endpoints_of(settings)
        scheduler_stop = threading.Event()
        scheduler_thread: threading.Thread | None = None
        transfer_store: TransferStore | None = None
        console: tuple[Any, threading.Thread] | None = None
        if endpoints and not until_idle:
            transfer_store = TransferStore(settings.ledger_path())
            scheduler = Scheduler(endpoints, transfer_store, locks=EndpointLocks(settings.ledger_path().parent))
            scheduler_thread = threading.Thread(
                target=scheduler.serve,
                args=(scheduler_stop, EndpointRunner(settings, transfer_store)),
                name="gateway-scheduler",
                daemon=True,
            )
        try:
            for outcome in pipeline.recover():
                report(outcome)
            # after recovery (which renames the staged outputs it needs), what a dead process left
            planned = ledger.planned_temps()
            for folder in [self.spool.work, self.spool.reports, *(t.folder for t in pipeline.transports.values())]:
                for removed in remove_stale_temps(folder, dead_writers=True, keep=planned):
                    self.log.info("stale-temp-removed", path=str(removed))
            watcher.start()
            if scheduler_thread is not None:
                scheduler_thread.start()
            if settings.console.with_run and not until_idle:
                console = self._start_console()
            last_recovery = time.monotonic()
            last_purge: float | None = None
            while not self.stop.is_set():
                arrivals = scanner.scan()
                failures = 0
                for arrival in arrivals:
                    if self.stop.is_set():
                        break
                    try:
                        file_id = pipeline.claim(arrival, marker=scanner.marker_for(arrival))
                        if file_id is not None:
                            report(pipeline.process(file_id))
                    except Exception as error:
                        self.log.error(
                            "claim-failed", path=str(arrival.path), error=repr(error), traceback=traceback.format_exc()
                        )
                        failures += 1
                if failures and failures == len(arrivals):
                    self.wake.wait(settings.spool.rescan_seconds)  # only failing files: no busy loop
                if time.monotonic() - last_recovery > RECOVERY_EVERY:
                    for outcome in pipeline.recover():
                        report(outcome)
                    last_recovery = time.monotonic()
                if (
                    not until_idle
                    and settings.retention.enabled
                    and (last_purge is None or time.monotonic() - last_purge >= PURGE_EVERY)
                ):
                    self._purge()
                    last_purge = time.monotonic()
                if arrivals:
                    continue  # more may have arrived meanwhile
                due = scanner.due_in()
                if until_idle and due is None:
                    break
                timeout = (
                    settings.spool.rescan_seconds if due is None else max(0.05, min(due, settings.spool.rescan_seconds))
                )
                self.wake.wait(timeout)
                self.wake.clear()
        finally:
            if self.stop_signal:
                self.log.info("stopping", signal=self.stop_signal, requested_at=self.stop_requested_at)
            watcher.stop()
            if console is not None:
                server, console_thread = console
                server.should_exit = True
                console_thread.join(timeout=10)
            scheduler_stop.set()
            if scheduler_thread is not None and scheduler_thread.is_alive():
                scheduler_thread.join()  # a transfer under way finishes first
            if transfer_store is not None:
                transfer_store.close()
            ledger.close()
            self.log.info("stopped")
