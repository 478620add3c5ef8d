"""The `gateway` command line.

Each command imports what it uses when it runs (the layouts and their validators, numpy,
rich tables, the pipeline, the SFTP transport …), not when the command line starts: a
`gateway pull` or `gateway push` does not pay for the formats it never reads, and
`gateway --help` for none of them (tests/integration/test_cli_imports.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from gateway.entrypoints.commands.options import ConfigOption, SpoolOption, load
from gateway.entrypoints.commands.output import safe_lines, shown, shown_lines, write_json

if TYPE_CHECKING:
    from formats.layout import FileLayout
    from formats.validator import ValidationResult
    from gateway.config.settings import Settings
    from gateway.storage.ledger import Ledger

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="File gateway for the tax collection section (収納課): bank and agent files in, validated and routed out.",
)
console = Console()
errors = Console(stderr=True)

FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format", "-f", help="Format identifier (see `gateway formats`); identified from the content when omitted."
    ),
]
PermissiveOption = Annotated[
    bool, typer.Option("--permissive", help="Permissive charset and filler rules instead of strict 全銀 rules.")
]


def _all_formats() -> dict[str, FileLayout]:
    """Built-in formats and the default layout files (formats/layouts/)."""
    from formats.registry import load_formats

    return load_formats()


def _layout_for(path: Path, format_id: str | None) -> FileLayout:
    from formats.registry import get_format, identify

    formats = _all_formats()
    if format_id:
        return get_format(format_id, formats)
    with path.open("rb") as stream:
        return identify(stream.read(1024), formats)


def _open_layout(path: Path, format_id: str | None) -> FileLayout:
    from formats.registry import UnknownFormatError

    if not path.is_file():
        errors.print(f"[red]error:[/red] {shown(path)}: no such file")
        raise typer.Exit(2)
    try:
        return _layout_for(path, format_id)
    except UnknownFormatError as error:
        errors.print(f"[red]error:[/red] {shown(path)}: {shown_lines(error)}")
        raise typer.Exit(2) from None


@app.command()
def formats(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print every layout field by field (docs/layouts.md).")
    ] = False,
) -> None:
    """List the formats the gateway reads and writes, with their identifiers."""
    if markdown:
        from formats.describe import layouts_markdown
        from formats.registry import FORMATS

        sys.stdout.write(layouts_markdown(FORMATS.values()))
        return
    from rich.table import Table

    from formats.describe import fast_path_column

    table = Table("identifier", "format", "record length", "fast path (一括検査)", "description")
    for layout in _all_formats().values():
        table.add_row(layout.id, layout.title, str(layout.record_length), fast_path_column(layout), layout.description)
    console.print(table)


@app.command()
def inspect(
    file: Annotated[Path, typer.Argument(help="The file to show.")],
    format_id: FormatOption = None,
    limit: Annotated[int, typer.Option(help="Show at most this many records.")] = 200,
    permissive: PermissiveOption = False,
) -> None:
    """Show a file's records as a table (personal values masked)."""
    from rich.table import Table

    from formats.masking import mask
    from formats.reader import RecordReader

    layout = _open_layout(file, format_id)
    table = Table("#", "offset", "type", "fields", "problems", title=f"{shown(file)} — {layout.id}", show_lines=False)
    listed = 0
    with file.open("rb") as stream:
        reader = RecordReader(stream, layout, strict=not permissive)
        for result in reader:
            if listed >= limit:
                break
            fields = []
            if result.layout is not None:
                for spec in result.layout.fields:
                    if spec.reported and spec.name in result.values and spec.name != "record_type":
                        value = result.values[spec.name]
                        text = "" if value is None else str(value)
                        fields.append(shown(f"{spec.label}={mask(text, spec.personal)}"))
            problems = "\n".join(
                f"[{'yellow' if i.severity == 'warning' else 'red'}]{i.code}[/] {shown(i.field)}" for i in result.issues
            )
            table.add_row(str(result.index), str(result.offset), result.role or "?", " ".join(fields), problems)
            listed += 1
    console.print(table)


def _number(value: int | None) -> str:
    """A total for a table: '-' when it is not known (not declared, or not provable)."""
    return "-" if value is None else f"{value:,}"


def _print_summary(result: ValidationResult) -> None:
    """The text of `gateway validate`: the report's summary, totals, rejections and warnings
    (gateway/reporting/templates/validation.txt, which extends the text of `gateway report`)."""
    import datetime as dt

    from gateway.reporting.reports import FileReport, render_validation_text

    # A file checked outside the spool has no id, channel, receipt time, digest or folder: the
    # validation's summary shows none of them (the pipeline's reports fill them from the ledger).
    report = FileReport.from_validation(
        result,
        original_name=str(result.file or ""),
        file_id="-",
        channel="-",
        sha256="0" * 64,
        received_at=dt.datetime.now(dt.UTC),
        state="work",
    )
    sys.stdout.write(safe_lines(render_validation_text(report)))


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="The file to check.")],
    format_id: FormatOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
    permissive: PermissiveOption = False,
    fast: Annotated[
        bool, typer.Option("--fast/--no-fast", help="Use the vectorised fast path where the file allows it.")
    ] = True,
) -> None:
    """Check every field, record and control total. Exit 0 clean, 1 rejected records, 2 file refused."""
    from formats.errors import Level, Reason, Rejection
    from formats.registry import UnknownFormatError
    from formats.validate import validate_path

    if as_json and file.is_file():
        try:
            layout = _layout_for(file, format_id)
        except UnknownFormatError as error:
            refusal = {
                "file": str(file),
                "format": None,
                "status": "rejected-file",
                "records": 0,
                "rejected": [Rejection(Reason.UNKNOWN_FORMAT, Level.FILE, str(error), offset=0).as_dict()],
                "groups": [],
                "warnings": [],
            }
            write_json(refusal)
            raise typer.Exit(2) from None
    else:
        layout = _open_layout(file, format_id)
    result = validate_path(file, layout, strict=not permissive, fast=fast)
    if as_json:
        write_json(result.as_dict())
    else:
        _print_summary(result)
    raise typer.Exit(result.exit_code)


def _open_ledger(settings: Settings) -> Ledger:
    from gateway.storage.ledger import Ledger

    path = settings.ledger_path()
    if not path.exists():
        errors.print(f"no ledger at {shown(path)}: nothing has been processed on this spool yet")
        raise typer.Exit(2)
    return Ledger(path)


@app.command()
def run(config: ConfigOption = None, spool: SpoolOption = None) -> None:
    """Watch the inboxes and process every file that arrives, until SIGTERM or Ctrl-C."""
    from gateway.entrypoints.service import Service
    from gateway.reporting import audit

    settings = load(config, spool)
    audit.configure(settings.audit_path(), console=None)
    service = Service(settings)
    service.install_signal_handlers()
    console.print(
        f"gateway: watching {shown(settings.spool.root / 'inbox')}/<channel>/ "
        f"({shown(', '.join(sorted(settings.channels)))}); outputs in {shown(settings.spool.root / 'outbox')}/; "
        "Ctrl-C to stop"
    )
    service.run(
        on_outcome=lambda outcome: console.print(
            f"{shown(outcome.file_id)}  {shown(outcome.state):<11} {shown(outcome.status)}"
            + "".join(f"\n    → {shown(d.path)} ({d.records} records)" for d in outcome.outputs)
        )
    )


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="The file to push through the pipeline.")],
    channel: Annotated[str, typer.Option("--channel", help="The channel (inbox) it belongs to.")],
    config: ConfigOption = None,
    spool: SpoolOption = None,
) -> None:
    """Push one file through the same pipeline as `gateway run`, then exit.
    Exit 0 archived clean, 1 archived with rejected records, 2 refused (quarantine, rejected, duplicate)."""
    from gateway.datapath.pipeline import Pipeline
    from gateway.reporting import audit
    from gateway.storage.ledger import Ledger
    from spool.atomic import atomic_write
    from spool.scanner import Arrival

    settings = load(config, spool)
    if channel not in settings.channels:
        errors.print(
            f"unknown channel {shown(repr(channel))}: expected one of {shown(', '.join(sorted(settings.channels)))}"
        )
        raise typer.Exit(2)
    if not file.is_file():
        errors.print(f"{shown(file)}: no such file")
        raise typer.Exit(2)
    audit.configure(settings.audit_path(), console=False)
    settings.spool.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    with Ledger(settings.ledger_path()) as ledger:
        pipeline = Pipeline(settings, ledger)
        pipeline.spool.ensure()
        target = pipeline.spool.inbox(channel) / file.name
        if target.exists():
            errors.print(f"{shown(target)} already waits in the inbox: not overwriting it")
            raise typer.Exit(2)
        with file.open("rb") as source:
            atomic_write(target, iter(lambda: source.read(1 << 20), b""))
        stat = target.stat()
        file_id = pipeline.claim(Arrival(channel, target, stat.st_size, stat.st_mtime_ns))
        if file_id is None:
            errors.print("another gateway process took the file first")
            raise typer.Exit(2)
        outcome = pipeline.process(file_id)
    console.print(f"{shown(outcome.file_id)}  {shown(outcome.state)}  {shown(outcome.status)}")
    for delivery in outcome.outputs:
        console.print(f"  → {shown(delivery.path)} ({delivery.records} records)")
    if outcome.state == "archived":
        raise typer.Exit(0 if outcome.status == "ok" else 1)
    raise typer.Exit(2)


@app.command()
def files(
    config: ConfigOption = None,
    spool: SpoolOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead of a table.")] = False,
    limit: Annotated[int, typer.Option(help="How many recent files.")] = 50,
    state: Annotated[str | None, typer.Option(help="Only files in this state (archived, quarantined …).")] = None,
    channel: Annotated[str | None, typer.Option(help="Only files of this channel.")] = None,
) -> None:
    """List recent files, their states and counts."""
    settings = load(config, spool)
    with _open_ledger(settings) as ledger:
        rows = ledger.recent(limit, state=state, channel=channel)
    if as_json:
        write_json([row.as_dict() for row in rows])
        return
    from rich.table import Table

    table = Table("id", "channel", "file", "state", "status", "records", "accepted", "rejected", "received (UTC)")
    for row in rows:
        table.add_row(
            shown(row.id),
            shown(row.channel),
            shown(row.original_name),
            shown(row.state),
            shown(row.status),
            _number(row.records),
            _number(row.accepted),
            _number(row.rejected_records),
            shown(row.received_at[:19]),
        )
    console.print(table)


@app.command()
def report(
    file_id: Annotated[str, typer.Argument(help="The file's id (or a unique prefix of it).")],
    config: ConfigOption = None,
    spool: SpoolOption = None,
    kind: Annotated[str, typer.Option("--as", help="text, json, csv or html")] = "text",
) -> None:
    """Print one file's report (rejected records, totals, outputs)."""
    from gateway.reporting.reports import read_report, render_text

    settings = load(config, spool)
    with _open_ledger(settings) as ledger:
        row = ledger.find(file_id)
    if row is None or not row.report_json:
        errors.print(f"no report for {shown(file_id)}: see `gateway files` for the ids")
        raise typer.Exit(2)
    if kind == "text":
        model = read_report(row.report_json)
        sys.stdout.write(safe_lines(render_text(model)) + "\n")
        return
    path = {"json": row.report_json, "csv": row.report_csv, "html": row.report_html}.get(kind)
    if path is None:
        errors.print(f"--as {shown(kind)}: expected text, json, csv or html")
        raise typer.Exit(2)
    text = Path(path).read_text(encoding="utf-8-sig" if kind == "csv" else "utf-8")
    if kind == "json":  # the same JSON, with safe_json's escapes
        import json

        write_json(json.loads(text))
    elif kind == "csv":  # the same cells, each made safe (a value's line break too)
        sys.stdout.write(_safe_csv(text))
    else:
        sys.stdout.write(safe_lines(text))


def _safe_csv(text: str) -> str:
    """A CSV text with each cell made safe to show (formats.masking.safe_text), quoted as before."""
    import csv
    import io

    from formats.checkdigits import mask_my_numbers
    from formats.masking import safe_text

    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")  # as read_text gave the lines before
    for cells in csv.reader(io.StringIO(text, newline="")):
        writer.writerow([safe_text(mask_my_numbers(cell)) for cell in cells])
    return out.getvalue()


@app.command()
def reprocess(
    file_id: Annotated[str, typer.Argument(help="The file's id (or a unique prefix of it).")],
    force: Annotated[
        bool, typer.Option("--force", help="Process even content already processed (posting it again).")
    ] = False,
    config: ConfigOption = None,
    spool: SpoolOption = None,
) -> None:
    """Put a finished file (archived, rejected, quarantined, duplicate) through the pipeline again."""
    from gateway.datapath.pipeline import Pipeline
    from gateway.reporting import audit

    settings = load(config, spool)
    audit.configure(settings.audit_path(), console=False)
    with _open_ledger(settings) as ledger:
        row = ledger.find(file_id)
        if row is None:
            errors.print(f"no file {shown(file_id)}: see `gateway files` for the ids")
            raise typer.Exit(2)
        pipeline = Pipeline(settings, ledger)
        pipeline.spool.ensure()
        try:
            new_id = pipeline.reprocess(row, force=force)
        except (ValueError, FileNotFoundError) as error:
            errors.print(shown_lines(error))
            raise typer.Exit(2) from None
        outcome = pipeline.process(new_id)
    console.print(
        f"{shown(row.id)} reprocessed as {shown(outcome.file_id)}: {shown(outcome.state)} {shown(outcome.status)}"
    )
    for delivery in outcome.outputs:
        console.print(f"  → {shown(delivery.path)} ({delivery.records} records)")
    raise typer.Exit(0 if outcome.state == "archived" else 2)


def _register_commands() -> None:
    """Commands that live in their own modules (gateway/entrypoints/commands/)."""
    from gateway.entrypoints.commands import console, decode, purge, sftp, users

    console.register(app)
    decode.register(app)
    purge.register(app)
    sftp.register(app)
    users.register(app)


_register_commands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
