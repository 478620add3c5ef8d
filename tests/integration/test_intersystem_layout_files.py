"""A city adapts an inter-system layout by a layout file alone: its levy system's own 調定 layout
(other widths, other field names, 100-byte records) described in TOML with
``[canonical] record = "assessment"`` flows through the default routes to the collection system,
in the standard levy layout; the channel is purpose-limited like the default one; a mapping that
misses a field the canonical record needs does not load."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from formats.reader import RecordReader
from formats.registry import get_format
from formats.validate import validate_path
from gateway.config.settings import ConfigError, default_text, load_settings
from gateway.datapath.pipeline import Pipeline
from gateway.storage.ledger import Ledger
from spool.scanner import Arrival

CITY_LEVY = textwrap.dedent("""\
    id = "levy-city"
    title = "調定データ (市の賦課システム独自形式, 100バイト)"
    record_length = 100
    multi_group = false
    identify = [{ offset = 0, equals = "1CTLV" }]

    [totals]
    count_field = "kensu"
    amount_field = "gokei"
    data_amount_field = "chotei_gaku"

    [[records]]
    type = "1"
    role = "header"
    label = "ヘッダー"
    fields = [
      { name = "record_type", label = "区分", width = 1, kind = "constant", value = "1" },
      { name = "tag", label = "識別", width = 4, kind = "constant", value = "CTLV" },
      { name = "sakusei_bi", label = "作成日", width = 8, kind = "date", format = "YYYYMMDD" },
      { name = "sender", label = "送信元", width = 2, kind = "code", codes = { "01" = "市民税", "02" = "固定資産税" } },
      { name = "filler", label = "予備", width = 85, kind = "filler" },
    ]

    [[records]]
    type = "2"
    role = "data"
    label = "調定"
    fields = [
      { name = "record_type", label = "区分", width = 1, kind = "constant", value = "2" },
      { name = "dantai", label = "団体コード", width = 6, kind = "digits" },
      { name = "atena_no", label = "宛名番号", width = 15, kind = "digits", personal = "account" },
      { name = "tsuchisho_no", label = "通知書番号", width = 20, kind = "text", charset = "ascii", required = true },
      { name = "kaikei_nendo", label = "会計年度", width = 4, kind = "numeric" },
      { name = "fuka_nendo", label = "賦課年度", width = 4, kind = "numeric" },
      { name = "kamoku", label = "科目", width = 2, kind = "code", codes = { "01" = "市県民税", "04" = "固定資産税" } },
      { name = "kubun", label = "調定区分", width = 1, kind = "code", codes = { "1" = "当初", "3" = "更正" } },
      { name = "kibetsu", label = "期別", width = 2, kind = "digits" },
      { name = "chotei_gaku", label = "調定額", width = 10, kind = "numeric" },
      { name = "nouki", label = "納期限", width = 8, kind = "date", format = "YYYYMMDD" },
      { name = "houhou", label = "納付方法", width = 1, kind = "code", codes = { "1" = "納付書", "2" = "口座振替" } },
      { name = "ido_bi", label = "異動日", width = 8, kind = "date", format = "YYYYMMDD" },
      { name = "rireki", label = "履歴SEQ", width = 3, kind = "numeric" },
      { name = "filler", label = "予備", width = 15, kind = "filler" },
    ]

    [[records]]
    type = "8"
    role = "trailer"
    label = "トレーラ"
    fields = [
      { name = "record_type", label = "区分", width = 1, kind = "constant", value = "8" },
      { name = "kensu", label = "件数", width = 8, kind = "numeric" },
      { name = "gokei", label = "調定額合計", width = 14, kind = "numeric" },
      { name = "filler", label = "予備", width = 77, kind = "filler" },
    ]

    [[records]]
    type = "9"
    role = "end"
    label = "エンド"
    fields = [
      { name = "record_type", label = "区分", width = 1, kind = "constant", value = "9" },
      { name = "filler", label = "予備", width = 99, kind = "filler" },
    ]

    [canonical]
    record = "assessment"
    header = { source_system = "sender" }
    [canonical.fields]
    municipality_code = "dantai"
    resident_code = "atena_no"
    notice_number = "tsuchisho_no"
    accounting_year = "kaikei_nendo"
    fiscal_year = "fuka_nendo"
    tax_item = "kamoku"
    assessment_kind = "kubun"
    instalment = "kibetsu"
    assessed_amount = "chotei_gaku"
    due_date = "nouki"
    payment_method = "houhou"
    change_date = "ido_bi"
    assessment_seq = "rireki"
""")

# Two invented 調定, byte by byte as the layout above says (100-byte records, CRLF).
HEADER = b"1" + b"CTLV" + b"20240401" + b"01" + b" " * 85
DATA = [
    b"2"
    + b"999999"
    + b"000000000012345"
    + b"2024-0001-0001".ljust(20)
    + b"2024"
    + b"2024"
    + b"01"
    + b"1"
    + b"01"
    + b"0000025000"
    + b"20240701"
    + b"1"
    + b"20240610"
    + b"001"
    + b" " * 15,
    b"2"
    + b"999999"
    + b"000000000067890"
    + b"2024-0002-0001".ljust(20)
    + b"2024"
    + b"2024"
    + b"04"
    + b"3"
    + b"02"
    + b"0000031000"
    + b"20240902"
    + b"2"
    + b"20240615"
    + b"002"
    + b" " * 15,
]
TRAILER = b"8" + b"00000002" + b"00000000056000" + b" " * 77
END = b"9" + b" " * 99
CONTENT = b"".join(record + b"\r\n" for record in [HEADER, *DATA, TRAILER, END])


def city_config(tmp_path: Path, layout: str = CITY_LEVY) -> Path:
    layouts = tmp_path / "layouts"
    layouts.mkdir()
    (layouts / "levy-city.toml").write_text(layout, encoding="utf-8")
    text = default_text().replace('root = "var/spool"', f'root = "{tmp_path / "spool"}"')
    text = text.replace(
        "[channels.levy]\n",
        f'[formats]\nlayouts = "{layouts}"\n\n[channels.levy-city]\nformat = "levy-city"\n\n[channels.levy]\n',
        1,
    )
    config = tmp_path / "gateway.toml"
    config.write_text(text, encoding="utf-8")
    return config


def test_the_sample_fits_the_city_layout():
    assert all(len(record) == 100 for record in [HEADER, *DATA, TRAILER, END])


def test_a_city_levy_layout_file_flows_to_the_collection_system_in_the_standard_layout(tmp_path):
    settings = load_settings(city_config(tmp_path))
    assert settings.channels["levy-city"].purpose_limited, "an inter-system layout file is purpose-limited by default"
    (tmp_path / "spool").mkdir()
    with Ledger(settings.ledger_path()) as ledger:
        pipeline = Pipeline(settings, ledger)
        pipeline.spool.ensure()
        inbox = pipeline.spool.inbox("levy-city") / "chotei.dat"
        inbox.write_bytes(CONTENT)
        stat = inbox.stat()
        outcome = pipeline.process(pipeline.claim(Arrival("levy-city", inbox, stat.st_size, stat.st_mtime_ns)))
    assert (outcome.state, outcome.status) == ("archived", "ok")
    (delivery,) = outcome.outputs
    assert delivery.destination == "collection-assessments" and delivery.records == 2
    out = Path(delivery.path)
    assert validate_path(out, get_format("levy-assessment")).status == "ok"
    with out.open("rb") as stream:
        read = [record.values for record in RecordReader(stream, get_format("levy-assessment"))]
    assert read[0]["source_system"] == "01" and read[0]["municipality_code"] == "999999"
    assert [
        (
            r["resident_code"],
            r["notice_number"],
            r["tax_item"],
            r["assessment_kind"],
            r["instalment"],
            r["assessed_amount"],
            r["due_date"].isoformat(),
            r["payment_method"],
            r["assessment_seq"],
        )
        for r in read[1:3]
    ] == [
        ("000000000012345", "2024-0001-0001", "01", "1", "01", 25000, "2024-07-01", "1", 1),
        ("000000000067890", "2024-0002-0001", "04", "3", "02", 31000, "2024-09-02", "2", 2),
    ]
    assert read[3]["record_count"] == 2 and read[3]["assessed_total"] == 56000
    assert read[1]["statutory_due_date"] is None and read[1]["change_reason"] is None  # not in the city's layout


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('assessed_amount = "chotei_gaku"\n', "", r"record = 'assessment' needs 'assessed_amount'"),
        (
            'header = { source_system = "sender" }',
            'header = { source_system = "sendr" }',
            r"header.source_system = 'sendr', which is not a field of the header record",
        ),
        ('record = "assessment"', 'record = "tax-return"', r"\[canonical\] is not valid"),
    ],
)
def test_a_city_layout_whose_mapping_misses_a_field_does_not_load(tmp_path, old, new, message):
    assert old in CITY_LEVY
    with pytest.raises(ConfigError, match=message):
        load_settings(city_config(tmp_path, CITY_LEVY.replace(old, new, 1)))


def test_a_city_layout_marks_dates_and_codes_personal(tmp_path):
    """A city's 宛名 layout file can mark 生年月日 and 性別 personal (masked in reports) like the built-in one."""
    text = CITY_LEVY.replace(
        'format = "YYYYMMDD" },\n  { name = "houhou"',
        'format = "YYYYMMDD", personal = "other" },\n  { name = "houhou"',
        1,
    )
    text = text.replace(
        'codes = { "1" = "当初", "3" = "更正" } }', 'codes = { "1" = "当初", "3" = "更正" }, personal = "other" }'
    )
    settings = load_settings(city_config(tmp_path, text))
    data = settings.formats_by_id()["levy-city"].layout_for("data").by_name
    assert (data["nouki"].kind.personal, data["kubun"].kind.personal) == ("other", "other")
