"""Invented sample records and small files built from the layouts (全銀 91 and 21)."""

from __future__ import annotations

from typing import Any

from formats.builder import FileBuilder, Group
from formats.layouts.zengin import DEBIT_91, TRANSFER_21


def debit_header(**overrides: Any) -> dict[str, Any]:
    values = dict(
        code_division="0",
        consignor_code="0000012345",
        consignor_name="ﾃｽﾄｼ",
        debit_date="0527",
        bank_code="0001",
        bank_name="ﾐｽﾞﾎ",
        branch_code="001",
        branch_name="ﾄｳｷﾖｳ",
        account_type="1",
        account_number="0000001",
    )
    values.update(overrides)
    return values


def debit_record(
    serial: int = 1, amount: int = 1000, result_code: str | None = "0", **overrides: Any
) -> dict[str, Any]:
    values = dict(
        bank_code="0001",
        bank_name="",
        branch_code="001",
        branch_name="",
        account_type="1",
        account_number=f"{serial:07d}",
        account_holder="ﾃｽﾄ ﾀﾛｳ",
        amount=amount,
        new_code="0",
        customer_number=f"{serial:020d}",
        result_code=result_code,
    )
    values.update(overrides)
    return values


def transfer_header(**overrides: Any) -> dict[str, Any]:
    values = dict(
        code_division="0",
        requester_code="0000054321",
        requester_name="ﾃｽﾄｼ ｶｲｹｲｶﾝﾘｼﾔ",
        transfer_date="0610",
        bank_code="0001",
        bank_name="",
        branch_code="001",
        branch_name="",
        account_type="1",
        account_number="0000002",
    )
    values.update(overrides)
    return values


def transfer_record(serial: int = 1, amount: int = 5000, **overrides: Any) -> dict[str, Any]:
    values = dict(
        bank_code="0001",
        bank_name="",
        branch_code="001",
        branch_name="",
        clearing_house=None,
        account_type="1",
        account_number=f"{serial:07d}",
        payee_name="ｻﾝﾌﾟﾙ ﾊﾅｺ",
        amount=amount,
        new_code="0",
        customer_codes=f"{serial:010d}{0:010d}",
        transfer_kind="7",
        edi_flag=None,
    )
    values.update(overrides)
    return values


def debit_file(amounts_codes: list[tuple[int, str]], *, separator: bytes = b"\r\n", groups: int = 1) -> bytes:
    builder = FileBuilder(DEBIT_91, separator=separator, result=True)
    records = [debit_record(i + 1, amount, code) for i, (amount, code) in enumerate(amounts_codes)]
    return builder.to_bytes([Group(debit_header(), records) for _ in range(groups)])


def debit_file_holding(number: str) -> bytes:
    """A 91 result file whose header carries ``number`` (an individual number) where no check looks for
    one: in full-width digits in 委託者名 (bytes 15–54) and as ``X<number>`` in the filler (bytes 104–120).
    Both are rejected as field errors, so the values reach every report as the ``found`` text."""
    content = bytearray(debit_file([(1000, "0"), (2500, "1")]))
    content[14:54] = number.translate(str.maketrans("0123456789", "０１２３４５６７８９")).encode("cp932").ljust(40)
    content[103:120] = f"X{number}".encode("ascii").ljust(17)
    return bytes(content)


def transfer_file(amounts: list[int], *, separator: bytes = b"\r\n") -> bytes:
    builder = FileBuilder(TRANSFER_21, separator=separator)
    return builder.to_bytes([Group(transfer_header(), [transfer_record(i + 1, a) for i, a in enumerate(amounts)])])
