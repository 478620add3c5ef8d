"""Generate large, valid Zengin 91 result files for benchmarks (invented data only).

Records are laid out with numpy from one template built by the project's own
record layouts, then varied: account number, amount, customer number and result
code differ per record. Totals in the trailer are computed from what was written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from formats.layouts.zengin.common import END
from formats.layouts.zengin.debit import DATA, HEADER, TRAILER

CHUNK = 100_000
RESULT_CODES = np.frombuffer(b"0000000012", dtype=np.uint8)  # mostly 振替済, some 不能


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    out = np.empty((len(values), width), dtype=np.uint8)
    rest = values.astype(np.int64)
    for position in range(width - 1, -1, -1):
        out[:, position] = 0x30 + rest % 10
        rest //= 10
    return out


def write_91_result(
    path: Path,
    records: int,
    *,
    seed: int = 91,
    separator: bytes = b"\r\n",
    group_size: int = 500_000,
    unknown_branch_every: int = 0,
) -> dict[str, int]:
    """Write a 91 result file of ``records`` data records in groups of at most ``group_size``
    (合計件数 is N6, so one group holds at most 999,999); return the file's totals.

    Every record's customer number is its serial (unique records); 2 in 10 result codes
    are 不能 (1 or 2). With ``unknown_branch_every`` = k, every k-th record names branch
    999 of bank 0001, a branch missing from the zengin-code master (a warning, not an
    error); ``totals["unknown_branch"]`` counts them."""
    rng = np.random.default_rng(seed)
    header = HEADER.build(
        dict(
            code_division="0",
            consignor_code="0000012345",
            consignor_name="ﾃｽﾄｼ ｼﾕｳﾉｳｶ",
            debit_date="0527",
            bank_code="0001",
            bank_name="",
            branch_code="001",
            branch_name="",
            account_type="1",
            account_number="0000001",
        )
    )
    template = np.frombuffer(
        DATA.build(
            dict(
                bank_code="0001",
                bank_name="",
                branch_code="001",
                branch_name="",
                account_type="1",
                account_number="0000000",
                account_holder="ﾃｽﾄ ﾀﾛｳ",
                amount=0,
                new_code="0",
                customer_number="0" * 20,
                result_code="0",
            )
        )
        + separator,
        dtype=np.uint8,
    )
    spec = DATA.by_name
    totals = dict(count=0, amount=0, ok_count=0, ok_amount=0, groups=0, unknown_branch=0)
    branch = spec["branch_code"]
    with path.open("wb") as out:
        for group_start in range(0, records, group_size):
            group_records = min(group_size, records - group_start)
            group = dict(count=0, amount=0, ok_count=0, ok_amount=0)
            out.write(header + separator)
            for start in range(group_start, group_start + group_records, CHUNK):
                n = min(CHUNK, group_start + group_records - start)
                block = np.tile(template, (n, 1))
                serial = np.arange(start, start + n, dtype=np.int64)
                amounts = rng.integers(100, 500_000, size=n, dtype=np.int64)
                codes = RESULT_CODES[rng.integers(0, len(RESULT_CODES), size=n)]
                for name, values in (
                    ("account_number", serial % 10_000_000),
                    ("amount", amounts),
                    ("customer_number", serial),
                ):
                    field = spec[name]
                    block[:, field.offset : field.offset + field.width] = _digits(values, field.width)
                block[:, spec["result_code"].offset] = codes
                if unknown_branch_every:
                    unknown = serial % unknown_branch_every == unknown_branch_every - 1
                    block[unknown, branch.offset : branch.offset + branch.width] = np.frombuffer(b"999", np.uint8)
                    totals["unknown_branch"] += int(unknown.sum())
                out.write(block.tobytes())
                ok = codes == ord("0")
                group["count"] += n
                group["amount"] += int(amounts.sum())
                group["ok_count"] += int(ok.sum())
                group["ok_amount"] += int(amounts[ok].sum())
            out.write(
                TRAILER.build(
                    dict(
                        total_count=group["count"],
                        total_amount=group["amount"],
                        transferred_count=group["ok_count"],
                        transferred_amount=group["ok_amount"],
                        failed_count=group["count"] - group["ok_count"],
                        failed_amount=group["amount"] - group["ok_amount"],
                    )
                )
                + separator
            )
            for key, value in group.items():
                totals[key] += value
            totals["groups"] += 1
        out.write(END.build({}) + separator)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("-n", "--records", type=int, default=1_000_000)
    args = parser.parse_args()
    print(write_91_result(args.path, args.records))


if __name__ == "__main__":
    main()
