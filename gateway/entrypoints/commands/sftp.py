"""`gateway pull ENDPOINT`, `gateway push ENDPOINT`, `gateway endpoints`, `gateway alerts`.

The endpoints come from the configuration's ``[endpoints.<name>]`` tables
(``Settings.endpoints``). A pull or push holds the endpoint's lock (the service's
scheduler and a terminal never run one endpoint at once) and records its run in the
ledger file, where `gateway endpoints` reads the last success and error of each.
Large transfers show a progress bar when standard output is a terminal.

Exit codes: 0 done; 1 done, but some remote names were refused or files were still
being written (see the audit log); 2 failed (configuration, connection, host key,
transfer); 3 the endpoint is already running.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from gateway.entrypoints.commands.options import ConfigOption, SpoolOption, load
from gateway.entrypoints.commands.output import shown, shown_lines, write_json

if TYPE_CHECKING:  # rich's progress bar and tables are imported when shown, the transport when it runs
    from rich.progress import Progress, TaskID

    from adapters.sftp import EndpointConfig
    from gateway.config.settings import Settings

__all__ = ["LARGE_TRANSFER", "TransferProgress", "register"]

#: A transfer at least this big shows a progress bar (on a terminal).
LARGE_TRANSFER = 4 * 1024 * 1024

console = Console()
errors = Console(stderr=True)

EndpointArgument = Annotated[str, typer.Argument(help="The endpoint's name ([endpoints.<name>] in the configuration).")]


def _endpoint(settings: Settings, name: str, direction: str | None = None) -> EndpointConfig:
    from adapters.schedule import endpoints_of

    endpoints = endpoints_of(settings)
    if name not in endpoints:
        errors.print(
            f"unknown endpoint {shown(repr(name))}: expected one of {shown(', '.join(sorted(endpoints))) or 'none configured'}"
        )
        raise typer.Exit(2)
    endpoint = endpoints[name]
    if direction == "pull" and not endpoint.pulls:
        errors.print(f"endpoint {shown(name)} does not pull (no remote_dir and channel)")
        raise typer.Exit(2)
    if direction == "push" and not endpoint.pushes:
        errors.print(f"endpoint {shown(name)} does not push (no remote_out_dir and destination)")
        raise typer.Exit(2)
    return endpoint


class TransferProgress:
    """A rich progress bar for each large transfer, when standard output is a terminal; else silent."""

    def __init__(self, *, enabled: bool | None = None, threshold: int = LARGE_TRANSFER) -> None:
        self.enabled = sys.stdout.isatty() if enabled is None else enabled
        self.threshold = threshold
        self._bar: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> TransferProgress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=False,
            )
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, name: str, done: int, total: int) -> None:
        if self._bar is None or total < self.threshold:
            return
        task = self._tasks.get(name)
        if task is None:
            task = self._tasks[name] = self._bar.add_task(shown(name), total=total)
        self._bar.update(task, completed=done)


def _lock_dir(settings: Settings) -> Path:
    return settings.ledger_path().parent


def _run(settings: Settings, name: str, direction: str) -> Any:
    from adapters.schedule import EndpointBusyError, EndpointLocks
    from adapters.sftp import HostKeyError, SFTPError, pull, push
    from gateway.reporting import audit
    from gateway.storage.transfers import TransferStore
    from spool.layout import SpoolLayout

    endpoint = _endpoint(settings, name, direction)
    audit.configure(settings.audit_path(), console=False)
    spool = SpoolLayout(settings.spool.root, settings.channels, settings.destinations)
    spool.ensure()
    with TransferStore(settings.ledger_path()) as store, TransferProgress() as progress:
        try:
            with EndpointLocks(_lock_dir(settings)).hold(name):
                if direction == "pull":
                    assert endpoint.channel is not None
                    return pull(name, endpoint, inbox=spool.inbox(endpoint.channel), store=store, progress=progress)
                assert endpoint.destination is not None
                return push(
                    name,
                    endpoint,
                    outbox=settings.destination_path(endpoint.destination),
                    store=store,
                    progress=progress,
                )
        except EndpointBusyError as busy:
            errors.print(f"{shown_lines(busy)}: try again when it has finished")
            raise typer.Exit(3) from None
        except HostKeyError as refusal:
            errors.print(f"[red]refused:[/red] {shown_lines(refusal)}")
            raise typer.Exit(2) from None
        except SFTPError as error:
            errors.print(f"[red]error:[/red] {shown_lines(error)}")
            raise typer.Exit(2) from None


def pull_command(endpoint: EndpointArgument, config: ConfigOption = None, spool: SpoolOption = None) -> None:
    """Pull the endpoint's new remote files into its channel's inbox now."""
    settings = load(config, spool)
    result = _run(settings, endpoint, "pull")
    for pulled in result.pulled:
        console.print(f"pulled {shown(pulled.remote_path)} → {shown(pulled.local_path)} ({pulled.size:,} bytes)")
    for name in result.refused:
        errors.print(f"[yellow]refused[/yellow] remote name {shown(repr(name))}: not a safe file name (not pulled)")
    for name in result.changed:
        errors.print(f"[yellow]later[/yellow] {shown(name)}: changed while being pulled (still being written?)")
    for name in result.dispose_failed:
        errors.print(f"[yellow]kept[/yellow] {shown(name)}: pulled, but the server refused the after_pull action")
    console.print(f"{shown(endpoint)}: {len(result.pulled)} pulled, {result.already_pulled} already pulled before")
    raise typer.Exit(1 if result.refused or result.changed else 0)


def push_command(endpoint: EndpointArgument, config: ConfigOption = None, spool: SpoolOption = None) -> None:
    """Push the files waiting in the endpoint's destination outbox now."""
    settings = load(config, spool)
    result = _run(settings, endpoint, "push")
    for pushed in result.pushed:
        console.print(f"pushed {shown(pushed.local_path.name)} → {shown(pushed.remote_path)}")
    for skipped in result.skipped:
        console.print(f"skipped {shown(skipped.local_path.name)}: already pushed as {shown(skipped.remote_path)}")
    console.print(f"{shown(endpoint)}: {len(result.pushed)} pushed, {len(result.skipped)} already pushed before")
    raise typer.Exit(0)


def _when(text: str | None) -> str:
    if not text:
        return "-"
    from formats.dates import JST

    return dt.datetime.fromisoformat(text).astimezone(JST).strftime("%Y-%m-%d %H:%M")


def endpoints_command(
    config: ConfigOption = None,
    spool: SpoolOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead of a table.")] = False,
) -> None:
    """List the SFTP endpoints: last success, last error and next scheduled run of each."""
    from adapters.schedule import Scheduler, endpoints_of, now_jst
    from gateway.storage.transfers import TransferStore

    settings = load(config, spool)
    endpoints = endpoints_of(settings)
    scheduler = Scheduler(endpoints)
    now = now_jst()
    rows: list[dict[str, Any]] = []
    ledger = settings.ledger_path()
    store = TransferStore(ledger) if ledger.exists() else None
    try:
        for name, endpoint in sorted(endpoints.items()):
            success = store.last_success(name) if store else None
            failure = store.last_error(name) if store else None
            upcoming = scheduler.next_run(name, now)
            rows.append(
                dict(
                    endpoint=name,
                    direction="+".join(d for d, on in (("pull", endpoint.pulls), ("push", endpoint.pushes)) if on),
                    server=f"{endpoint.user}@{endpoint.host}:{endpoint.port}",
                    schedule=endpoint.schedule,
                    business_days_only=endpoint.business_days_only,
                    last_success=success.finished_at if success else None,
                    last_error=failure.finished_at if failure else None,
                    last_error_message=failure.error if failure else None,
                    next_run=upcoming.isoformat() if upcoming else None,
                )
            )
    finally:
        if store is not None:
            store.close()
    if as_json:
        write_json(rows)
        return
    if not rows:
        console.print("no endpoints configured ([endpoints.<name>] in the configuration)")
        return
    from rich.table import Table

    table = Table("endpoint", "does", "server", "schedule (JST)", "last success", "last error", "next run (JST)")
    for row in rows:
        error = "-" if not row["last_error"] else f"{_when(row['last_error'])}\n{shown(row['last_error_message'])}"
        schedule = (row["schedule"] or "-") + (" (business days)" if row["business_days_only"] else "")
        table.add_row(
            shown(row["endpoint"]),
            row["direction"],
            shown(row["server"]),
            shown(schedule),
            _when(row["last_success"]),
            error,
            dt.datetime.fromisoformat(row["next_run"]).strftime("%Y-%m-%d %H:%M") if row["next_run"] else "-",
        )
    console.print(table)


def alerts_command(
    config: ConfigOption = None,
    spool: SpoolOption = None,
    limit: Annotated[int, typer.Option(help="How many recent alerts.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead of a table.")] = False,
) -> None:
    """List the alerts: expected files that had not arrived by their cut-off, endpoints that kept failing."""
    from gateway.storage.transfers import TransferStore

    settings = load(config, spool)
    ledger = settings.ledger_path()
    if not ledger.exists():
        alerts = []
    else:
        with TransferStore(ledger) as store:
            alerts = store.alerts(limit=limit)
    if as_json:
        write_json([vars(alert) for alert in alerts])
        return
    from rich.table import Table

    table = Table("date", "kind", "endpoint", "channel", "message", "raised (JST)")
    for alert in alerts:
        table.add_row(
            shown(alert.date),
            shown(alert.kind),
            shown(alert.endpoint),
            shown(alert.channel),
            shown(alert.message),
            _when(alert.raised_at),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add `pull`, `push`, `endpoints` and `alerts` to the `gateway` command line."""
    app.command("pull")(pull_command)
    app.command("push")(push_command)
    app.command("endpoints")(endpoints_command)
    app.command("alerts")(alerts_command)
