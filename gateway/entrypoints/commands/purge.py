"""`gateway purge [--config PATH] [--spool DIR] [--dry-run] [--json]`: erase what outlived its retention.

Erases the inputs, reports and delivered outputs whose retention period (the
configuration's ``[retention]`` table, gateway/datapath/retention.py) has passed, clears the
personal data of their ledger rows (keeping ids, hashes, sizes, counts and times) and
drops the audit log's old lines; one ``erased`` audit event per erasure. ``--dry-run``
prints what would be erased and changes nothing. The service does the same once a day.

Exit codes: 0 done (or nothing to do, or retention disabled); 2 the configuration is not
valid.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from gateway.entrypoints.commands.options import ConfigOption, SpoolOption, load
from gateway.entrypoints.commands.output import shown, write_json

if TYPE_CHECKING:
    from gateway.datapath.retention import PurgeResult

__all__ = ["purge_command", "register"]

console = Console()
errors = Console(stderr=True)


def _print(result: PurgeResult) -> None:
    from rich.table import Table

    verb = "would erase" if result.dry_run else "erased"
    counts = result.counts
    by_state = ", ".join(
        f"{state} {counts[state]}" for state in ("archived", "rejected", "quarantined", "duplicate") if counts[state]
    )
    console.print(
        f"{verb}: {counts['files']} files"
        + (f" ({by_state})" if by_state else "")
        + f", the reports of {counts['reports']} more, {counts['outputs']} outputs; "
        f"{counts['files_deleted']} files {'to delete' if result.dry_run else 'deleted'}, "
        f"{counts['already_gone']} already gone; {counts['audit_lines_dropped']} audit log lines "
        f"{'to drop' if result.dry_run else 'dropped'}"
    )
    if result.erased or result.reports_erased or result.outputs_erased:
        table = Table("file", "what", title=f"{verb} (as of {result.now[:19]} UTC)")
        for file_id in result.erased:
            table.add_row(shown(file_id), "input, reports, personal data in the ledger")
        for file_id in result.reports_erased:
            table.add_row(shown(file_id), "reports")
        for file_id, destination in result.outputs_erased:
            table.add_row(shown(file_id), f"output to {shown(destination)}")
        console.print(table)
    if result.kept:
        table = Table("file", "what", "kept because", title="due but kept")
        for item in result.kept:
            what = item["what"] + (f" to {item['destination']}" if "destination" in item else "")
            table.add_row(shown(item["file_id"]), shown(what), shown(item["reason"]))
        console.print(table)


def purge_command(
    config: ConfigOption = None,
    spool: SpoolOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be erased; change nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")] = False,
) -> None:
    """Erase the inputs, reports and outputs whose retention period has passed ([retention])."""
    from gateway.datapath.retention import purge_for_settings
    from gateway.reporting import audit

    settings = load(config, spool)
    if not dry_run:
        audit.configure(settings.audit_path(), console=False)
    result = purge_for_settings(settings, now=dt.datetime.now(dt.UTC), dry_run=dry_run)
    if as_json:
        write_json(result.as_dict())
    elif not result.enabled:
        console.print("retention is disabled ([retention] enabled = false): nothing erased")
    else:
        _print(result)


def register(app: typer.Typer) -> None:
    """Add `purge` to the `gateway` command line."""
    app.command("purge")(purge_command)
