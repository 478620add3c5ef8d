"""Benchmark: the per-file reports (gateway.reporting.reports.write_reports: JSON, CSV, HTML) of a
file with 100,000 flagged records, beside a baseline measured in the same run.

    PYTHONPATH=. .venv/bin/python benchmarks/reports.py [-n 100000] [--repeat 3]

The report is built as the pipeline builds it (FileReport.from_validation of a ValidationResult,
then posting flags added with model_copy): half errors, half warnings, invented data in the
shape the validator and the posting write (``record N, offset M: expected …, found …``, masked
names, codes, dates, bank and branch codes). One flagged record in 50 carries a valid invented
individual number (12 digits plus the check digit, ASCII or full-width, whole or split by
spaces or hyphens, touching letters or kana) in its found value or message; the script checks
that every written file holds ``[個人番号]`` at least once per planted number and no number
formats.checkdigits.find_my_numbers would find.

The figure: CPU seconds (time.process_time) of write_reports into a temporary folder, the best
of ``--repeat`` runs. The baseline, in the same process right before: ``json.dumps`` (compact,
ensure_ascii=False) of the same report and ``csv.writer.writerows`` of the same 100,000 rows,
encoded and written to two files — no masking, no escaping, no HTML, no indentation: the floor
of "serialise these rows", not a report.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.baseline import line  # noqa: E402
from formats.checkdigits import MY_NUMBER_MASK, find_my_numbers, my_number_check_digit  # noqa: E402
from formats.errors import Level, Reason, Rejection, Severity  # noqa: E402
from formats.validator import GroupSummary, Status, ValidationResult  # noqa: E402
from gateway.reporting.reports import FileReport, write_reports  # noqa: E402

_WIDE = str.maketrans("0123456789", "０１２３４５６７８９")

#: (field, 項目名, expected, a found value, byte offset in a 120-byte record)
_FIELDS = [
    ("account_holder", "預金者名", "half-width kana (JIS X 0201) and space", "ﾃ*****", 80),
    ("amount", "引落金額", "10 ASCII digits", "00001O000", 110),
    ("bank_code", "引落銀行番号", "a code in the bank master", "9999", 1),
    ("due_date", "引落日", "a date MMDD", "0231", 40),
    ("customer_number", "顧客番号", "20 ASCII digits", "*****************123", 91),
    ("result_code", "振替結果コード", "one of 0, 1, 2, 3, 4, 8, 9", "7", 111),
]
_CODES = [Reason.FIELD_CHARSET, Reason.FIELD_NOT_NUMERIC, Reason.FIELD_CODE, Reason.FIELD_DATE]


def invented_number(rng: random.Random) -> str:
    """An invented individual number: 11 random digits and the check digit the public rule gives them."""
    body = "".join(rng.choice("0123456789") for _ in range(11))
    return body + str(my_number_check_digit(body))


def _number_form(rng: random.Random, number: str) -> str:
    form = rng.randrange(5)
    if form == 0:
        return number
    if form == 1:
        return number.translate(_WIDE)
    if form == 2:
        return f"{number[:4]} {number[4:8]} {number[8:]}"
    if form == 3:
        return f"{number[:4]}-{number[4:8]}-{number[8:]}"
    return "ｱ" + number.translate(_WIDE)


def make_report(n: int = 100_000, seed: int = 91) -> tuple[FileReport, list[str]]:
    """A FileReport with ``n`` flagged records (half errors, half warnings), and the invented
    individual numbers planted in it (as ASCII digits)."""
    rng = random.Random(seed)
    planted: list[str] = []
    errors: list[Rejection] = []
    for index in range(n // 2):
        record = 2 + index * 2
        field, field_ja, expected, found, at = _FIELDS[index % len(_FIELDS)]
        if index % 50 == 7:
            number = invented_number(rng)
            planted.append(number)
            found = "X" + _number_form(rng, number)
        offset = (record - 1) * 122 + at
        errors.append(
            Rejection(
                code=_CODES[index % len(_CODES)],
                level=Level.FIELD,
                message=f"record {record}, offset {offset}: expected {expected}, found {found}",
                record=record,
                offset=offset,
                field=field,
                field_ja=field_ja,
                expected=expected,
                found=found,
            )
        )
    warnings: list[Rejection] = []
    for index in range(n - n // 2):
        record = 3 + index * 2
        offset = (record - 1) * 122 + 1
        bank, branch = f"{rng.randrange(1, 10000):04d}", f"{rng.randrange(1, 1000):03d}"
        warnings.append(
            Rejection(
                code=Reason.UNKNOWN_BRANCH,
                level=Level.FIELD,
                message=f"record {record}, offset {offset}: branch {branch} of bank {bank} is not in the master",
                record=record,
                offset=offset,
                field="branch_code",
                field_ja="引落支店番号",
                expected="a branch in the bank master",
                found=f"{bank}-{branch}",
                severity=Severity.WARNING,
            )
        )
    result = ValidationResult(
        format="zengin-91",
        status=Status.REJECTED_RECORDS,
        separator="CRLF",
        size=(n + 3) * 122,
        records=n + 1,
        accepted=n + 1 - n // 2,
        rejected_records=n // 2,
        groups=[GroupSummary(1, 1, n + 2, "request", {"count": n + 1, "amount": 1}, {"count": n + 1, "amount": 2})],
        errors=errors,
        warnings=warnings[: len(warnings) - len(warnings) // 10],
        file="/srv/gateway/work/bank/ZF20240527.dat",
    )
    report = FileReport.from_validation(
        result,
        file_id="20240527-100203-0badcafe",
        channel="bank",
        sha256="0123456789abcdef" * 4,
        received_at="2024-05-27T01:02:03+00:00",
        state="archive",
    )
    # posting flags (a tenth of the warnings), added as the pipeline adds them: without validation
    flags: list[dict[str, Any]] = []
    for index in range(len(warnings) // 10):
        record = 3 + index * 20
        message = f"posted before on 2024-05-{1 + index % 27:02d} (receipt {index:08d})"
        if index % 50 == 3:
            number = invented_number(rng)
            planted.append(number)
            message += f" with 番号 {_number_form(rng, number)}"
        flags.append(
            {
                "code": "DOUBLE_PAYMENT",
                "level": "record",
                "severity": "warning",
                "record": record,
                "message": message,
                "message_ja": "同じ納付書（期別）に対する収納が既にあります（二重納付）。還付候補として確認してください。",
            }
        )
    report = report.model_copy(update={"warnings": [*report.warnings, *flags]})
    assert len(report.rejected) + len(report.warnings) == n
    return report, planted


def baseline(report: FileReport, folder: Path) -> float:
    """CPU seconds: compact json.dumps of the report and csv.writer of its rows, encoded and written."""
    issues = report.issues
    columns = ("severity", "record", "offset", "field_ja", "field", "code", "expected", "found", "message_ja")
    start = time.process_time()
    data = report.model_dump(mode="json")
    (folder / "baseline.json").write_bytes(json.dumps(data, ensure_ascii=False).encode("utf-8"))
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows([[issue.get(key) for key in columns] for issue in issues])
    (folder / "baseline.csv").write_bytes(buffer.getvalue().encode("utf-8-sig"))
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--records", type=int, default=100_000, help="flagged records (errors and warnings)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is printed")
    args = parser.parse_args()
    n = args.records

    report, planted = make_report(n)
    print(f"# reports: {n:,} flagged records ({len(report.rejected):,} errors, {len(report.warnings):,} warnings), ")
    print(f"#   {len(planted):,} invented individual numbers planted; CPU seconds, best of {args.repeat}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base = min(baseline(report, folder) for _ in range(args.repeat))
        runs = []
        for _ in range(args.repeat):
            start = time.process_time()
            paths = write_reports(folder / "reports", report)
            runs.append(time.process_time() - start)
        sizes = {kind: path.stat().st_size for kind, path in paths.items()}
        for kind, path in paths.items():  # every planted number masked (each is in one cell at least)
            text = path.read_bytes().decode("utf-8-sig")
            assert text.count(MY_NUMBER_MASK) >= len(planted), kind
            assert not find_my_numbers(text), kind
    note = ", ".join(f"{kind} {size / 1e6:.1f} MB" for kind, size in sizes.items())
    print(line("write_reports (JSON, CSV, HTML), CPU", min(runs), "s", base, note))
    print(line("write_reports, flagged records per CPU second", n / min(runs), "records/s", n / base))


if __name__ == "__main__":
    main()
