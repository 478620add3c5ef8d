"""formats.builder: files written from values typed by people, with computed trailers,
that the validator accepts and the reader gives back."""

from __future__ import annotations

import io

import pytest

from formats.builder import FileBuilder, Group, normalise_text
from formats.fields import FieldBuildError
from formats.kana import KanaError
from formats.layouts.zengin import DEBIT_91, TRANSFER_21
from formats.reader import RecordReader
from formats.validate import validate_stream
from tests.support.samples import debit_header, debit_record, transfer_header, transfer_record

DATA_91 = DEBIT_91.layout_for("data")
DATA_21 = TRANSFER_21.layout_for("data")
END = b"9" + b" " * 119


def request_91(separator: bytes = b"\r\n") -> bytes:
    """A 91 request (no result codes) with names typed in hiragana / full-width katakana."""
    records = [
        debit_record(1, 1200, None, account_holder="てすと　たろう"),
        debit_record(2, 3400, None, account_holder="サンプル　ハナコ"),
        debit_record(3, 56, None, account_holder="ガッコウ"),
    ]
    header = debit_header(consignor_name="てすとし　のうぜいか", bank_name="みずほ", branch_name="トウキョウ")
    return FileBuilder(DEBIT_91, separator=separator).to_bytes([Group(header, records)])


def validate(data: bytes, layout=DEBIT_91):
    return validate_stream(io.BytesIO(data), layout)


def read(data: bytes, layout=DEBIT_91):
    return list(RecordReader(io.BytesIO(data), layout))


# ------------------------------------------------------------------ normalisation


def test_normalise_text_converts_kana_fields_only():
    """Hiragana and full-width names become half-width kana; digit and code fields are left alone."""
    out = normalise_text(
        DATA_91,
        {"account_holder": "てすと　たろう", "bank_name": "みずほ", "account_number": "0000001", "amount": 1000},
    )
    assert out == {"account_holder": "ﾃｽﾄ ﾀﾛｳ", "bank_name": "ﾐｽﾞﾎ", "account_number": "0000001", "amount": 1000}


def test_request_names_are_normalised_to_half_width_kana():
    """Names typed in hiragana or full-width land in the record as half-width kana, space-padded."""
    data = request_91()
    records = [data[i : i + 120] for i in range(0, len(data), 122)]
    assert records[0][14:54] == "ﾃｽﾄｼ ﾉｳｾﾞｲｶ".encode("cp932").ljust(40)
    assert records[0][62:77] == "ﾐｽﾞﾎ".encode("cp932").ljust(15)
    assert records[0][80:95] == "ﾄｳｷﾖｳ".encode("cp932").ljust(15)
    assert [r[50:80] for r in records[1:4]] == [
        "ﾃｽﾄ ﾀﾛｳ".encode("cp932").ljust(30),
        "ｻﾝﾌﾟﾙ ﾊﾅｺ".encode("cp932").ljust(30),
        "ｶﾞﾂｺｳ".encode("cp932").ljust(30),
    ]


def test_request_validates_ok_with_exact_totals():
    """The built 91 request is ok, kind request, 合計 3 / 4,656 yen and zeros in 振替済/振替不能."""
    result = validate(request_91())
    assert result.status == "ok"
    assert result.errors == [] and result.warnings == []
    assert (result.records, result.accepted, result.rejected_records) == (3, 3, 0)
    [group] = result.groups
    assert group.kind == "request"
    expected = {
        "count": 3,
        "amount": 4656,
        "transferred_count": 0,
        "transferred_amount": 0,
        "failed_count": 0,
        "failed_amount": 0,
    }
    assert group.declared == expected
    assert group.computed == expected


def test_result_totals_come_from_the_result_codes():
    """A result built with result=True splits 43,500 yen into 振替済 2/15,500 and 振替不能 2/28,000."""
    records = [
        debit_record(1, 12000, "0"),
        debit_record(2, 3500, "0"),
        debit_record(3, 8000, "1"),
        debit_record(4, 20000, "9"),
    ]
    data = FileBuilder(DEBIT_91, result=True).to_bytes([Group(debit_header(), records)])
    trailer = data[5 * 122 : 5 * 122 + 120]
    assert (
        trailer[:55] == b"8" + b"000004" + b"000000043500" + b"000002" + b"000000015500" + b"000002" + b"000000028000"
    )
    result = validate(data)
    assert result.status == "ok"
    [group] = result.groups
    assert group.kind == "result"
    expected = {
        "count": 4,
        "amount": 43500,
        "transferred_count": 2,
        "transferred_amount": 15500,
        "failed_count": 2,
        "failed_amount": 28000,
    }
    assert group.declared == expected
    assert group.computed == expected


def test_result_with_every_code_failed():
    """A result where no record succeeded declares 振替済 0/0 and everything as 振替不能."""
    records = [debit_record(1, 700, "2"), debit_record(2, 300, "3")]
    result = validate(FileBuilder(DEBIT_91, result=True).to_bytes([Group(debit_header(), records)]))
    assert result.status == "ok"
    assert result.groups[0].declared == {
        "count": 2,
        "amount": 1000,
        "transferred_count": 0,
        "transferred_amount": 0,
        "failed_count": 2,
        "failed_amount": 1000,
    }


def test_result_code_given_as_int_still_reconciles():
    """A result code passed as the int 0 is written as '0' and counted as 振替済, so the file reconciles."""
    records = [debit_record(1, 100, 0), debit_record(2, 200, 1)]
    data = FileBuilder(DEBIT_91, result=True).to_bytes([Group(debit_header(), records)])
    assert data[122 + 111 : 122 + 112] == b"0"
    result = validate(data)
    assert result.errors == []
    assert result.groups[0].declared["transferred_count"] == 1


def test_request_with_a_failure_code_is_refused_or_reconciles():
    """A request given a record with result code 1 is either refused when built or written so that it validates."""
    records = [debit_record(1, 100, "1"), debit_record(2, 200, "0")]
    try:
        data = FileBuilder(DEBIT_91).to_bytes([Group(debit_header(), records)])
    except (ValueError, FieldBuildError):  # refusing the contradictory input is acceptable
        return
    result = validate(data)
    assert [e.code for e in result.errors] == []


def test_refund_transfer_file_with_two_groups():
    """A 21 file with two groups validates ok, kind transfer, with each group's exact count and amount."""
    groups = [
        Group(transfer_header(), [transfer_record(1, 5000), transfer_record(2, 12000, payee_name="ヲノ　テスト")]),
        Group(
            transfer_header(transfer_date="0611"),
            [transfer_record(3, 300), transfer_record(4, 1), transfer_record(5, 99999)],
        ),
    ]
    data = FileBuilder(TRANSFER_21).to_bytes(groups)
    assert len(data) == 10 * 122  # 2 headers, 5 data, 2 trailers, 1 end
    result = validate(data, TRANSFER_21)
    assert result.status == "ok"
    assert result.errors == [] and result.warnings == []
    assert (result.records, result.accepted) == (5, 5)
    assert [g.as_dict() for g in result.groups] == [
        {
            "index": 1,
            "header_record": 1,
            "trailer_record": 4,
            "kind": "transfer",
            "declared": {"count": 2, "amount": 17000},
            "computed": {"count": 2, "amount": 17000},
        },
        {
            "index": 2,
            "header_record": 5,
            "trailer_record": 9,
            "kind": "transfer",
            "declared": {"count": 3, "amount": 100300},
            "computed": {"count": 3, "amount": 100300},
        },
    ]
    # ｦ is kept in 21 (zengin-name-wo); it would become ｵ in 91
    assert data[2 * 122 + 50 : 2 * 122 + 80] == "ｦﾉ ﾃｽﾄ".encode("cp932").ljust(30)


def test_wo_becomes_o_in_91():
    """In a 91 name field (ｦ not allowed) ヲ is written as ｵ."""
    assert normalise_text(DATA_91, {"account_holder": "ヲノ　テスト"})["account_holder"] == "ｵﾉ ﾃｽﾄ"
    assert normalise_text(DATA_21, {"payee_name": "ヲノ　テスト"})["payee_name"] == "ｦﾉ ﾃｽﾄ"


# ------------------------------------------------------------------ separators


def test_crlf_after_every_record_by_default():
    """By default every record, the end record included, is followed by CRLF: 6 × 122 bytes."""
    data = request_91()
    assert len(data) == 6 * 122
    assert [data[i * 122 + 120 : i * 122 + 122] for i in range(6)] == [b"\r\n"] * 6
    assert bytes(data[i * 122] for i in range(6)) == b"122289"
    assert data.endswith(END + b"\r\n")


def test_lf_separator():
    """With separator LF every record is followed by one LF: 6 × 121 bytes, no CR anywhere."""
    data = request_91(b"\n")
    assert len(data) == 6 * 121
    assert [data[i * 121 + 120 : i * 121 + 121] for i in range(6)] == [b"\n"] * 6
    assert b"\r" not in data
    assert data.endswith(END + b"\n")


def test_no_separator():
    """With no separator the records are consecutive 120-byte blocks: 720 bytes, no line breaks."""
    data = request_91(b"")
    assert len(data) == 720
    assert b"\r" not in data and b"\n" not in data
    assert bytes(data[i * 120] for i in range(6)) == b"122289"
    assert data.endswith(END)
    assert validate(data).status == "ok"


@pytest.mark.parametrize("separator", [b"\r\n", b"\n", b""])
def test_write_matches_to_bytes(separator):
    """write() puts the same bytes on a stream as to_bytes() and returns their count."""
    builder = FileBuilder(DEBIT_91, separator=separator)
    groups = [Group(debit_header(), [debit_record(1, 10, None)])]
    stream = io.BytesIO()
    written = builder.write(stream, groups)
    assert stream.getvalue() == builder.to_bytes(groups)
    assert written == 4 * (120 + len(separator))


def test_other_separators_are_refused():
    """A separator other than CRLF, LF or none is a ValueError."""
    with pytest.raises(ValueError, match="separator"):
        FileBuilder(DEBIT_91, separator=b"\r")


# ------------------------------------------------------------------ cutting and errors


def test_long_name_is_cut_without_splitting_a_voiced_kana():
    """29 × ｱ then ガ (31 bytes) in a 30-byte field drops the ｶ too rather than leave ｶ without ﾞ."""
    out = normalise_text(DATA_91, {"account_holder": "あ" * 29 + "が"})
    assert out["account_holder"] == "ｱ" * 29
    record = DATA_91.build({**debit_record(), **out})
    assert record[50:80] == b"\xb1" * 29 + b" "


def test_long_name_that_fits_keeps_the_voiced_kana():
    """28 × ｱ then ガ is exactly 30 bytes and is kept whole."""
    out = normalise_text(DATA_91, {"account_holder": "あ" * 28 + "が"})
    assert out["account_holder"] == "ｱ" * 28 + "ｶﾞ"


def test_long_name_is_cut_at_the_field_width_in_a_built_file():
    """A 35-character name is cut to 30 bytes in the built record and the file still validates."""
    name = "さんぷる　" * 7  # ｻﾝﾌﾟﾙ + space = 6 bytes, × 7 = 42 bytes
    data = FileBuilder(DEBIT_91).to_bytes([Group(debit_header(), [debit_record(1, 10, None, account_holder=name)])])
    assert data[122 + 50 : 122 + 80] == "ｻﾝﾌﾟﾙ ｻﾝﾌﾟﾙ ｻﾝﾌﾟﾙ ｻﾝﾌﾟﾙ ｻﾝﾌﾟﾙ".encode("cp932") + b" "
    assert validate(data).status == "ok"


def test_kanji_in_a_name_raises_kana_error_naming_it():
    """A kanji in 預金者名 raises KanaError naming the character and its index."""
    builder = FileBuilder(DEBIT_91)
    with pytest.raises(KanaError) as caught:
        builder.to_bytes([Group(debit_header(), [debit_record(1, 100, account_holder="てすと　山")])])
    assert caught.value.char == "山"
    assert caught.value.index == 4
    assert "'山'" in str(caught.value)


def test_amount_too_large_raises_field_build_error_naming_the_field():
    """An amount of 11 digits does not fit N10 and the error names 引落金額 (amount)."""
    builder = FileBuilder(DEBIT_91)
    with pytest.raises(FieldBuildError) as caught:
        builder.to_bytes([Group(debit_header(), [debit_record(1, 10_000_000_000)])])
    message = str(caught.value)
    assert "引落金額" in message and "amount" in message
    assert "10000000000" in message


def test_largest_amount_fits():
    """9,999,999,999 yen is the largest amount N10 holds and builds into the record."""
    data = FileBuilder(DEBIT_91).to_bytes([Group(debit_header(), [debit_record(1, 9_999_999_999, None)])])
    assert data[122 + 80 : 122 + 90] == b"9999999999"
    assert validate(data).groups[0].declared["amount"] == 9_999_999_999


def test_without_normalise_full_width_is_refused():
    """With normalise=False a full-width name is not converted: building raises FieldBuildError for 預金者名."""
    builder = FileBuilder(DEBIT_91, normalise=False)
    with pytest.raises(FieldBuildError, match="預金者名"):
        builder.to_bytes([Group(debit_header(), [debit_record(1, 100, account_holder="テスト")])])


# ------------------------------------------------------------------ parse ∘ build


def test_reading_back_gives_the_values_put_in():
    """RecordReader on a built 91 request returns every value given, names normalised."""
    inputs = [
        debit_record(1, 1200, None, account_holder="てすと　たろう"),
        debit_record(2, 3400, None, account_holder="サンプル　ハナコ"),
        debit_record(3, 56, None, account_holder="ガッコウ"),
    ]
    header = debit_header(consignor_name="てすとし　のうぜいか", bank_name="みずほ", branch_name="トウキョウ")
    results = read(request_91())
    assert [r.role for r in results] == ["header", "data", "data", "data", "trailer", "end"]
    assert all(r.issues == [] for r in results)
    assert results[0].values == {
        **header,
        "record_type": "1",
        "type_code": "91",
        "consignor_name": "ﾃｽﾄｼ ﾉｳｾﾞｲｶ",
        "bank_name": "ﾐｽﾞﾎ",
        "branch_name": "ﾄｳｷﾖｳ",
    }
    names = ["ﾃｽﾄ ﾀﾛｳ", "ｻﾝﾌﾟﾙ ﾊﾅｺ", "ｶﾞﾂｺｳ"]
    for result, values, name in zip(results[1:4], inputs, names):
        assert result.values == {**values, "record_type": "2", "account_holder": name}
    assert results[4].values == {
        "record_type": "8",
        "total_count": 3,
        "total_amount": 4656,
        "transferred_count": 0,
        "transferred_amount": 0,
        "failed_count": 0,
        "failed_amount": 0,
    }
    assert results[5].values == {"record_type": "9"}


def test_reading_back_a_transfer_gives_the_values_put_in():
    """RecordReader on a built 21 file returns the header and transfer values given (blank optionals as None)."""
    header = transfer_header(requester_name="てすとし　かいけいかんりしゃ")
    inputs = [
        transfer_record(1, 5000),
        transfer_record(
            2, 700, payee_name="さんぷる　じろう", transfer_kind=None, clearing_house="0000", customer_codes=""
        ),
    ]
    data = FileBuilder(TRANSFER_21, separator=b"").to_bytes([Group(header, inputs)])
    results = read(data, TRANSFER_21)
    assert all(r.issues == [] for r in results)
    assert results[0].values == {**header, "record_type": "1", "type_code": "21", "requester_name": "ﾃｽﾄｼ ｶｲｹｲｶﾝﾘｼﾔ"}
    assert results[1].values == {**inputs[0], "record_type": "2"}
    assert results[2].values == {**inputs[1], "record_type": "2", "payee_name": "ｻﾝﾌﾟﾙ ｼﾞﾛｳ"}
    assert results[3].values == {"record_type": "8", "total_count": 2, "total_amount": 5700}
