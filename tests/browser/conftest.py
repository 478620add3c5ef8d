"""Fixtures of the console's browser tests: a real spool, real users, a real `gateway console`, Chromium.

:func:`console` (one per test module) builds, under a temporary folder:

- a configuration copied from config/gateway.toml with its spool under the folder;
- a spool filled by the real pipeline (`gateway ingest`, one subprocess per file) with
  invented 全銀 91 result files whose outcome is known from how they were built
  (:data:`FILES`): a clean file sent twice (the second copy ends ``duplicate``), a file
  with three bad data records (``archived`` with rejections: :data:`REJECTIONS`), and two
  files whose header strict 全銀 rules refuse (``quarantined``). After the ingests the
  zengin-91 channel is switched to permissive (``strict = false``), as a section does once
  it has checked with the bank that the header is harmless: a quarantined file released
  from the console is then processed and archived;
- the console users of :data:`USERS`, added with `gateway users add … --password-stdin`;
- `gateway console --config CFG --host 127.0.0.1 --port <free port>`, waited for until
  /login answers and stopped (SIGTERM, then SIGKILL) at the end of the module.

The browser is Debian's Chromium at /usr/bin/chromium, driven by Playwright's sync API
(never a downloaded browser build). Where it is missing the tests are skipped with the
reason — except under ``CI=true``, where they must run: there a missing browser fails
the run and says to run scripts/ensure-system-packages.sh.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from formats.builder import FileBuilder, Group
from formats.layouts.zengin import DEBIT_91
from tests.support.samples import debit_header, debit_record

try:  # the dev extra installs it; without it the tests skip (or fail under CI=true)
    from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None  # type: ignore[assignment]
    Browser = BrowserContext = Page = Any  # type: ignore[misc,assignment]

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
GATEWAY = BIN / "gateway"
CHROMIUM = Path("/usr/bin/chromium")
HOST = "127.0.0.1"
CHANNEL = "zengin-91"
#: docs/images/console-report.png is written only by `make pictures` (GATEWAY_PICTURES=1); a test
#: run writes its screenshot to a temporary folder and leaves the work tree as it found it
SCREENSHOT = (
    ROOT / "docs" / "images" / "console-report.png"
    if os.environ.get("GATEWAY_PICTURES") == "1"
    else Path(tempfile.gettempdir()) / f"gateway-console-report-{os.getpid()}.png"
)
VIEWPORT = {"width": 1280, "height": 900}
#: how long a page action or an expectation may take (ms): the console is local, but CI machines are shared
TIMEOUT_MS = 30_000
RECORD = 122  # a 全銀 record, 120 bytes, plus CRLF: record n starts at 122·(n−1)

#: name → (role, password); invented. carol is only there to be locked out.
USERS: dict[str, tuple[str, str]] = {
    "alice": ("operator", "alice-pass-2026"),
    "bob": ("supervisor", "bob-pass-2026!"),
    "carol": ("operator", "carol-pass-2026"),
}
ROLE_WORDS = {"operator": ("operator", "担当者"), "supervisor": ("supervisor", "監督者")}


# ---------------------------------------------------------------------------------------------
# the files: invented 全銀 91 results whose outcome is known from how they were built
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    """One bad data record of the rejections file, as it was built."""

    record: int  # physical record number (the header is record 1)
    field_ja: str  # 項目 as the reports name it
    field: str  # the layout's field name
    value: str | None  # what the 値 cell must show (None: a masked personal value)
    raw: bytes  # the bytes written into the field (a masked value must not show them)


#: Data records 2–7 of the rejections file: (amount, 振替結果コード); 3 are then spoiled.
REJECTIONS_RECORDS = [(1000, "0"), (2000, "0"), (3000, "1"), (4000, "0"), (5000, "0"), (6000, "2")]
REJECTIONS_TOTAL = sum(amount for amount, _ in REJECTIONS_RECORDS)  # 21,000 in the trailer
#: 振替済 (code 0) and 振替不能 (other codes) amounts in the trailer: 12,000 and 9,000
REJECTIONS_TRANSFERRED = sum(amount for amount, code in REJECTIONS_RECORDS if code == "0")
REJECTIONS_FAILED = REJECTIONS_TOTAL - REJECTIONS_TRANSFERRED
#: byte position of a field inside a 91 data record (0-based; positions 43, 44–50, 91 of the spec)
_ACCOUNT_TYPE, _ACCOUNT_NUMBER, _NEW_CODE = 42, 43, 90
REJECTIONS = {
    3: Rejection(3, "預金種目", "account_type", "5", b"5"),  # not 1 2 3 9: FIELD_CODE
    5: Rejection(5, "口座番号", "account_number", None, b"12A4567"),  # not digits: FIELD_NOT_NUMERIC
    6: Rejection(6, "新規コード", "new_code", "8", b"8"),  # not 0 1 2: FIELD_CODE
}
ACCEPTED_RECORDS = (2, 4, 7)


def _debit_91(first_serial: int, amounts_codes: list[tuple[int, str]], **header: Any) -> bytes:
    """A 91 result file, CRLF after every record, serials (account and customer numbers) from first_serial."""
    builder = FileBuilder(DEBIT_91, separator=b"\r\n", result=True)
    records = [debit_record(first_serial + i, amount, code) for i, (amount, code) in enumerate(amounts_codes)]
    return builder.to_bytes([Group(debit_header(**header), records)])


def _patch(data: bytearray, offset: int, expected: bytes, new: bytes) -> None:
    """Overwrite bytes, after checking they are what the layout says is there."""
    assert bytes(data[offset : offset + len(expected)]) == expected, (
        f"byte {offset}: expected {expected!r}, found {bytes(data[offset : offset + len(expected)])!r}"
    )
    data[offset : offset + len(new)] = new


def clean_file() -> bytes:
    """Three results (振替済, 振替不能, 振替済): archived clean; sent twice, the second is a duplicate."""
    return _debit_91(101, [(1200, "0"), (3400, "1"), (5600, "0")])


def rejections_file() -> bytes:
    """Six results; records 3, 5 and 6 spoilt field by field (:data:`REJECTIONS`), totals unchanged."""
    data = bytearray(_debit_91(201, REJECTIONS_RECORDS))
    third, fifth, sixth = (RECORD * (n - 1) for n in (3, 5, 6))
    _patch(data, third + _ACCOUNT_TYPE, b"1", REJECTIONS[3].raw)
    _patch(data, fifth + _ACCOUNT_NUMBER, f"{204:07d}".encode(), REJECTIONS[5].raw)
    _patch(data, sixth + _NEW_CODE, b"0", REJECTIONS[6].raw)
    return bytes(data)


def header_filler_file() -> bytes:
    """Header ダミー (104–120) holding an X: strict rules refuse the file, permissive ones accept it."""
    data = bytearray(_debit_91(301, [(7000, "0"), (8000, "0"), (9000, "1")]))
    _patch(data, 110, b" ", b"X")
    return bytes(data)


def header_wo_file() -> bytes:
    """委託者名 with ｦ (0xA6), outside strict 91 rules, accepted by permissive ones."""
    data = bytearray(_debit_91(401, [(1500, "0"), (2500, "0")], consignor_name="ﾃｽﾄｼ"))
    _patch(data, 14 + 5, b" ", b"\xa6")  # 委託者名 starts at position 15: "ﾃｽﾄｼ ｦ"
    return bytes(data)


#: key → (file name, builder, the state `gateway ingest` must leave it in)
FILES: dict[str, tuple[str, Any, str]] = {
    "clean": ("zengin91-result-clean.dat", clean_file, "archived"),
    "duplicate": ("zengin91-result-clean.dat", clean_file, "duplicate"),
    "rejections": ("zengin91-result-rejections.dat", rejections_file, "archived"),
    "release": ("zengin91-result-header-filler.dat", header_filler_file, "quarantined"),
    "kept": ("zengin91-result-header-wo.dat", header_wo_file, "quarantined"),
}


# ---------------------------------------------------------------------------------------------
# configuration, spool, ledger
# ---------------------------------------------------------------------------------------------

ENDPOINT = "bank-test"


def write_config(path: Path, spool: Path) -> Path:
    """config/gateway.toml with its [spool] table replaced (the spool under the test's folder), plus
    one SFTP endpoint for the 接続先 page (never connected to: nothing runs its schedule)."""
    text = (ROOT / "config" / "gateway.toml").read_text(encoding="utf-8")
    text, found = re.subn(r"(?ms)^\[spool\][^\n]*\n.*?(?=^\[)", "", text, count=1)
    assert found == 1, "config/gateway.toml has no [spool] table to replace"
    key, known_hosts = path.parent / "bank_ed25519", path.parent / "known_hosts"
    key.write_text("not a key: the console never connects\n")
    key.chmod(0o600)
    known_hosts.write_text("")
    endpoint = (
        f'\n[endpoints.{ENDPOINT}]\nhost = "{HOST}"\nport = 2222\nuser = "city0123"\n'
        f'key_file = "{key}"\nknown_hosts = "{known_hosts}"\nremote_dir = "/out"\n'
        f'patterns = ["KFURI*.DAT"]\nchannel = "{CHANNEL}"\nschedule = "0 8-17 * * *"\n'
    )
    path.write_text(
        f'[spool]\nroot = "{spool}"\nquiet_seconds = 0.3\nrescan_seconds = 0.5\n\n{text}{endpoint}', encoding="utf-8"
    )
    return path


def set_channel_strict(config: Path, strict: bool) -> None:
    """Set ``strict`` of the zengin-91 channel in the configuration file."""
    text = config.read_text(encoding="utf-8")
    text, found = re.subn(
        r"(?ms)(^\[channels\.zengin-91\]\n(?:(?!^\[).)*?^strict\s*=\s*)(?:true|false)",
        lambda m: m.group(1) + ("true" if strict else "false"),
        text,
        count=1,
    )
    assert found == 1, "no `strict = …` in [channels.zengin-91] of the configuration"
    config.write_text(text, encoding="utf-8")


class GatewayCommand:
    """One short `gateway …` subprocess (ingest, users add), started now and checked later, so
    that several can run at once."""

    def __init__(self, args: list[str], *, cwd: Path, input_text: str | None = None) -> None:
        self.args = args
        self.input_text = input_text
        self.process = subprocess.Popen(
            [str(GATEWAY), *args],
            cwd=cwd,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
        )

    def result(self, timeout: float = 180) -> tuple[int, str, str]:
        """(exit code, stdout, stderr), once it has finished."""
        try:
            out, err = self.process.communicate(self.input_text, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
            raise AssertionError(f"gateway {' '.join(self.args)} ran over {timeout} s:\n{out}{err}") from None
        return self.process.returncode, out, err


@dataclass
class Spool:
    """The test's spool, its configuration and its ledger (read with plain SQL)."""

    root: Path
    config: Path
    ids: dict[str, str] = field(default_factory=dict)  # FILES key → file id
    #: FILES key → the exact bytes that were sent
    contents: dict[str, bytes] = field(default_factory=dict)

    @property
    def ledger_path(self) -> Path:
        return self.root / "ledger.sqlite3"

    def query(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        with closing(sqlite3.connect(self.ledger_path, timeout=30)) as db:
            db.row_factory = sqlite3.Row
            return db.execute(sql, params).fetchall()

    def row(self, file_id: str) -> sqlite3.Row:
        rows = self.query("SELECT * FROM files WHERE id = ?", file_id)
        assert rows, f"no file {file_id} in the ledger"
        return rows[0]

    def reprocessed_from(self, file_id: str) -> list[sqlite3.Row]:
        """Ledger rows of the files made by reprocessing ``file_id`` (a release, a force …)."""
        return self.query("SELECT * FROM files WHERE reprocess_of = ? ORDER BY received_at", file_id)

    def deliveries(self, file_id: str) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM deliveries WHERE file_id = ?", file_id)

    def folder_files(self, folder: str) -> list[Path]:
        base = self.root / folder
        return sorted(path for path in base.rglob("*") if path.is_file()) if base.exists() else []

    def holding(self, folder: str, content: bytes) -> list[Path]:
        """Files under ``folder`` (archive, quarantine …) whose bytes are exactly ``content``."""
        return [path for path in self.folder_files(folder) if path.read_bytes() == content]


def send(spool: Spool, key: str, workdir: Path) -> GatewayCommand:
    """Start `gateway ingest` of one of :data:`FILES`; :func:`received` checks how it ended."""
    name, build, _ = FILES[key]
    content = build()
    source = workdir / "outgoing" / key / name
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(content)
    spool.contents[key] = content
    return GatewayCommand(["ingest", str(source), "--channel", CHANNEL, "--config", str(spool.config)], cwd=workdir)


def received(spool: Spool, key: str, command: GatewayCommand) -> str:
    """The file id of an ingest started by :func:`send`, after checking it ended as :data:`FILES` says."""
    name, _, state = FILES[key]
    code, out, err = command.result()
    assert code in (0, 1, 2), f"gateway ingest {name}: exit {code}\n{out}{err}"
    match = re.match(r"\s*(\S+)\s+(\S+)", out)
    assert match, f"gateway ingest {name}: no outcome line in\n{out}{err}"
    file_id, reported = match.groups()
    assert reported == state, f"{name} ended {reported}, the test expects {state}:\n{out}{err}"
    assert spool.row(file_id)["state"] == state
    spool.ids[key] = file_id
    return file_id


def add_user(spool: Spool, name: str, workdir: Path) -> GatewayCommand:
    """Start `gateway users add NAME --role ROLE --password-stdin`; :func:`user_added` checks it."""
    role, password = USERS[name]
    return GatewayCommand(
        ["users", "add", name, "--role", role, "--password-stdin", "--config", str(spool.config)],
        cwd=workdir,
        input_text=password + "\n",
    )


def user_added(name: str, command: GatewayCommand) -> None:
    code, out, err = command.result()
    assert code == 0, f"gateway users add {name}: exit {code}\n{out}{err}"
    assert USERS[name][1] not in out + err, "the password was echoed"


def fill_spool(spool: Spool, workdir: Path) -> None:
    """Ingest :data:`FILES` and add :data:`USERS`, several processes at a time: the clean file first
    (it creates the ledger; its second copy must find it accepted), then all the others at once."""
    received(spool, "clean", send(spool, "clean", workdir))
    ingests = {key: send(spool, key, workdir) for key in FILES if key != "clean"}
    users = {name: add_user(spool, name, workdir) for name in USERS}
    for key, command in ingests.items():
        received(spool, key, command)
    for name, command in users.items():
        user_added(name, command)
    assert spool.row(spool.ids["duplicate"])["duplicate_of"] == spool.ids["clean"]


# ---------------------------------------------------------------------------------------------
# the console process
# ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Console:
    """One running `gateway console` and the spool it shows."""

    spool: Spool
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except urllib.error.HTTPError:
        return False
    except OSError:
        return False


def start_console(spool: Spool, workdir: Path, *, timeout: float = 60) -> Console:
    """Start `gateway console` on a free port and wait until GET /login answers 200."""
    failures = []
    for attempt in range(3):
        port = _free_port()
        log = workdir / f"console-{attempt}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [str(GATEWAY), "console", "--config", str(spool.config), "--host", HOST, "--port", str(port)],
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        console = Console(spool, process, port, log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            if _answers(console.url("/login")):
                return console
            time.sleep(0.1)
        console.stop()
        failures.append(f"attempt {attempt + 1} (port {port}, exit {process.returncode}):\n{console.output()[-3000:]}")
        if "address already in use" not in console.output().lower():
            break  # not a lost race for the port: trying again will not help
    raise AssertionError("gateway console did not answer on /login:\n" + "\n".join(failures))


# ---------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """The suite's thread check (tests/conftest.py), minus the threads of Playwright's event loop.

    Playwright's sync API runs asyncio in this process; its default executor starts
    ``asyncio_N`` threads lazily (a screenshot, a download) and keeps them until the
    browser session ends, and its child watcher has an ``asyncio-waitpid-N`` thread."""

    def counted() -> int:
        return sum(1 for thread in threading.enumerate() if not thread.name.startswith("asyncio"))

    before = counted()
    yield
    assert counted() <= before, "a test leaked threads"


def require_chromium() -> str:
    """Debian's Chromium for Playwright; skips where it (or Playwright) is missing, fails under CI=true."""
    problems = []
    if sync_playwright is None:
        problems.append("the playwright Python package is not installed (pip install -e '.[dev]')")
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        problems.append(f"{CHROMIUM} not installed: run scripts/ensure-system-packages.sh (Debian package chromium)")
    if not problems:
        return str(CHROMIUM)
    message = "; ".join(problems)
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and the browser tests must run, but {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium (Debian's, /usr/bin/chromium) for the whole session."""
    executable = require_chromium()
    expect.set_options(timeout=TIMEOUT_MS)
    manager = sync_playwright().start()
    try:
        args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium's sandbox refuses to run as root
        instance = manager.chromium.launch(executable_path=executable, headless=True, args=args)
        try:
            yield instance
        finally:
            instance.close()
    finally:
        manager.stop()


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Console]:
    """A spool filled by the real pipeline, three users, and a running `gateway console` over it.

    Depends on ``browser`` so that a missing browser skips (or fails) before any work."""
    workdir = tmp_path_factory.mktemp("console")
    spool = Spool(workdir / "spool", write_config(workdir / "gateway.toml", workdir / "spool"))
    fill_spool(spool, workdir)
    # the section checked with the bank: the header bytes are harmless; the channel goes permissive
    set_channel_strict(spool.config, False)
    running = start_console(spool, workdir)
    try:
        yield running
    finally:
        running.stop()


def new_context(browser: Browser, console: Console) -> BrowserContext:
    context = browser.new_context(
        base_url=console.base_url, viewport=VIEWPORT, accept_downloads=True, locale="ja-JP", timezone_id="Asia/Tokyo"
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


def log_in(page: Page, name: str, password: str | None = None) -> None:
    """Fill and send the login form (password: the user's own unless given)."""
    page.goto("/login")
    form = page.locator("form#login-form")
    form.locator('input[name="username"]').fill(name)
    form.locator('input[name="password"]').fill(USERS[name][1] if password is None else password)
    with page.expect_navigation():
        form.get_by_role("button", name="ログイン").click()


def logged_in(browser: Browser, console: Console, name: str) -> Iterator[Page]:
    context = new_context(browser, console)
    try:
        page = context.new_page()
        log_in(page, name)
        assert page.url == console.url("/"), f"{name} could not log in: at {page.url}\n{page.content()[:2000]}"
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def operator_page(browser: Browser, console: Console) -> Iterator[Page]:
    """A page logged in as alice (operator), shared by the module's tests."""
    yield from logged_in(browser, console, "alice")


@pytest.fixture(scope="module")
def supervisor_page(browser: Browser, console: Console) -> Iterator[Page]:
    """A page logged in as bob (supervisor), shared by the module's tests."""
    yield from logged_in(browser, console, "bob")


@pytest.fixture
def fresh_page(browser: Browser, console: Console) -> Iterator[Page]:
    """A page in a context of its own (no session yet)."""
    context = new_context(browser, console)
    try:
        yield context.new_page()
    finally:
        context.close()
