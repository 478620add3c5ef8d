"""The `gateway` command line."""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from formats.check import validate_path
from formats.errors import Reason
from formats.layout import FileLayout
from formats.masking import mask
from formats.reader import RecordReader
from formats.registry import FORMATS, UnknownFormatError, get_format, identify
from formats.validate import Status, ValidationResult

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="File gateway for the tax collection section (収納課): bank and agent files in, validated and routed out.",
)
console = Console()
errors = Console(stderr=True)

FormatOption = Annotated[Optional[str], typer.Option("--format", "-f", help="Format identifier (see `gateway formats`); identified from the content when omitted.")]
PermissiveOption = Annotated[bool, typer.Option("--permissive", help="Permissive charset and filler rules instead of strict 全銀 rules.")]


def _layout_for(path: Path, format_id: str | None) -> FileLayout:
    if format_id:
        return get_format(format_id)
    with path.open("rb") as stream:
        return identify(stream.read(256))


def _open_layout(path: Path, format_id: str | None) -> FileLayout:
    if not path.is_file():
        errors.print(f"[red]error:[/red] {path}: no such file")
        raise typer.Exit(2)
    try:
        return _layout_for(path, format_id)
    except UnknownFormatError as error:
        errors.print(f"[red]error:[/red] {path}: {error}")
        raise typer.Exit(2) from None


@app.command()
def formats(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print every layout field by field (docs/layouts.md).")] = False,
) -> None:
    """List the formats the gateway reads and writes, with their identifiers."""
    if markdown:
        from formats.describe import layouts_markdown

        sys.stdout.write(layouts_markdown(FORMATS.values()))
        return
    table = Table("identifier", "format", "record length", "description")
    for layout in FORMATS.values():
        table.add_row(layout.id, layout.title, str(layout.record_length), layout.description)
    console.print(table)


@app.command()
def inspect(
    file: Annotated[Path, typer.Argument(help="The file to show.")],
    format_id: FormatOption = None,
    limit: Annotated[int, typer.Option(help="Show at most this many records.")] = 200,
    permissive: PermissiveOption = False,
) -> None:
    """Show a file's records as a table (personal values masked)."""
    layout = _open_layout(file, format_id)
    table = Table("#", "offset", "type", "fields", "problems", title=f"{file} — {layout.id}", show_lines=False)
    shown = 0
    with file.open("rb") as stream:
        reader = RecordReader(stream, layout, strict=not permissive)
        for result in reader:
            if shown >= limit:
                break
            fields = []
            if result.layout is not None:
                for spec in result.layout.fields:
                    if spec.reported and spec.name in result.values and spec.name != "record_type":
                        value = result.values[spec.name]
                        text = "" if value is None else str(value)
                        fields.append(escape(f"{spec.label}={mask(text, spec.personal)}"))
            problems = "\n".join(f"[{'yellow' if i.severity == 'warning' else 'red'}]{i.code}[/] {escape(i.field or '')}"
                                 for i in result.issues)
            table.add_row(str(result.index), str(result.offset), result.role or "?", " ".join(fields), problems)
            shown += 1
    console.print(table)


def _number(value: int | None) -> str:
    """A total for a table: '-' when it is not known (not declared, or not provable)."""
    return "-" if value is None else f"{value:,}"


def _print_summary(result: ValidationResult) -> None:
    colour = {Status.OK: "green", Status.REJECTED_RECORDS: "yellow", Status.REJECTED_FILE: "red"}[result.status]
    console.print(f"[bold]{escape(str(result.file))}[/bold]  format {result.format}  separator {result.separator}")
    console.print(f"status: [{colour}]{result.status}[/]  data records {result.records:,}  "
                  f"accepted {result.accepted:,}  rejected {result.rejected_records:,}")
    if result.groups:
        table = Table("group", "kind", "item", "declared (trailer)", "computed (records)", "")
        for group in result.groups:
            for key, computed in group.computed.items():
                declared = None if group.declared is None else group.declared.get(key)
                mark = "" if declared == computed else "[red]✗[/red]"
                table.add_row(str(group.index), group.kind, key, _number(declared), _number(computed), mark)
        console.print(table)
    for title, items in (("rejected", result.errors), ("warnings", result.warnings)):
        if not items:
            continue
        table = Table("record", "offset", "level", "code", "field", "expected", "found", title=title)
        for item in items:
            table.add_row(
                "-" if item.record is None else str(item.record),
                "-" if item.offset is None else str(item.offset),
                str(item.level), str(item.code),
                escape(f"{item.field_ja} ({item.field})") if item.field else "",
                escape(item.expected or ""), escape(item.found or ""),
            )
        console.print(table)


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="The file to check.")],
    format_id: FormatOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
    permissive: PermissiveOption = False,
    fast: Annotated[bool, typer.Option("--fast/--no-fast", help="Use the vectorised fast path where the file allows it.")] = True,
) -> None:
    """Check every field, record and control total. Exit 0 clean, 1 rejected records, 2 file refused."""
    if as_json and file.is_file():
        try:
            _layout_for(file, format_id)
        except UnknownFormatError as error:
            refusal = {"file": str(file), "format": None, "status": "rejected-file", "records": 0,
                       "rejected": [{"code": str(Reason.UNKNOWN_FORMAT), "level": "file", "record": None, "offset": 0,
                                     "field": None, "message": str(error)}], "groups": [], "warnings": []}
            sys.stdout.write(json.dumps(refusal, ensure_ascii=False, indent=2) + "\n")
            raise typer.Exit(2) from None
    layout = _open_layout(file, format_id)
    result = validate_path(file, layout, strict=not permissive, fast=fast)
    if as_json:
        sys.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        _print_summary(result)
    raise typer.Exit(result.exit_code)


@app.command()
def run() -> None:
    """Validate the bundled sample files (the spool pipeline will run here)."""
    samples = resources.files("gateway") / "samples"
    worst = 0
    for entry in sorted(samples.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".dat"):
            continue
        with resources.as_file(entry) as path:
            layout = _open_layout(path, None)
            result = validate_path(path, layout)
            _print_summary(result)
            worst = max(worst, result.exit_code)
            console.print()
    console.print("[bold]done[/bold]: every bundled sample validated (see statuses above)")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
