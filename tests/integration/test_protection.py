"""Individual numbers (個人番号) flow only where a route declares a legal basis: refused at start,
stopped at run time, and never written anywhere else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formats.checkdigits import find_my_numbers, is_valid_my_number
from gateway.config.protection import FlowGuard
from gateway.config.settings import ConfigError, default_text, load_settings
from gateway.datapath.pipeline import Pipeline
from gateway.reporting import audit
from gateway.storage.ledger import Ledger
from spool.scanner import Arrival
from tests.support.paths import DATA
from tests.support.samples import debit_file

LINKAGE = DATA / "micjet-linkage" / "clean_crlf.dat"

BASE = """
[spool]
root = "{root}"
[channels.micjet-linkage]
format = "micjet-linkage"
[channels.zengin-91]
format = "zengin-91"
[destinations.collection]
render = "collection-intake"
[destinations.collection-linkage]
render = "number-linkage"
individual_numbers = {allowed}
[[routes]]
name = "debits"
purpose = "口座振替の消込"
when = {{ kind = ["direct-debit"] }}
to = ["collection"]
[[routes]]
name = "linkage"
purpose = "{purpose}"
{basis}
when = {{ record = ["number-linkage"] }}
to = ["collection-linkage"]
"""


def config(
    tmp_path: Path,
    *,
    basis: str | None = "bangohou-9-1-table1-16",
    allowed: bool = True,
    purpose: str = "収納管理システムの宛名と個人番号の紐付け (地方税の賦課徴収)",
) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(
        BASE.format(
            root=tmp_path / "spool",
            allowed=str(allowed).lower(),
            purpose=purpose,
            basis=f'legal_basis = "{basis}"' if basis else "",
        ),
        encoding="utf-8",
    )
    return path


def batch_numbers() -> set[str]:
    """The invented individual numbers of the linkage samples (個人番号 at bytes 40–51 of data records)."""
    numbers = set()
    for path in (DATA / "micjet-linkage").glob("*.dat"):
        for line in path.read_bytes().split(b"\r\n"):
            if line[:1] == b"2" and len(line) >= 51 and line[39:51].isdigit():
                numbers.add(line[39:51].decode())
    return {number for number in numbers if is_valid_my_number(number)}


def test_the_sample_holds_valid_individual_numbers():
    """The invented linkage samples carry individual numbers that pass the check digit (so checks bite)."""
    assert len(batch_numbers()) >= 3


def test_a_route_with_a_legal_basis_to_a_cleared_destination_loads(tmp_path):
    """With basis, purpose and a destination marked for individual numbers, the route is cleared."""
    settings = load_settings(config(tmp_path))
    assert settings.cleared_flows() == {("linkage", "collection-linkage")}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            dict(basis=None),
            r"routes\[1\] \('linkage'\) → destination 'collection-linkage': would carry 個人番号 "
            r"\(number-linkage.individual_number\) without a legal basis",
        ),
        (dict(basis="because-we-can"), r"legal_basis = 'because-we-can'; expected one of bangohou-9-1-table1-16"),
        (dict(allowed=False), r"destinations.collection-linkage.individual_numbers is not true"),
        (dict(purpose=""), r"routes\[1\]\.purpose = '': every route declares its purpose"),
    ],
)
def test_a_configuration_routing_individual_numbers_without_basis_does_not_load(tmp_path, kwargs, message):
    """Refused at start, naming the route, the destination and the field."""
    with pytest.raises(ConfigError, match=message):
        load_settings(config(tmp_path, **kwargs))


def test_routing_everything_everywhere_is_refused(tmp_path):
    """A route with no condition (all record kinds) to a linkage destination needs a basis too."""
    path = config(tmp_path)
    path.write_text(
        path.read_text(encoding="utf-8").replace('when = { record = ["number-linkage"] }\n', ""), encoding="utf-8"
    )
    path.write_text(
        path.read_text(encoding="utf-8").replace('legal_basis = "bangohou-9-1-table1-16"', ""), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="would carry 個人番号"):
        load_settings(path)


def _pipeline(tmp_path: Path, ledger: Ledger, **overrides) -> Pipeline:
    settings = load_settings(config(tmp_path))
    pipeline = Pipeline(settings, ledger)
    pipeline.spool.ensure()
    for name, value in overrides.items():
        setattr(pipeline, name, value)
    return pipeline


def _ingest(pipeline: Pipeline, channel: str, path: Path, content: bytes | None = None):
    target = pipeline.spool.inbox(channel) / path.name
    target.write_bytes(content if content is not None else path.read_bytes())
    stat = target.stat()
    file_id = pipeline.claim(Arrival(channel, target, stat.st_size, stat.st_mtime_ns))
    return pipeline.process(file_id)


def test_linkage_reaches_its_cleared_destination(tmp_path):
    """Linkage records go to the destination cleared for them, with their individual numbers."""
    (tmp_path / "spool").mkdir()
    with Ledger(tmp_path / "spool" / "ledger.sqlite3") as ledger:
        outcome = _ingest(_pipeline(tmp_path, ledger), "micjet-linkage", LINKAGE)
    assert outcome.state == "archived"
    (delivery,) = outcome.outputs
    assert delivery.destination == "collection-linkage" and delivery.records == 4
    from formats.registry import get_format
    from formats.validate import validate_path

    assert validate_path(Path(delivery.path), get_format("micjet-linkage")).status == "ok"


def test_a_run_time_attempt_is_stopped_and_reported(tmp_path):
    """Defence in depth: even if a route slipped past the start check, the record is stopped before
    rendering, the file is quarantined with a report naming the field (never the number), nothing is written."""
    (tmp_path / "spool").mkdir()
    audit.configure(tmp_path / "spool" / "audit.log", console=False)
    try:
        with Ledger(tmp_path / "spool" / "ledger.sqlite3") as ledger:
            pipeline = _pipeline(tmp_path, ledger, guard=FlowGuard([]))  # as if the route was never cleared
            outcome = _ingest(pipeline, "micjet-linkage", LINKAGE)
            row = ledger.get(outcome.file_id)
    finally:
        audit.configure(None, console=False)
    assert (outcome.state, outcome.status) == ("quarantined", "failed")
    assert "NumberLinkage.individual_number (個人番号) may not go to destination 'collection-linkage'" in row.reason
    assert not any(pipeline.transports["collection-linkage"].folder.iterdir())
    events = [json.loads(line) for line in (tmp_path / "spool" / "audit.log").read_text(encoding="utf-8").splitlines()]
    assert "individual-number-flow-stopped" in [e["event"] for e in events]
    report = Path(row.report_json).read_text(encoding="utf-8")
    assert "個人番号" in report and not find_my_numbers(report)


def _decoded(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _numbers_in_ledger_values(path: Path) -> list[str]:
    """The valid numbers in the ledger's text values, read value by value.

    Read as raw bytes, SQLite glues values together, and a SHA-256 digest touching the
    letters of the value before it is no longer a digest by itself; value by value it is.
    The ledger also keeps the city's own keys, such as the 通知書番号 ``2023-0401-0004`` of
    the reconciliation samples: 4-4-4 digits, as a split individual number would be written
    (the masks rightly hide it where people read it); here only an unsplit number counts.
    """
    import sqlite3
    from contextlib import closing

    found: list[str] = []
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, str):
                        found += [value[a:b] for a, b in find_my_numbers(value) if value[a:b].isdigit()]
    return found


#: The default configuration plus the refund flow (which needs the city's own requester details).
REFUNDS = """
[channels.refunds]
format = "refund-orders"
[destinations.bank-refunds]
render = "zengin-21-refunds"
options = { requester_code = "1234567890", requester_name = "ｶｸｳｼ ｾﾞｲﾑﾌﾞ", bank_code = "0001", branch_code = "001" }
[[routes]]
name = "refunds-to-bank"
purpose = "市税過誤納金の還付"
when = { record = ["refund-order"] }
to = ["bank-refunds"]
"""

#: Every channel of that configuration and the golden inputs it is fed (good and bad ones).
EVERY_FLOW = {
    "zengin-91": "zengin-91",
    "zengin-21": "zengin-21",
    "cvs": "cvs",
    "mpn": "mpn",
    "ocr": "ocr",
    "eltax": "eltax",
    "micjet-linkage": "micjet-linkage",
    "levy": "levy-assessment",
    "reconciliation": "reconciliation",
    "address": "address",
    "public-fund-account": "public-fund-account",
}


def test_no_individual_number_is_written_where_it_has_no_basis(tmp_path):
    """A batch through every flow of the default configuration and the refund flow — every golden input,
    good and bad, linkage files holding valid individual numbers, direct debits, refund orders, a file name
    holding a number — and then no file the gateway wrote (audit log, reports, ledger, every outbox
    but the one cleared for 個人番号) holds a valid 12-digit number."""
    from tests.integration.test_refunds import refund_orders

    spool = tmp_path / "spool"
    spool.mkdir()
    text = default_text().replace('root = "var/spool"', f'root = "{spool}"') + REFUNDS
    (tmp_path / "gateway.toml").write_text(text, encoding="utf-8")
    settings = load_settings(tmp_path / "gateway.toml")
    assert set(settings.channels) == set(EVERY_FLOW) | {"refunds"}, "a new channel must join this batch"
    audit.configure(spool / "audit.log", console=False)
    outcomes = []
    try:
        with Ledger(settings.ledger_path()) as ledger:
            pipeline = Pipeline(settings, ledger)
            pipeline.spool.ensure()
            for channel, folder in EVERY_FLOW.items():
                for path in sorted((DATA / folder).glob("*.dat")):
                    outcomes.append(_ingest(pipeline, channel, path))
            outcomes.append(_ingest(pipeline, "zengin-91", Path("kfuri.dat"), debit_file([(1000, "0"), (2000, "1")])))
            outcomes.append(_ingest(pipeline, "refunds", Path("kanpu.dat"), refund_orders()))
            # a file name holding a number is made harmless too
            outcomes.append(_ingest(pipeline, "micjet-linkage", Path("linkage-123456789018.dat"), LINKAGE.read_bytes()))
    finally:
        audit.configure(None, console=False)
    delivered = {delivery.destination for outcome in outcomes for delivery in outcome.outputs}
    assert set(settings.destinations) <= delivered, "every destination received something"
    cleared = spool / "outbox" / "collection-linkage"
    assert {name for name, d in settings.destinations.items() if d.individual_numbers} == {"collection-linkage"}
    inputs = {
        spool / "archive",
        spool / "quarantine",
        spool / "duplicate",
        spool / "rejected",
        spool / "work",
        spool / "inbox",
    }
    scanned = 0
    numbers = batch_numbers()
    for path in sorted(p for p in spool.rglob("*") if p.is_file()):
        if cleared in path.parents or any(folder in path.parents for folder in inputs):
            continue  # the cleared destination, and the inputs themselves as received
        scanned += 1
        text = _decoded(path)
        if path == settings.ledger_path():
            found = _numbers_in_ledger_values(path)
        else:
            found = [text[a:b] for a, b in find_my_numbers(text)]  # any valid number, in any form
        found += [number for number in numbers if number in text]  # and the batch's own, even inside digits
        assert not found, f"{path.relative_to(spool)} holds an individual number: {found}"
    assert scanned >= 3 * len(outcomes)  # reports (3 a file), outputs, ledger, audit log
    carried = "".join(_decoded(p) for p in cleared.iterdir())
    assert numbers & {n for n in numbers if n in carried}  # the cleared flow did carry them


def test_a_linkage_file_with_an_unexpected_record_kind_is_refused_whole(tmp_path):
    """No collecting beyond the purpose: an inter-system file carrying a record kind its channel does not
    expect is refused as a whole (quarantine/, nothing routed), where a bank file would only lose that record."""
    lines = LINKAGE.read_bytes().split(b"\r\n")
    extra = b"5" + b"0" * 79  # a record kind the micjet-linkage layout does not have
    content = b"\r\n".join([*lines[:2], extra, *lines[2:]])
    (tmp_path / "spool").mkdir()
    with Ledger(tmp_path / "spool" / "ledger.sqlite3") as ledger:
        pipeline = _pipeline(tmp_path, ledger)
        assert pipeline.settings.channels["micjet-linkage"].purpose_limited
        assert not pipeline.settings.channels["zengin-91"].purpose_limited
        outcome = _ingest(pipeline, "micjet-linkage", Path("linkage-extra.dat"), content)
        row = ledger.get(outcome.file_id)
    assert (outcome.state, outcome.status, outcome.outputs) == ("quarantined", "rejected-file", ())
    assert "UNKNOWN_RECORD_TYPE" in row.reason and Path(row.final_path).parent.name == "quarantine"
    assert not any(pipeline.transports["collection-linkage"].folder.iterdir())
