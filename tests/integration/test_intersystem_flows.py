"""The inter-system flows on the default configuration, end to end through the pipeline:

- levy 調定 → the collection system (rejected records left out, totals of what is sent);
- the collection system's reconciliation output → split by 科目 → one 収納情報 file per levy
  department, at every run (an empty one too), a 科目 of no department reported, never sent;
- address changes → the collection system (everything) and MICJET (no 送付先);
- public-fund account results → the collection system.

Every output is parsed again by the validator, as the receiving system would, and compared
with the hand-written expectations of the golden inputs (tests/data/<format>/*.dat.json).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formats.reader import RecordReader
from formats.registry import get_format
from formats.validate import validate_path
from gateway.config.settings import ConfigError, default_text, load_settings
from gateway.datapath.pipeline import Outcome, Pipeline
from gateway.storage.ledger import Ledger
from spool.scanner import Arrival
from tests.support.paths import DATA


def expected(case: str) -> dict:
    return json.loads((DATA / f"{case}.dat.json").read_text(encoding="utf-8"))


def parsed_data(case: str) -> dict[int, dict]:
    """The hand-written parse of a golden file's data records, by physical record number."""
    return {entry["record"]: entry["fields"] for entry in expected(case)["parsed"] if entry["type"] == "data"}


def ingest(pipeline: Pipeline, channel: str, name: str, content: bytes) -> Outcome:
    target = pipeline.spool.inbox(channel) / name
    target.write_bytes(content)
    stat = target.stat()
    return pipeline.process(pipeline.claim(Arrival(channel, target, stat.st_size, stat.st_mtime_ns)))


def output(outcome: Outcome, destination: str) -> Path:
    (delivery,) = [d for d in outcome.outputs if d.destination == destination]
    return Path(delivery.path)


def records(path: Path, format_id: str) -> tuple[dict, list[dict], dict]:
    """(header, data records, trailer) of an output, read by the validator's reader."""
    with path.open("rb") as stream:
        read = list(RecordReader(stream, get_format(format_id)))
    assert all(record.ok for record in read), [i.message for r in read for i in r.issues]
    roles = {role: [r.values for r in read if r.role == role] for role in ("header", "data", "trailer")}
    return roles["header"][0], roles["data"], roles["trailer"][0]


def received_report(pipeline: Pipeline, outcome: Outcome) -> dict:
    row = pipeline.ledger.get(outcome.file_id)
    return json.loads(Path(row.report_json).read_text(encoding="utf-8"))


# -- levy 調定 → collection ------------------------------------------------------------------


def test_assessments_reach_the_collection_system_without_the_rejected_record(pipeline):
    """due_date_not_on_calendar: record 3 (納期限 2024-09-31) is refused; records 2 and 4 go on, in the levy
    layout, with the trailer counting and summing what is sent — and the report lists record 3."""
    case = "levy-assessment/due_date_not_on_calendar"
    outcome = ingest(pipeline, "levy", "chotei-0601.dat", (DATA / f"{case}.dat").read_bytes())
    assert (outcome.state, outcome.status) == ("archived", "rejected-records")
    out = output(outcome, "collection-assessments")
    assert validate_path(out, get_format("levy-assessment")).status == "ok"
    header, data, trailer = records(out, "levy-assessment")
    clean = parsed_data("levy-assessment/clean_crlf")  # the same records, all good
    sent = [clean[2], clean[4]]
    assert [(d["notice_number"], d["instalment"], d["assessed_amount"]) for d in data] == [
        (s["notice_number"], s["instalment"], s["assessed_amount"]) for s in sent
    ]
    assert trailer["record_count"] == 2
    assert trailer["assessed_total"] == sum(s["assessed_amount"] for s in sent)
    assert header["source_system"] == "01" and header["municipality_code"] == "999999"
    rejected = [issue for issue in received_report(pipeline, outcome)["rejected"] if issue["record"] == 3]
    assert rejected and rejected[0]["field"] == "due_date"


# -- reconciliation → one 収納情報 file per department ------------------------------------------

DEPARTMENT_ITEMS = {
    "citizen-tax-dept": ("01", {"01", "02"}),
    "property-tax-dept": ("02", {"04"}),
    "health-insurance-dept": ("03", {"06"}),
}


def test_a_reconciliation_run_is_split_by_tax_item_into_one_file_per_department(pipeline):
    case = "reconciliation/clean_crlf"
    outcome = ingest(pipeline, "reconciliation", "shuno-kekka-001.dat", (DATA / f"{case}.dat").read_bytes())
    assert outcome.state == "archived"
    postings = parsed_data(case)
    for destination, (code, items) in DEPARTMENT_ITEMS.items():
        out = output(outcome, destination)
        assert validate_path(out, get_format("payment-info")).status == "ok", destination
        header, data, trailer = records(out, "payment-info")
        mine = [p for p in postings.values() if p["tax_item"] in items]
        assert mine, "the golden run has postings for every department"
        assert header["department"] == code
        assert header["revenue_date"].isoformat() == expected(case)["parsed"][0]["fields"]["revenue_date"]
        assert [
            (d["tax_item"], d["reconciliation_key"], d["principal"], d["late_fee"], d["dunning_fee"]) for d in data
        ] == [(p["tax_item"], p["reconciliation_key"], p["principal"], p["late_fee"], p["dunning_fee"]) for p in mine]
        assert (
            trailer["record_count"],
            trailer["principal_total"],
            trailer["late_fee_total"],
            trailer["dunning_fee_total"],
        ) == (
            len(mine),
            sum(p["principal"] for p in mine),
            sum(p["late_fee"] for p in mine),
            sum(p["dunning_fee"] for p in mine),
        )
    # 科目 03 (法人市民税) and 05 (軽自動車税) belong to no department: reported, sent nowhere
    unrouted = {
        issue["record"] for issue in received_report(pipeline, outcome)["warnings"] if issue["code"] == "NOT_ROUTED"
    }
    assert unrouted == {record for record, p in postings.items() if p["tax_item"] in {"03", "05"}}
    everything = "".join(Path(d.path).read_text(encoding="cp932") for d in outcome.outputs)
    for record in unrouted:
        assert postings[record]["reconciliation_key"] not in everything


def test_every_department_gets_a_file_at_every_run_even_an_empty_one(pipeline):
    """A run with 市県民税 postings only: 資産税課 and 保険年金課 still receive their file, with zero totals."""
    lines = (DATA / "reconciliation/clean_crlf.dat").read_bytes().split(b"\r\n")
    header, data = lines[0], [line for line in lines if line[:1] == b"2" and line[50:52] in (b"01", b"02")]
    total = sum(int(line[57:67]) for line in data)
    late = sum(int(line[67:77]) for line in data)
    dunning = sum(int(line[77:85]) for line in data)
    trailer = (
        b"8"
        + str(len(data)).encode().rjust(8, b"0")
        + str(total).encode().rjust(14, b"0")
        + str(late).encode().rjust(12, b"0")
        + str(dunning).encode().rjust(10, b"0")
        + b" " * 105
    )
    content = b"".join(line + b"\r\n" for line in [header, *data, trailer, b"9" + b" " * 149])
    outcome = ingest(pipeline, "reconciliation", "shuno-kekka-002.dat", content)
    assert outcome.state == "archived"
    assert {d.destination: d.records for d in outcome.outputs} == {
        "citizen-tax-dept": len(data),
        "property-tax-dept": 0,
        "health-insurance-dept": 0,
    }
    for destination in ("property-tax-dept", "health-insurance-dept"):
        out = output(outcome, destination)
        assert validate_path(out, get_format("payment-info")).status == "ok"
        head, rows, totals = records(out, "payment-info")
        assert head["department"] == DEPARTMENT_ITEMS[destination][0] and rows == []
        assert (totals["record_count"], totals["principal_total"]) == (0, 0)


def test_a_posting_routed_to_the_wrong_department_stops_the_file(tmp_path):
    """Second lock: a route that would send 軽自動車税 (05) to 市民税課 is caught by the department's renderer;
    the whole file is quarantined and no department receives anything from it."""
    text = default_text().replace('tax_item = ["01", "02"]', 'tax_item = ["01", "02", "05"]')
    (tmp_path / "gateway.toml").write_text(
        text.replace('root = "var/spool"', f'root = "{tmp_path / "spool"}"'), encoding="utf-8"
    )
    settings = load_settings(tmp_path / "gateway.toml")
    (tmp_path / "spool").mkdir()
    with Ledger(settings.ledger_path()) as ledger:
        pipeline = Pipeline(settings, ledger)
        pipeline.spool.ensure()
        outcome = ingest(pipeline, "reconciliation", "r.dat", (DATA / "reconciliation/clean_crlf.dat").read_bytes())
        row = ledger.get(outcome.file_id)
    assert outcome.state == "quarantined"
    assert "科目 05" in row.reason
    for destination in DEPARTMENT_ITEMS:
        assert not any(settings.destination_path(destination).iterdir())


def test_a_reconciliation_run_sent_again_reaches_no_department_twice(pipeline):
    """The same postings again (the run regenerated: another 作成日, so not a duplicate file) are sent to
    no department: each record is ALREADY_SENT in the report, each department still gets its (empty) file;
    an operator's forced reprocess sends them again, flagged."""
    content = (DATA / "reconciliation/clean_crlf.dat").read_bytes()
    first = ingest(pipeline, "reconciliation", "run-001.dat", content)
    again = ingest(pipeline, "reconciliation", "run-001-again.dat", content.replace(b"20240704", b"20240705", 1))
    assert again.state == "archived" and again.status == "ok"
    assert {d.destination: d.records for d in again.outputs} == dict.fromkeys(DEPARTMENT_ITEMS, 0)
    sent_first = {d.destination: d.records for d in first.outputs}
    flagged = [(w["record"], w["code"]) for w in received_report(pipeline, again)["warnings"]]
    postings = parsed_data("reconciliation/clean_crlf")
    routed = sorted(r for r, p in postings.items() if p["tax_item"] not in {"03", "05"})
    assert sorted(r for r, code in flagged if code == "ALREADY_SENT") == routed
    forced = pipeline.process(pipeline.reprocess(pipeline.ledger.get(again.file_id), force=True))
    assert {d.destination: d.records for d in forced.outputs} == sent_first


def test_assessments_sent_again_are_not_imported_twice(pipeline):
    """A levy file regenerated with the same 調定 (same 調定履歴SEQ) sends nothing to the collection system;
    a 更正 (a new 調定履歴SEQ) does go."""
    content = (DATA / "levy-assessment/clean_crlf.dat").read_bytes()
    ingest(pipeline, "levy", "chotei-1.dat", content)
    again = ingest(pipeline, "levy", "chotei-2.dat", content.replace(b"20240401", b"20240402", 1))
    assert again.outputs == ()
    assert {w["code"] for w in received_report(pipeline, again)["warnings"]} == {"ALREADY_SENT"}
    lines = content.split(b"\r\n")
    revised = bytearray(lines[1])
    revised[92:95] = b"002"  # 調定履歴SEQ 2: the next version of record 2's assessment
    update = content.replace(lines[1], bytes(revised)).replace(b"20240401", b"20240403", 1)
    third = ingest(pipeline, "levy", "chotei-3.dat", update)
    (delivery,) = third.outputs
    assert delivery.records == 1
    _, data, _ = records(Path(delivery.path), "levy-assessment")
    assert [d["assessment_seq"] for d in data] == [2]


# -- address → collection and MICJET ----------------------------------------------------------

DELIVERY = ("delivery_postal_code", "delivery_address", "delivery_address_line2", "delivery_name")


def test_address_changes_go_to_collection_whole_and_to_micjet_without_the_delivery_address(pipeline):
    case = "address/clean_crlf"
    outcome = ingest(pipeline, "address", "atena-0601.dat", (DATA / f"{case}.dat").read_bytes())
    assert outcome.state == "archived"
    sent = parsed_data(case)
    _, to_collection, totals = records(output(outcome, "collection-addresses"), "address")
    _, to_micjet, micjet_totals = records(output(outcome, "micjet-addresses"), "address")
    assert len(to_collection) == len(to_micjet) == len(sent) == totals["record_count"]
    assert totals["serial_total"] == micjet_totals["serial_total"] == sum(range(1, len(sent) + 1))
    for got, micjet, want in zip(to_collection, to_micjet, sent.values()):
        for name in ("resident_code", "kana_name", "name", "address", "address_line2", "postal_code", "sex"):
            assert (got[name] or "") == (micjet[name] or "") == (want[name] or ""), name
        assert str(got["birth_date"] or "") == (want["birth_date"] or "")
        for name in DELIVERY:
            assert (got[name] or "") == (want[name] or ""), name
            assert not micjet[name], f"{name} went to MICJET"
    assert any(want["delivery_address"] for want in sent.values()), "the sample has a 送付先 to withhold"


def test_an_address_record_with_a_bad_era_code_reaches_neither_system(pipeline):
    case = "address/era_code_6"
    outcome = ingest(pipeline, "address", "atena-0602.dat", (DATA / f"{case}.dat").read_bytes())
    assert (outcome.state, outcome.status) == ("archived", "rejected-records")
    clean = parsed_data("address/clean_crlf")
    for destination in ("collection-addresses", "micjet-addresses"):
        _, data, totals = records(output(outcome, destination), "address")
        assert [d["resident_code"] for d in data] == [clean[r]["resident_code"] for r in sorted(clean) if r != 3]
        assert [d["serial"] for d in data] == [1, 2, 3] and totals["serial_total"] == 6  # numbered again


# -- public-fund accounts → collection --------------------------------------------------------


def test_public_fund_accounts_reach_the_collection_system(pipeline):
    case = "public-fund-account/clean_crlf"
    outcome = ingest(pipeline, "public-fund-account", "kokin-0610.dat", (DATA / f"{case}.dat").read_bytes())
    assert outcome.state == "archived"
    out = output(outcome, "collection-accounts")
    assert validate_path(out, get_format("public-fund-account")).status == "ok"
    header, data, _ = records(out, "public-fund-account")
    want = parsed_data(case)
    assert header["inquiry_date"].isoformat() == expected(case)["parsed"][0]["fields"]["inquiry_date"]
    fields = (
        "integrated_address_number",
        "resident_code",
        "bank_code",
        "branch_code",
        "account_type",
        "account_number",
        "account_holder",
    )
    assert [tuple(d[f] for f in fields) for d in data] == [tuple(w[f] for f in fields) for w in want.values()]


# -- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'name = "address-changes-to-collection"\n',
            'name = "address-changes-to-collection"\nevery_file = true\n',
            r"every_file = true: the route needs when.channel",
        ),
        ('options = { department = "01" }', "", r"needs destination option department"),
        ('options = { scope = "basic" }', 'options = { scope = "some" }', r"option scope expected 'all' or 'basic'"),
        (
            'when = { record = ["address-change"] }\nto = ["collection-addresses"]',
            'when = { record = ["address-change"] }\nto = ["collection"]',
            r"destination 'collection': render = 'collection-intake' writes payment records; expected when.record among "
            r"those, found address-change",
        ),
    ],
)
def test_inter_system_configuration_mistakes_do_not_load(tmp_path, old, new, message):
    text = default_text()
    assert old in text
    path = tmp_path / "gateway.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(path)
