"""`gateway decode barcode|ocr|elqr VALUE [--json]`: decode one payment-channel value.

Shows the fields a value carries and, when it is not valid, why: each error's code,
0-based position in the value, field, expected and found. With ``--json`` it prints one
object ``{"kind", "valid", "fields", "errors"}``. Exit code 0 when the value is valid,
1 when it is not. Personal values (納付番号, 案件特定キー, 確認番号, eL番号, an OCR body)
are masked like everywhere else in the gateway unless ``--unmask`` is given; the echoed
input value is masked with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from formats.masking import mask
from gateway.entrypoints.commands.output import shown, write_json

if TYPE_CHECKING:  # the codecs are imported when a value is decoded, not when the command line starts
    from formats.codecs._common import CodecResult

__all__ = ["decode_app", "register"]

console = Console()

decode_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Decode a convenience-store barcode, an OCR line or an eL-QR string. Exit 0 valid, 1 not.",
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
UnmaskOption = Annotated[bool, typer.Option("--unmask", help="Show personal values (納付番号, 確認番号 …) in full.")]


def _shown(result: CodecResult, unmask: bool) -> dict[str, Any]:
    """Fields ready to print: JSON-friendly, personal ones masked unless asked not to."""
    from formats.codecs._common import jsonable

    shown: dict[str, Any] = {}
    for name, value in result.fields.items():
        plain = jsonable(value)
        if not unmask and name in result.personal_fields and isinstance(plain, str):
            plain = mask(plain, "account")
        shown[name] = plain
    return shown


def _report(kind: str, result: CodecResult, as_json: bool, unmask: bool) -> None:
    """Print the result, then leave with 0 (valid) or 1 (not valid)."""
    from formats.codecs._common import result_dict

    value = result.value if unmask or not result.personal_fields else mask(result.value.strip(), "account")
    if as_json:
        write_json(result_dict(kind, result, value=value, fields=_shown(result, unmask)), masked=not unmask)
    else:
        from rich.table import Table

        status = "[green]valid[/green]" if result.valid else "[red]not valid[/red]"
        console.print(f"[bold]{kind}[/bold] {shown(value, masked=not unmask)}: {status}")
        table = Table("field", "名称", "value", title="fields")
        for name, value_shown in _shown(result, unmask).items():
            table.add_row(
                shown(name),
                shown(result.labels.get(name, "")),
                "-" if value_shown is None else shown(value_shown, masked=not unmask),
            )
        console.print(table)
        if result.errors:
            problems = Table("code", "severity", "position", "field", "expected", "found", "message", title="errors")
            for error in result.errors:
                problems.add_row(
                    str(error.code),
                    str(error.severity),
                    "-" if error.position is None else str(error.position),
                    shown(error.field),
                    shown(error.expected, masked=not unmask),
                    shown(error.found, masked=not unmask),
                    shown(error.message, masked=not unmask),
                )
            console.print(problems)
    raise typer.Exit(0 if result.valid else 1)


@decode_app.command("barcode")
def barcode(
    value: Annotated[str, typer.Argument(help='The 44 digits (an "EAN" prefix and surrounding spaces are fine).')],
    as_json: JsonOption = False,
    unmask: UnmaskOption = False,
    without_ai: Annotated[bool, typer.Option("--without-ai", help='The value is stored without the AI "91".')] = False,
    without_check_digit: Annotated[
        bool, typer.Option("--without-check-digit", help="The value is stored without its check digit.")
    ] = False,
) -> None:
    """Decode a convenience-store barcode (GS1-128, 料金代理収納, AI 91)."""
    from formats.codecs import DEFAULT_PROFILE, BarcodeProfile, decode_barcode

    profile = BarcodeProfile(
        name="command line",
        issuer_code_width=DEFAULT_PROFILE.issuer_code_width,
        free_field=DEFAULT_PROFILE.free_field,
        with_ai=not without_ai,
        with_check_digit=not without_check_digit,
    )
    _report("barcode", decode_barcode(value, profile=profile), as_json, unmask)


@decode_app.command("ocr")
def ocr(
    value: Annotated[str, typer.Argument(help="An upper (39-digit) or lower (44-digit) OCR line.")],
    as_json: JsonOption = False,
    unmask: UnmaskOption = False,
) -> None:
    """Decode a 払込取扱票-style OCR line and check its two check digits."""
    from formats.codecs import decode_ocr

    _report("ocr", decode_ocr(value), as_json, unmask)


@decode_app.command("elqr")
def elqr(
    value: Annotated[str, typer.Argument(help="The 255-character eL-QR text.")],
    as_json: JsonOption = False,
    unmask: UnmaskOption = False,
) -> None:
    """Decode an eL-QR (地方税統一QRコード) string: tags, MPN check digits, dates and CRC."""
    from formats.codecs import decode_elqr

    _report("elqr", decode_elqr(value), as_json, unmask)


def register(app: typer.Typer) -> None:
    """Add the ``decode`` command group to ``app``."""
    app.add_typer(decode_app, name="decode")
