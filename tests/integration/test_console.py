"""The operators' web console against a real ledger and spool: files put through the real pipeline,
the Starlette app driven with its TestClient (HTTPS base URL, so the Secure cookie is sent)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from formats.builder import FileBuilder, Group
from formats.checkdigits import find_my_numbers, my_number_check_digit
from formats.layouts.zengin import DEBIT_91
from gateway.config.console import ConsoleConfig
from gateway.config.settings import ConfigError, Settings, load_settings
from gateway.datapath.pipeline import Pipeline
from gateway.entrypoints.cli import app as cli_app
from gateway.entrypoints.console.app import create_app
from gateway.entrypoints.console.filters import ResponseFilter, mask_body
from gateway.reporting import audit
from gateway.storage.ledger import Ledger
from gateway.storage.users import UserStore
from spool.scanner import Arrival
from tests.support.paths import DATA
from tests.support.samples import debit_file, debit_header, debit_record

BASE = "https://127.0.0.1"  # a name the console answers to ([console] hosts)
CLEAN = debit_file([(1000, "0"), (2500, "1"), (300, "0"), (4700, "9")])


def other_payments(first_serial: int, amounts_codes: list[tuple[int, str]]) -> bytes:
    """A clean 91 result whose customers (payments) no other file of the test posts."""
    records = [debit_record(first_serial + i, amount, code) for i, (amount, code) in enumerate(amounts_codes)]
    return FileBuilder(DEBIT_91, separator=b"\r\n", result=True).to_bytes([Group(debit_header(), records)])


CORRECTED = other_payments(100, [(1200, "0"), (2600, "0"), (330, "0")])
PASSWORDS = {"olivia": "operator-pass-1", "sam": "supervisor-pass-1", "dora": "disabled-pass-1"}
MY_NUMBER = "12345678901" + str(my_number_check_digit("12345678901"))
WIDE_NUMBER = MY_NUMBER.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _bad_names(content: bytes, records: list[int]) -> bytes:
    """``content`` with ｯ (refused small kana) in 預金者名 of the given physical records."""
    changed = bytearray(content)
    for index in records:
        changed[122 * index + 50] = 0xAF
    return bytes(changed)


def _wrong_total(content: bytes) -> bytes:
    """``content`` with its trailer's 合計金額 one yen off (the file is refused: quarantine)."""
    changed = bytearray(content)
    trailer = 122 * 5
    assert changed[trailer + 7 : trailer + 19] == b"000000008500"
    changed[trailer + 18 : trailer + 19] = b"1"
    return bytes(changed)


@pytest.fixture(autouse=True)
def worker_threads_finish() -> Iterator[None]:
    """Wait for the worker threads of finished requests (anyio stops them when a request's event loop
    ends, without waiting), before the suite's leaked-thread check."""
    yield
    for thread in threading.enumerate():
        if thread.name == "AnyIO worker thread":
            thread.join(10)


class Clock:
    """A clock the tests move forward."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class World:
    settings: Settings
    clock: Clock
    ids: dict[str, str]

    def ledger(self) -> Ledger:
        return Ledger(self.settings.ledger_path())

    def row(self, file_id: str) -> Any:
        with self.ledger() as ledger:
            return ledger.get(file_id)

    def later(self, file_id: str) -> list[Any]:
        with self.ledger() as ledger:
            rows = ledger.db.execute("SELECT * FROM files WHERE reprocess_of = ?", (file_id,)).fetchall()
        return [dict(row) for row in rows]

    def app(self, **console: Any) -> Any:
        settings = self.settings
        if console:
            settings = settings.model_copy(update={"console": settings.console.model_copy(update=console)})
            settings._formats, settings._cleared = self.settings._formats, self.settings._cleared
        return create_app(settings, clock=self.clock)

    def audit_events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.settings.audit_path().read_text(encoding="utf-8").splitlines()]


def _ingest(pipeline: Pipeline, name: str, content: bytes) -> str:
    path = pipeline.spool.inbox("zengin-91") / name
    path.write_bytes(content)
    stat = path.stat()
    file_id = pipeline.claim(Arrival("zengin-91", path, stat.st_size, stat.st_mtime_ns))
    assert file_id is not None
    return pipeline.process(file_id).file_id


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """A spool with one file in each state, made by the real pipeline, and three console users."""
    settings = load_settings(spool_root=tmp_path / "spool")
    settings.spool.root.mkdir()
    audit.configure(settings.audit_path(), console=False)
    import gateway.datapath.pipeline as module

    real = module.validate_path

    def explode(path: Any, *args: Any, **kwargs: Any) -> Any:
        if "boom" in Path(path).name:
            raise RuntimeError("layout exploded")
        return real(path, *args, **kwargs)

    ids: dict[str, str] = {}
    with Ledger(settings.ledger_path()) as ledger:
        pipeline = Pipeline(settings, ledger)
        pipeline.spool.ensure()
        ids["clean"] = _ingest(pipeline, "clean.dat", CLEAN)
        ids["partly"] = _ingest(pipeline, "partly.dat", _bad_names(CLEAN, [2]))
        ids["golden"] = _ingest(
            pipeline, "bad_account_type.dat", (DATA / "zengin-91" / "bad_account_type.dat").read_bytes()
        )
        ids["rejected"] = _ingest(pipeline, "all-bad.dat", _bad_names(CLEAN, [1, 2, 3, 4]))
        ids["mismatch"] = _ingest(pipeline, "mismatch.dat", _wrong_total(CLEAN))
        ids["duplicate"] = _ingest(pipeline, "again.dat", CLEAN)
        with monkeypatch.context() as patch:
            patch.setattr(module, "validate_path", explode)
            ids["failed"] = _ingest(pipeline, "boom.dat", other_payments(200, [(777, "0"), (888, "1")]))
        states = {key: ledger.get(file_id).state for key, file_id in ids.items()}
        store = UserStore(ledger)
        store.add("olivia", "operator", PASSWORDS["olivia"])
        store.add("sam", "supervisor", PASSWORDS["sam"])
        store.add("dora", "supervisor", PASSWORDS["dora"])
        store.disable("dora")
    assert states == {
        "clean": "archived",
        "partly": "archived",
        "golden": "archived",
        "rejected": "rejected",
        "mismatch": "quarantined",
        "duplicate": "duplicate",
        "failed": "quarantined",
    }
    yield World(settings, Clock(), ids)
    audit.configure(None)


def client(app: Any) -> TestClient:
    return TestClient(app, base_url=BASE, follow_redirects=False)


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


def login(http: TestClient, name: str, password: str | None = None) -> Any:
    page = http.get("/login")
    return http.post(
        "/login", data={"username": name, "password": password or PASSWORDS[name], "csrf_token": csrf_of(page.text)}
    )


def logged_in(world: World, name: str, **console: Any) -> TestClient:
    http = client(world.app(**console))
    response = login(http, name)
    assert response.status_code == 303 and response.headers["location"] == "/", response.text
    return http


def page_csrf(http: TestClient, path: str = "/") -> str:
    response = http.get(path)
    assert response.status_code == 200, response.text
    return csrf_of(response.text)


def all_routes(world: World) -> list[tuple[str, str]]:
    ids = world.ids
    routes = [
        ("GET", "/"),
        ("GET", "/?date=all"),
        ("GET", "/quarantine"),
        ("GET", "/endpoints"),
        ("GET", "/audit"),
        ("GET", f"/files/{ids['partly']}"),
        ("GET", f"/files/{ids['partly']}/report.csv"),
        ("POST", "/logout"),
    ]
    for action, key in (("release", "failed"), ("force", "duplicate"), ("resubmit", "mismatch")):
        routes += [("GET", f"/files/{ids[key]}/{action}"), ("POST", f"/files/{ids[key]}/{action}")]
    return routes


ROUTE_COUNT = 14


# -- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(ROUTE_COUNT))
def test_every_page_and_action_refuses_anonymous_requests(world, index):
    """Anonymous: a page redirects to /login, a CSV or an action is refused with 401, nothing is done."""
    routes = all_routes(world)
    assert len(routes) == ROUTE_COUNT
    method, path = routes[index]
    http = client(world.app())
    if method == "GET":
        response = http.get(path)
    else:
        csrf = csrf_of(http.get("/login").text)  # even with the anonymous session's own token
        response = http.post(path, data={"csrf_token": csrf}, files={"file": ("x.dat", CORRECTED)})
    if method == "GET" and not path.endswith(".csv"):
        assert (response.status_code, response.headers["location"]) == (303, "/login")
    else:
        assert response.status_code == 401
        assert "ログイン" in response.text
    assert world.later(world.ids["failed"]) == [] and world.later(world.ids["duplicate"]) == []
    assert world.later(world.ids["mismatch"]) == []


@pytest.mark.parametrize("action,key", [("release", "failed"), ("force", "duplicate"), ("resubmit", "mismatch")])
@pytest.mark.parametrize("token", ["missing", "wrong"])
def test_each_action_requires_the_csrf_token(world, action, key, token):
    """A supervisor's POST without the session's CSRF token (or with another) is refused with 403."""
    http = logged_in(world, "sam")
    data = {} if token == "missing" else {"csrf_token": "x" + page_csrf(http)}
    response = http.post(f"/files/{world.ids[key]}/{action}", data=data, files={"file": ("fixed.dat", CORRECTED)})
    assert response.status_code == 403
    assert world.later(world.ids[key]) == []
    assert (
        world.row(world.ids[key]).state
        == {"failed": "quarantined", "duplicate": "duplicate", "mismatch": "quarantined"}[key]
    )


def test_login_requires_the_csrf_token(world):
    """A login POST without the login page's token, or with a wrong one, is refused even with the right password."""
    http = client(world.app())
    assert http.post("/login", data={"username": "sam", "password": PASSWORDS["sam"]}).status_code == 403
    token = csrf_of(http.get("/login").text)
    refused = http.post("/login", data={"username": "sam", "password": PASSWORDS["sam"], "csrf_token": token + "x"})
    assert refused.status_code == 403 and 'class="error"' in refused.text
    assert http.get("/").status_code == 303
    assert login(http, "sam").status_code == 303


def test_logout_requires_the_csrf_token_and_ends_the_session(world):
    """Logout without the token is refused (still logged in); with it the session ends for good."""
    http = logged_in(world, "sam")
    assert http.post("/logout", data={}).status_code == 403
    assert http.post("/logout", data={"csrf_token": "nope"}).status_code == 403
    assert http.get("/").status_code == 200
    old_cookie = http.cookies.get("gateway_console")
    response = http.post("/logout", data={"csrf_token": page_csrf(http)})
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert http.get("/").status_code == 303
    replay = client(world.app())
    replay.cookies.set("gateway_console", old_cookie)
    assert replay.get("/").status_code == 303  # the old cookie is worth nothing once logged out


@pytest.mark.parametrize("action,key", [("release", "failed"), ("force", "duplicate"), ("resubmit", "mismatch")])
def test_an_operator_is_refused_every_action(world, action, key):
    """An operator gets 403 on the confirm page and on the POST, even with a valid CSRF token."""
    http = logged_in(world, "olivia")
    assert http.get(f"/files/{world.ids[key]}/{action}").status_code == 403
    response = http.post(
        f"/files/{world.ids[key]}/{action}",
        data={"csrf_token": page_csrf(http)},
        files={"file": ("fixed.dat", CORRECTED)},
    )
    assert response.status_code == 403
    assert world.later(world.ids[key]) == []


def test_an_operator_sees_no_action_links(world):
    """Neither the file pages nor the quarantine page offer an operator any action."""
    http = logged_in(world, "olivia")
    for key in ("failed", "duplicate", "mismatch", "rejected"):
        text = http.get(f"/files/{world.ids[key]}").text
        assert not re.search(r'id="(release|force|resubmit)-link"', text)
    text = http.get("/quarantine").text
    assert 'id="quarantine"' in text
    assert not re.search(r'class="(release|force|resubmit)-link', text)
    assert "/release" not in text and "/force" not in text and "/resubmit" not in text


def test_a_supervisor_sees_the_action_links_each_state_allows(world):
    """Quarantined: release and resubmit; duplicate: force; rejected: resubmit; archived: none."""
    http = logged_in(world, "sam")
    expected = {
        "failed": {"release", "resubmit"},
        "mismatch": {"release", "resubmit"},
        "duplicate": {"force"},
        "rejected": {"resubmit"},
        "clean": set(),
        "partly": set(),
    }
    for key, actions in expected.items():
        text = http.get(f"/files/{world.ids[key]}").text
        assert set(re.findall(r'id="(release|force|resubmit)-link"', text)) == actions, key
        for action in actions:
            assert f'href="/files/{world.ids[key]}/{action}"' in text
    text = http.get("/quarantine").text
    assert f'class="release-link" href="/files/{world.ids["failed"]}/release"' in text
    assert f'class="force-link" href="/files/{world.ids["duplicate"]}/force"' in text


def test_an_action_a_state_does_not_allow_is_refused(world):
    """Releasing an archived file or forcing a quarantined one is refused (409); nothing is done."""
    http = logged_in(world, "sam")
    csrf = page_csrf(http)
    assert http.get(f"/files/{world.ids['clean']}/release").status_code == 409
    assert http.post(f"/files/{world.ids['clean']}/release", data={"csrf_token": csrf}).status_code == 409
    assert http.post(f"/files/{world.ids['failed']}/force", data={"csrf_token": csrf}).status_code == 409
    assert http.get("/files/20000101-000000-00000000").status_code == 404
    assert world.later(world.ids["clean"]) == [] and world.later(world.ids["failed"]) == []


# -- actions ------------------------------------------------------------------------------------


def _confirm(http: TestClient, path: str) -> str:
    page = http.get(path)
    assert page.status_code == 200
    assert 'id="confirm-form"' in page.text and 'enctype="multipart/form-data"' in page.text and "実行する" in page.text
    return csrf_of(page.text)


def test_release_reprocesses_a_quarantined_file(world):
    """Release puts the quarantined file through the pipeline again: a new archived file with outputs."""
    http = logged_in(world, "sam")
    original = world.ids["failed"]
    path = f"/files/{original}/release"
    response = http.post(path, data={"csrf_token": _confirm(http, path)})
    assert response.status_code == 303
    new_id = response.headers["location"].removeprefix("/files/")
    assert new_id != original
    row = world.row(new_id)
    assert (row.state, row.status, row.reprocess_of, row.forced) == ("archived", "ok", original, 0)
    outbox = world.settings.destination_path("collection")
    assert (outbox / f"{new_id}.collection.dat").exists()
    assert not Path(world.row(original).final_path).exists()  # the input moved on to the new file
    page = http.get(response.headers["location"])
    assert 'class="flash"' in page.text and original in page.text
    assert 'data-state="archived"' in page.text
    again = http.get(f"/files/{original}")
    assert 'id="release-link"' not in again.text and new_id in again.text  # released once, not twice
    assert http.post(path, data={"csrf_token": page_csrf(http)}).status_code == 409
    events = [e for e in world.audit_events() if e["event"] == "console-release"]
    assert [(e["user"], e["file_id"], e["new_file_id"]) for e in events] == [("sam", original, new_id)]


def test_a_release_that_cannot_be_done_says_why(world):
    """When the quarantined input is gone (erased after its retention period), the page says so; nothing changes."""
    http = logged_in(world, "sam")
    original = world.ids["failed"]
    Path(world.row(original).final_path).unlink()
    response = http.post(f"/files/{original}/release", data={"csrf_token": page_csrf(http)})
    assert (response.status_code, response.headers["location"]) == (303, f"/files/{original}")
    page = http.get(f"/files/{original}").text
    assert 'class="flash flash-error"' in page and "no longer in the spool" in page
    assert [e["user"] for e in world.audit_events() if e["event"] == "console-action-failed"] == ["sam"]


def test_force_reprocesses_a_duplicate(world):
    """Force processes a duplicate again under a new id (forced), posting it again."""
    http = logged_in(world, "sam")
    original = world.ids["duplicate"]
    path = f"/files/{original}/force"
    response = http.post(path, data={"csrf_token": _confirm(http, path)})
    assert response.status_code == 303
    new_id = response.headers["location"].removeprefix("/files/")
    row = world.row(new_id)
    assert (row.state, row.reprocess_of, row.forced) == ("archived", original, 1)
    assert (world.settings.destination_path("collection") / f"{new_id}.collection.dat").exists()
    events = [e for e in world.audit_events() if e["event"] == "console-force"]
    assert [(e["user"], e["file_id"], e["new_file_id"]) for e in events] == [("sam", original, new_id)]


def test_resubmit_sends_a_corrected_file_through_the_pipeline(world):
    """A corrected file is claimed and processed on the original's channel; the audit links both ids."""
    http = logged_in(world, "sam")
    original = world.ids["mismatch"]
    path = f"/files/{original}/resubmit"
    csrf = _confirm(http, path)
    assert 'type="file" name="file"' in http.get(path).text
    missing = http.post(path, data={"csrf_token": csrf})
    assert missing.status_code == 400 and world.later(original) == []
    response = http.post(path, data={"csrf_token": csrf}, files={"file": ("mismatch-fixed.dat", CORRECTED)})
    assert response.status_code == 303
    new_id = response.headers["location"].removeprefix("/files/")
    row = world.row(new_id)
    assert (row.state, row.status, row.channel, row.original_name, row.reprocess_of) == (
        "archived",
        "ok",
        "zengin-91",
        "mismatch-fixed.dat",
        original,
    )
    assert Path(row.final_path).read_bytes() == CORRECTED
    assert (world.settings.destination_path("collection") / f"{new_id}.collection.dat").exists()
    assert not (world.settings.spool.root / "console-uploads").exists() or not any(
        (world.settings.spool.root / "console-uploads").iterdir()
    )
    events = world.audit_events()
    linked = [e for e in events if e["event"] == "console-resubmit"]
    assert [(e["user"], e["file_id"], e["new_file_id"]) for e in linked] == [("sam", original, new_id)]
    assert any(
        e["event"] == "console-resubmitted" and e["file_id"] == new_id and e["resubmit_of"] == original for e in events
    )
    audit_page = http.get(f"/audit?file_id={original}").text
    assert new_id in audit_page  # searching the original finds the resubmission


def test_a_resubmitted_duplicate_content_ends_as_a_duplicate(world):
    """A "corrected" file whose bytes were already processed is caught by the duplicate check as usual."""
    http = logged_in(world, "sam")
    path = f"/files/{world.ids['rejected']}/resubmit"
    response = http.post(path, data={"csrf_token": _confirm(http, path)}, files={"file": ("same.dat", CLEAN)})
    new_id = response.headers["location"].removeprefix("/files/")
    assert world.row(new_id).state == "duplicate"


# -- login, lockout, sessions --------------------------------------------------------------------


def test_lockout_survives_a_restart_and_ends_after_the_period(world):
    """Five failures lock the account, even against the right password and across a restart; 15 minutes later it opens."""
    http = client(world.app())
    for _ in range(4):
        failed = login(http, "sam", "wrong-password")
        assert failed.status_code == 401 and 'class="error"' in failed.text and "ロック" not in failed.text
    fifth = login(http, "sam", "wrong-password")
    assert "ロック" in fifth.text
    assert "ロック" in login(http, "sam").text
    restarted = client(world.app())
    refused = login(restarted, "sam")
    assert refused.status_code == 401 and "ロック" in refused.text
    world.clock.advance(minutes=14)
    assert "ロック" in login(client(world.app()), "sam").text
    world.clock.advance(minutes=2)
    assert login(client(world.app()), "sam").status_code == 303
    reasons = [e.get("reason") for e in world.audit_events() if e["event"] == "console-login-failed"]
    assert reasons == ["bad-password"] * 5 + ["locked"] * 3


def test_a_disabled_user_cannot_log_in_and_loses_open_sessions(world):
    """A disabled account is refused even with its password; disabling ends a live session."""
    http = client(world.app())
    refused = login(http, "dora")
    assert refused.status_code == 401 and 'class="error"' in refused.text
    session = logged_in(world, "olivia")
    with world.ledger() as ledger:
        UserStore(ledger).disable("olivia")
    assert session.get("/").status_code == 303


def test_a_session_expires_after_the_idle_time(world):
    """No request for session_minutes: the next one goes to the login page; activity keeps it alive."""
    http = logged_in(world, "olivia", session_minutes=10)
    world.clock.advance(minutes=9)
    assert http.get("/").status_code == 200
    world.clock.advance(minutes=9)
    assert http.get("/").status_code == 200
    world.clock.advance(minutes=11)
    assert http.get("/").status_code == 303


def test_the_session_cookie_is_httponly_strict_and_secure_by_default(world):
    """The cookie is HttpOnly, SameSite=Strict, Secure (default) and has no lifetime of its own."""
    http = client(world.app())
    header = http.get("/login").headers["set-cookie"]
    assert "httponly" in header.lower() and "samesite=strict" in header.lower() and "secure" in header.lower()
    assert "max-age" not in header.lower() and "expires" not in header.lower()
    login_cookie = login(http, "sam").headers["set-cookie"]
    assert "secure" in login_cookie.lower() and "samesite=strict" in login_cookie.lower()
    plain = client(world.app(secure_cookies=False)).get("/login").headers["set-cookie"]
    assert "secure" not in plain.lower() and "httponly" in plain.lower()


# -- the Host header ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/", "/files/x/report.csv", "/static/console.css"])
def test_a_foreign_host_header_is_refused_and_audited(world, path):
    """DNS rebinding: a request naming another host (evil.example resolving to 127.0.0.1) gets 400 before
    any page, login or lockout is reached; the refusal is audited."""
    http = client(world.app())
    response = http.get(path, headers={"host": "evil.example"})
    assert response.status_code == 400
    assert "set-cookie" not in response.headers and response.headers["x-frame-options"] == "DENY"
    assert not http.cookies
    events = [e for e in world.audit_events() if e["event"] == "console-host-refused"]
    assert [(e["host"], e["path"]) for e in events] == [("evil.example", path)]


def test_a_login_through_a_foreign_host_locks_no_one(world):
    """Wrong passwords sent through another Host name neither count nor lock the account."""
    http = client(world.app())
    token = csrf_of(http.get("/login").text)
    for _ in range(6):
        refused = http.post(
            "/login",
            headers={"host": "evil.example:8300"},
            data={"username": "sam", "password": "wrong-password", "csrf_token": token},
        )
        assert refused.status_code == 400
    assert login(http, "sam").status_code == 303
    assert not [e for e in world.audit_events() if e["event"] == "console-login-failed"]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8300", "localhost", "LOCALHOST:8300", "[::1]:8300"])
def test_the_loopback_names_are_answered_by_default(world, host):
    """127.0.0.1, localhost and [::1] (with or without a port) are the default names."""
    assert client(world.app()).get("/login", headers={"host": host}).status_code == 200


def test_configured_host_names_are_answered(world):
    """[console] hosts replaces the default names; the listening address follows `host` by default."""
    proxied = client(world.app(hosts=("gateway.city.example", "127.0.0.1")))
    assert proxied.get("/login", headers={"host": "gateway.city.example"}).status_code == 200
    assert proxied.get("/login", headers={"host": "gateway.city.example:8443"}).status_code == 200
    assert proxied.get("/login", headers={"host": "127.0.0.1"}).status_code == 200
    assert proxied.get("/login", headers={"host": "localhost"}).status_code == 400
    assert proxied.get("/login", headers={"host": "evil.example"}).status_code == 400
    listening = client(world.app(host="192.0.2.10"))
    assert listening.get("/login", headers={"host": "192.0.2.10:8300"}).status_code == 200
    assert listening.get("/login", headers={"host": "localhost"}).status_code == 200
    assert listening.get("/login", headers={"host": "192.0.2.11"}).status_code == 400


def test_hosts_in_the_configuration(tmp_path):
    """`hosts` in [console]: names (IPv6 in brackets, lower case), '*.domain'; no port, no '*' alone."""
    from gateway.config.settings import default_text

    assert ConsoleConfig().allowed_hosts() == ["127.0.0.1", "localhost", "[::1]"]
    assert ConsoleConfig(host="::1").allowed_hosts() == ["127.0.0.1", "localhost", "[::1]"]
    assert ConsoleConfig(host="0.0.0.0").allowed_hosts() == ["127.0.0.1", "localhost", "[::1]"]
    assert ConsoleConfig().allowed_hosts("gw.city.example") == ["127.0.0.1", "localhost", "[::1]", "gw.city.example"]
    path = tmp_path / "gateway.toml"
    path.write_text(
        default_text() + '\n[console]\nhosts = ["Gateway.City.Example", "::1", "*.lg.example"]\n', encoding="utf-8"
    )
    assert load_settings(path).console.allowed_hosts() == ["gateway.city.example", "[::1]", "*.lg.example"]
    for wrong in ('["*"]', '["gateway.example:8443"]', '["https://gateway.example"]', "[]", '["a.*.example"]'):
        path.write_text(default_text() + f"\n[console]\nhosts = {wrong}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="console.hosts"):
            load_settings(path)


def test_the_login_replaces_the_session(world):
    """The pre-login session's cookie is not the logged-in one (no session fixation)."""
    http = client(world.app())
    csrf = csrf_of(http.get("/login").text)
    before = http.cookies.get("gateway_console")
    http.post("/login", data={"username": "sam", "password": PASSWORDS["sam"], "csrf_token": csrf})
    after = http.cookies.get("gateway_console")
    assert before and after and before != after
    fixed = client(world.app())
    fixed.cookies.set("gateway_console", before)
    assert fixed.get("/").status_code == 303


def test_the_secret_is_generated_once_owner_only(world):
    """The session secret lives next to the ledger, mode 0600, the same across restarts."""
    world.app()
    path = world.settings.ledger_path().parent / "console-secret"
    first = path.read_text()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    http = logged_in(world, "sam")
    world.app()
    assert path.read_text() == first
    assert http.get("/").status_code == 200


# -- pages ----------------------------------------------------------------------------------------


def test_files_page_lists_today_by_channel_with_states_and_counts(world):
    """Today's files (JST): one row per file with its link, channel, name, state and counts; a summary above."""
    http = logged_in(world, "olivia")
    text = http.get("/").text
    assert "ファイル一覧" in text and 'id="filter-form"' in text and 'id="summary"' in text
    assert 'id="logout-form"' in text and "olivia" in text and "operator" in text
    for label, href in (
        ("ファイル一覧", "/"),
        ("隔離・重複", "/quarantine"),
        ("接続先", "/endpoints"),
        ("監査ログ", "/audit"),
    ):
        assert f'<a href="{href}"' in text and label in text
    for key, file_id in world.ids.items():
        assert f'data-file-id="{file_id}" data-state="{world.row(file_id).state}"' in text, key
        assert f'<a href="/files/{file_id}">' in text
    row = re.search(rf'<tr data-file-id="{world.ids["partly"]}".*?</tr>', text, re.S).group(0)
    assert "zengin-91" in row and "partly.dat" in row and "処理済み" in row
    assert re.search(r'class="num accepted">3<', row) and re.search(r'class="num rejected">1<', row)


def test_files_page_filters_by_state_channel_and_date(world):
    """state= and channel= narrow the list; another day shows nothing; date=all everything; a bad date says so."""
    http = logged_in(world, "olivia")
    quarantined = http.get("/?state=quarantined").text
    assert sorted(re.findall(r'data-file-id="([^"]+)"', quarantined)) == sorted(
        [world.ids["mismatch"], world.ids["failed"]]
    )
    assert "data-file-id" not in http.get("/?channel=cvs").text
    assert "data-file-id" not in http.get("/?date=2001-01-01").text
    assert len(re.findall(r"<tr data-file-id=", http.get("/?date=all").text)) == len(world.ids)
    bad = http.get("/?date=yesterday")
    assert bad.status_code == 200 and 'class="error"' in bad.text
    world.clock.advance(days=2)
    assert "<tr data-file-id=" not in http.get("/").text


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31", "00010101", "99991231"])
def test_a_date_at_the_ends_of_the_calendar_says_so_instead_of_failing(world, date):
    """A day whose Japan-time window does not fit in a datetime is refused with a Japanese message, as a
    malformed date is (the page shows today), never a 500; the days just inside still work."""
    http = logged_in(world, "olivia")
    response = http.get("/", params={"date": date})
    assert response.status_code == 200
    error = re.search(r'<p class="error" role="alert">(.*?)</p>', response.text, re.S).group(1)
    assert "日付" in error and "範囲" in error and "今日を表示しています" in error
    assert f'data-file-id="{world.ids["clean"]}"' in response.text  # today's files
    for inside in ("0001-01-02", "9999-12-30"):
        page = http.get("/", params={"date": inside})
        assert page.status_code == 200 and 'class="error"' not in page.text and "data-file-id" not in page.text


def test_file_page_shows_rejections_totals_and_csv_link(world):
    """One row per rejected record (record, field, masked value, expected, reason, message) and the totals."""
    http = logged_in(world, "olivia")
    file_id = world.ids["partly"]
    text = http.get(f"/files/{file_id}").text
    assert re.search(rf"<h1>[^<]*<span[^>]*>{file_id}</span>", text)
    rows = re.findall(r'<tr class="rejection" data-record="(\d*)">(.*?)</tr>', text, re.S)
    assert [record for record, _ in rows] == ["3"]
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", rows[0][1], re.S)]
    assert cells[0] == "3" and "account_holder" in cells[1] and cells[4] == "FIELD_CHARSET" and cells[5]
    assert f'<a id="csv-download" href="/files/{file_id}/report.csv">CSVダウンロード</a>' in text
    totals = re.search(r'<table id="totals">.*?</table>', text, re.S).group(0)
    assert "OK" in totals and "NG" not in totals
    mismatch = http.get(f"/files/{world.ids['mismatch']}").text
    assert "TRAILER_AMOUNT_MISMATCH" in mismatch and "NG" in re.search(
        r'<table id="totals">.*?</table>', mismatch, re.S
    ).group(0)
    assert "隔離の理由" in mismatch


def test_csv_download_is_the_report_with_a_bom(world):
    """The CSV is the report's rejected records, UTF-8 with a BOM, as an attachment named after the file."""
    http = logged_in(world, "olivia")
    file_id = world.ids["partly"]
    response = http.get(f"/files/{file_id}/report.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert (
        "attachment" in response.headers["content-disposition"] and file_id in response.headers["content-disposition"]
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("区分,レコード番号")
    errors = [line for line in lines[1:] if line.startswith("エラー,")]
    assert len(errors) == 1 and errors[0].startswith("エラー,3,294,預金者名,account_holder,FIELD_CHARSET,")
    assert all(
        line.startswith("警告,") for line in lines[1:] if line not in errors
    )  # warnings follow, as in the report


# -- control characters ------------------------------------------------------------------------

RAW_CONTROLS = ("\x1b", "\u202e", "\x00")


def _controlled(world: World) -> tuple[str, str]:
    """A file named with ESC and U+202E (RIGHT-TO-LEFT OVERRIDE), whose 預金者名 starts with ESC, put through
    the pipeline; then a NUL added to its ledger name (no file system allows one) and to its report's
    message, and ESC, U+202E and NUL to the reason of a quarantined file. Returns both ids."""
    content = bytearray(CLEAN)
    content[122 * 2 + 50] = 0x1B
    with world.ledger() as ledger:
        pipeline = Pipeline(world.settings, ledger)
        file_id = _ingest(pipeline, "pay\x1b[2Jrtl\u202eexe.tad", bytes(content))
        ledger.db.execute(
            "UPDATE files SET original_name = ? WHERE id = ?", ("pay\x1b[2Jrtl\u202eexe.tad\x00", file_id)
        )
        ledger.db.execute(
            "UPDATE files SET reason = ? WHERE id = ?", ("total\x1b[8m hidden \u202e\x00", world.ids["mismatch"])
        )
        ledger.db.commit()
    path = Path(world.row(file_id).report_json)
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["rejected"][0]["field"] == "account_holder"
    report["rejected"][0]["message_ja"] = "値\u202eに\x00制御文字\x1b[31m"
    path.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    return file_id, world.ids["mismatch"]


def test_control_characters_are_shown_as_escapes_on_every_page_and_in_the_csv(world):
    """ESC, U+202E and NUL in a file name, a rejected value, a message and a reason reach no page and no CSV
    raw: they are shown as \\x1b, \\u202e and \\x00."""
    file_id, quarantined = _controlled(world)
    http = logged_in(world, "sam")
    pages = {
        path: http.get(path)
        for path in (
            "/",
            "/?date=all",
            "/quarantine",
            "/audit",
            f"/audit?file_id={file_id}",
            f"/files/{file_id}",
            f"/files/{file_id}/report.csv",
            f"/files/{quarantined}",
            f"/files/{quarantined}/release",
        )
    }
    for path, response in pages.items():
        assert response.status_code == 200, path
        body = response.content.decode("utf-8")
        assert not [ch for ch in RAW_CONTROLS if ch in body], path
    files = pages["/"].text
    row = re.search(rf'<tr data-file-id="{file_id}".*?</tr>', files, re.S).group(0)
    assert "pay\\x1b[2Jrtl\\u202eexe.tad\\x00" in row
    file_page = pages[f"/files/{file_id}"].text
    assert "pay\\x1b[2Jrtl\\u202eexe.tad\\x00" in file_page
    rejection = re.search(r'<tr class="rejection".*?</tr>', file_page, re.S).group(0)
    assert "\\x1b" in rejection and "値\\u202eに\\x00制御文字\\x1b[31m" in rejection
    csv_text = pages[f"/files/{file_id}/report.csv"].content.decode("utf-8-sig")
    assert "\\x1b" in csv_text and "値\\u202eに\\x00制御文字\\x1b[31m" in csv_text
    assert "total\\x1b[8m hidden \\u202e\\x00" in pages["/quarantine"].text
    assert "total\\x1b[8m hidden \\u202e\\x00" in pages[f"/files/{quarantined}"].text
    assert "rtl\\u202eexe.tad" in pages[f"/audit?file_id={file_id}"].text  # the audit log's details too


def test_japanese_names_and_ivs_selectors_are_shown_as_they_are(world):
    """The escaping leaves Japanese text alone: a name with an ideographic space and an IVS selector."""
    name = "葛\U000e0100飾区　収納課.dat"
    with world.ledger() as ledger:
        ledger.db.execute("UPDATE files SET original_name = ? WHERE id = ?", (name, world.ids["clean"]))
        ledger.db.commit()
    http = logged_in(world, "olivia")
    assert name in http.get("/").text and name in http.get(f"/files/{world.ids['clean']}").text


def test_quarantine_page_lists_quarantined_and_duplicates_with_reasons(world):
    """Both kinds, each with its reason."""
    http = logged_in(world, "olivia")
    text = http.get("/quarantine").text
    rows = dict(re.findall(r'<tr data-file-id="([^"]+)" data-state="([^"]+)"', text))
    assert rows == {
        world.ids["mismatch"]: "quarantined",
        world.ids["failed"]: "quarantined",
        world.ids["duplicate"]: "duplicate",
    }
    assert "TRAILER_AMOUNT_MISMATCH" in text and "layout exploded" in text and world.ids["clean"] in text


def test_endpoints_page_without_and_with_endpoints(world, tmp_path):
    """No endpoint: an empty-state message. One endpoint: last success, last error, next run and its alerts."""
    http = logged_in(world, "olivia")
    text = http.get("/endpoints").text
    assert 'id="no-endpoints"' in text and '<table id="endpoints">' not in text
    from adapters.sftp import EndpointConfig
    from gateway.storage.transfers import TransferStore

    endpoint = EndpointConfig(
        host="sftp.bank.example",
        user="city",
        key_file=tmp_path / "key",
        known_hosts=tmp_path / "known_hosts",
        remote_dir="/out",
        channel="zengin-91",
        schedule="0 9 * * *",
    )
    settings = world.settings.model_copy(update={"endpoints": {"bank": endpoint}})
    settings._formats, settings._cleared = world.settings._formats, world.settings._cleared
    with TransferStore(settings.ledger_path()) as store:
        ok = store.start_run("bank", "pull", at=world.clock() - dt.timedelta(hours=3))
        store.finish_run(ok, ok=True, files=2)
        bad = store.start_run("bank", "pull", at=world.clock() - dt.timedelta(hours=1))
        store.finish_run(bad, ok=False, error="connection refused by sftp.bank.example")
        store.raise_alert(
            "expected-file",
            date=world.clock().date(),
            message="KFURI*.DAT has not arrived by 10:00",
            endpoint="bank",
            channel="zengin-91",
        )
    http = client(create_app(settings, clock=world.clock))
    login(http, "olivia")
    text = http.get("/endpoints").text
    row = re.search(r'<tr data-endpoint="bank">.*?</tr>', text, re.S).group(0)
    assert "connection refused" in row and "KFURI*.DAT has not arrived" in row
    assert re.search(r'class="last-success">\d{4}-\d\d-\d\d \d\d:\d\d', row)
    assert re.search(r'class="next-run">\d{4}-\d\d-\d\d 09:00<', row)


def test_audit_page_newest_first_and_filtered_by_file_id(world):
    """The audit log's events, newest first; ?file_id= keeps that file's events only."""
    http = logged_in(world, "olivia")
    file_id = world.ids["partly"]
    http.get(f"/files/{file_id}")
    text = http.get(f"/audit?file_id={file_id}").text
    files = re.findall(r'<tr data-event="[^"]*" data-file-id="([^"]*)"', text)
    assert files and set(files) == {file_id}
    events = re.findall(r'<tr data-event="([^"]*)"', text)
    assert events[0] == "console-file-viewed" and events[-1] == "received"
    everything = http.get("/audit").text
    assert 'id="audit"' in everything and world.ids["clean"] in everything and "console-login" in everything


def test_logins_views_downloads_and_actions_are_audited_with_the_user(world):
    """Login, failed login, file view, CSV download and an action each leave an audit event naming the user."""
    http = client(world.app())
    login(http, "sam", "not-the-password")
    login(http, "sam")
    http.get(f"/files/{world.ids['partly']}")
    http.get(f"/files/{world.ids['partly']}/report.csv")
    http.post(f"/files/{world.ids['duplicate']}/force", data={"csrf_token": page_csrf(http)})
    events = [
        (e["event"], e.get("user"), e.get("file_id")) for e in world.audit_events() if e["event"].startswith("console-")
    ]
    assert ("console-login-failed", "sam", None) in events
    assert ("console-login", "sam", None) in events
    assert ("console-file-viewed", "sam", world.ids["partly"]) in events
    assert ("console-csv-downloaded", "sam", world.ids["partly"]) in events
    assert ("console-action-requested", "sam", world.ids["duplicate"]) in events
    assert ("console-force", "sam", world.ids["duplicate"]) in events


# -- individual numbers ------------------------------------------------------------------------------


def _plant(world: World) -> str:
    """Write a valid individual number into a report (its JSON on disk) and a raw audit line, past every mask."""
    file_id = world.ids["partly"]
    path = Path(world.row(file_id).report_json)
    report = json.loads(path.read_text(encoding="utf-8"))
    report["rejected"][0]["found"] = MY_NUMBER
    report["rejected"][0]["message_ja"] = f"個人番号 {MY_NUMBER} が混入"
    report["rejected"][0]["message"] = f"found X{WIDE_NUMBER} in {MY_NUMBER[:4]}-{MY_NUMBER[4:8]}-{MY_NUMBER[8:]}"
    path.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    with world.settings.audit_path().open("a", encoding="utf-8") as log:
        log.write(
            json.dumps(
                {
                    "event": "planted",
                    "file_id": file_id,
                    "note": f"番号 {MY_NUMBER}",
                    "name": f"MN{WIDE_NUMBER}.dat",
                    "timestamp": "2026-11-26T00:00:00Z",
                },
                ensure_ascii=False,
            )
            + "\n"
        )
    return file_id


def test_no_individual_number_reaches_any_page(world):
    """A valid 個人番号 planted in a report and the audit log is masked on every page and in the CSV, for every role."""
    file_id = _plant(world)
    assert MY_NUMBER in Path(world.row(file_id).report_json).read_text(encoding="utf-8")
    for name in ("olivia", "sam"):
        http = logged_in(world, name)
        for path in (
            "/",
            "/?date=all",
            "/quarantine",
            "/endpoints",
            "/audit",
            f"/audit?file_id={file_id}",
            f"/files/{file_id}",
            f"/files/{file_id}/report.csv",
            "/static/console.css",
        ):
            body = http.get(path).content.decode("utf-8")
            assert MY_NUMBER not in body and WIDE_NUMBER not in body and not find_my_numbers(body), path
        assert "[個人番号]" in http.get(f"/files/{file_id}").text
        assert "[個人番号]" in http.get(f"/audit?file_id={file_id}").text
        assert "[個人番号]" in http.get(f"/files/{file_id}/report.csv").content.decode("utf-8-sig")
    assert not find_my_numbers(client(world.app()).get("/login").text)


def test_the_response_filter_masks_any_text_body():
    """The final filter masks valid numbers in any textual response and leaves other digits and binary bodies alone."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    invalid = "123456789012" if MY_NUMBER != "123456789012" else "123456789013"
    digest = ("a" + MY_NUMBER + "b").ljust(64, "0")  # a SHA-256 digest is never an individual number
    text = f"番号 {MY_NUMBER}, 無効 {invalid}, ハッシュ {digest}"

    app = Starlette(
        routes=[
            Route("/text", lambda request: PlainTextResponse(text)),
            Route("/json", lambda request: Response(json.dumps({"n": MY_NUMBER}), media_type="application/json")),
            Route("/binary", lambda request: Response(MY_NUMBER.encode(), media_type="application/octet-stream")),
        ],
        middleware=[Middleware(ResponseFilter)],
    )
    http = TestClient(app)
    body = http.get("/text")
    assert body.text == f"番号 [個人番号], 無効 {invalid}, ハッシュ {digest}"
    assert int(body.headers["content-length"]) == len(body.content)
    assert (
        body.headers["x-frame-options"] == "DENY"
        and "frame-ancestors 'none'" in body.headers["content-security-policy"]
    )
    assert MY_NUMBER not in http.get("/json").text
    assert http.get("/binary").content == MY_NUMBER.encode()
    assert mask_body(f"<td>{MY_NUMBER}</td>".encode()) == "<td>[個人番号]</td>".encode()


def test_the_response_filter_masks_numbers_in_any_form():
    """Full-width, mixed, split by (ideographic) spaces or hyphens, touching letters or kana, inside a file
    name: masked on a page and in a CSV by mask_body and the ResponseFilter; longer runs are kept."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Route

    from tests.support.masking import brute_force

    wide = MY_NUMBER.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    forms = [
        wide,
        wide[:6] + MY_NUMBER[6:],
        f"{MY_NUMBER[:4]} {MY_NUMBER[4:8]} {MY_NUMBER[8:]}",
        f"{wide[:4]}　{wide[4:8]}　{wide[8:]}",
        f"{MY_NUMBER[:4]}-{MY_NUMBER[4:8]}-{MY_NUMBER[8:]}",
        f"{wide[:4]}－{wide[4:8]}－{wide[8:]}",
        f"{wide[:4]}ー{wide[4:8]}ー{wide[8:]}",
    ]
    customer = "0000000" + MY_NUMBER + "0"  # a 20-digit customer number: not an individual number
    page = (
        "<table>"
        + "".join(f"<tr><td>委託者名 ｱ{form}ﾃﾞｽ</td></tr>" for form in forms)
        + f"<tr><td>MN{MY_NUMBER}.dat</td><td>X{MY_NUMBER}</td><td>{customer}</td></tr></table>"
    )
    csv_text = "\ufeffファイル名,実際の値\r\n" + "".join(f"MN{form}.dat,X{form}\r\n" for form in forms)

    masked = mask_body(page.encode()).decode()
    assert masked.count("[個人番号]") == len(forms) + 2
    assert customer in masked
    assert not find_my_numbers(masked) and not brute_force(masked)
    assert all(form not in masked for form in forms)

    app = Starlette(
        routes=[
            Route("/page", lambda request: HTMLResponse(page)),
            Route("/report.csv", lambda request: Response(csv_text, media_type="text/csv; charset=utf-8")),
        ],
        middleware=[Middleware(ResponseFilter)],
    )
    http = TestClient(app)
    for path in ("/page", "/report.csv"):
        body = http.get(path).content.decode("utf-8-sig")
        assert "[個人番号]" in body and not find_my_numbers(body) and not brute_force(body), path
        assert all(form not in body for form in forms), path


# -- users on the command line ------------------------------------------------------------------------


def gateway(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(cli_app, [str(arg) for arg in args], input=input)


def test_users_command_line(tmp_path, monkeypatch):
    """add (stdin), list, passwd, disable: argon2 hashes in console_users, passwords never printed."""
    spool = tmp_path / "spool"
    added = gateway(
        "users", "add", "alice", "--role", "supervisor", "--password-stdin", "--spool", spool, input="alice-secret-1\n"
    )
    assert added.exit_code == 0, added.output
    assert (
        gateway(
            "users", "add", "bob", "--role", "operator", "--password-stdin", "--spool", spool, input="bob-secret-22\n"
        ).exit_code
        == 0
    )
    with sqlite3.connect(spool / "ledger.sqlite3") as db:
        hashes = dict(db.execute("SELECT name, password_hash FROM console_users"))
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"files", "deliveries", "postings", "console_users"} <= tables
    assert hashes["alice"].startswith("$argon2id$") and "alice-secret-1" not in hashes["alice"]
    listed = gateway("users", "list", "--spool", spool)
    assert listed.exit_code == 0 and "alice" in listed.output and "supervisor" in listed.output
    assert "bob" in listed.output and "operator" in listed.output
    assert "argon2" not in listed.output and "secret" not in listed.output
    taken = gateway(
        "users", "add", "alice", "--role", "operator", "--password-stdin", "--spool", spool, input="x" * 12 + "\n"
    )
    assert taken.exit_code == 2 and "already exists" in taken.output
    assert (
        gateway(
            "users", "add", "carol", "--role", "admin", "--password-stdin", "--spool", spool, input="carol-secret-1\n"
        ).exit_code
        == 2
    )
    short = gateway(
        "users", "add", "carol", "--role", "operator", "--password-stdin", "--spool", spool, input="short\n"
    )
    assert short.exit_code == 2 and "short" not in short.output.replace("too short", "")
    changed = gateway("users", "passwd", "alice", "--password-stdin", "--spool", spool, input="alice-secret-2\n")
    assert changed.exit_code == 0 and "alice-secret-2" not in changed.output
    with sqlite3.connect(spool / "ledger.sqlite3") as db:
        new_hash = db.execute("SELECT password_hash FROM console_users WHERE name = 'alice'").fetchone()[0]
    assert new_hash != hashes["alice"] and new_hash.startswith("$argon2id$")
    assert (
        gateway("users", "passwd", "nobody", "--password-stdin", "--spool", spool, input="whatever-123\n").exit_code
        == 2
    )
    assert gateway("users", "disable", "bob", "--spool", spool).exit_code == 0
    assert "disabled" in gateway("users", "list", "--spool", spool).output
    assert gateway("users", "disable", "nobody", "--spool", spool).exit_code == 2

    prompts = iter(["typed-secret-1", "typed-secret-1", "typed-secret-1", "typo-secret-1"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(prompts))
    assert gateway("users", "add", "dave", "--role", "operator", "--spool", spool).exit_code == 0
    mismatch = gateway("users", "add", "erin", "--role", "operator", "--spool", spool)
    assert mismatch.exit_code == 2 and "differ" in mismatch.output
    settings = load_settings(spool_root=spool)
    with Ledger(settings.ledger_path()) as ledger:
        store = UserStore(ledger)
        assert store.authenticate("alice", "alice-secret-2", attempts=5, lock_minutes=15).outcome == "ok"
        assert store.authenticate("dave", "typed-secret-1", attempts=5, lock_minutes=15).outcome == "ok"
        assert store.get("erin") is None
        assert store.authenticate("bob", "bob-secret-22", attempts=5, lock_minutes=15).outcome == "disabled"
    audit.configure(None)


def test_passwd_unlocks_a_locked_account(world):
    """`gateway users passwd` clears a lockout."""
    http = client(world.app())
    for _ in range(5):
        login(http, "olivia", "wrong-password")
    assert "ロック" in login(http, "olivia").text
    result = gateway(
        "users", "passwd", "olivia", "--password-stdin", "--spool", world.settings.spool.root, input="operator-pass-2\n"
    )
    assert result.exit_code == 0
    audit.configure(world.settings.audit_path(), console=False)
    assert login(client(world.app()), "olivia", "operator-pass-2").status_code == 303


# -- configuration and the command -----------------------------------------------------------------------


def test_console_settings_defaults_and_table(tmp_path):
    """[console] defaults to 127.0.0.1:8300, Secure cookies, 5 failures → 15 minutes; a wrong key is refused."""
    assert ConsoleConfig() == ConsoleConfig(
        host="127.0.0.1", port=8300, secure_cookies=True, session_minutes=30, lockout_attempts=5, lockout_minutes=15
    )
    from gateway.config.settings import default_text

    path = tmp_path / "gateway.toml"
    path.write_text(default_text() + "\n[console]\nport = 8443\nlockout_attempts = 3\n", encoding="utf-8")
    settings = load_settings(path)
    assert (settings.console.port, settings.console.lockout_attempts, settings.console.host) == (8443, 3, "127.0.0.1")
    path.write_text(default_text() + '\n[console]\npassword = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="console.password"):
        load_settings(path)


def test_console_command_serves_on_the_configured_address(tmp_path, monkeypatch):
    """`gateway console` prints the URL and runs uvicorn on 127.0.0.1:8300 unless told otherwise."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: calls.append(kwargs))
    result = gateway("console", "--spool", tmp_path / "spool")
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8300/" in result.output
    assert (calls[0]["host"], calls[0]["port"]) == ("127.0.0.1", 8300)
    result = gateway("console", "--spool", tmp_path / "spool", "--host", "0.0.0.0", "--port", "9000")
    assert "http://0.0.0.0:9000/" in result.output and "warning" in result.output
    assert (calls[1]["host"], calls[1]["port"]) == ("0.0.0.0", 9000)
    assert oct(os.stat(tmp_path / "spool" / "console-secret").st_mode & 0o777) == "0o600"
    audit.configure(None)


def test_logins_sent_in_parallel_get_no_more_guesses_than_the_limit(tmp_path):
    """The attempt is counted before the slow password check: 12 wrong passwords at once are at most 5
    guesses (the rest are refused as locked without a check), and the right one afterwards is locked out."""
    import threading

    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        UserStore(ledger).add("sam", "supervisor", "right-password-1")
    outcomes: list[str] = []
    start = threading.Barrier(12)

    def attempt(index: int) -> None:
        with Ledger(tmp_path / "ledger.sqlite3") as own:
            start.wait()
            outcomes.append(
                str(UserStore(own).authenticate("sam", f"guess-{index}", attempts=5, lock_minutes=15).outcome)
            )

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == 12
    assert sum(outcome != "locked" for outcome in outcomes) == 5
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert (
            str(UserStore(ledger).authenticate("sam", "right-password-1", attempts=5, lock_minutes=15).outcome)
            == "locked"
        )


def test_the_counts_per_channel_and_state_cover_every_file_not_only_those_listed(tmp_path):
    """The list stops at its limit; the summary above it counts every file the filters select."""
    from gateway.entrypoints.console.views import files_on, summary

    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        for index in range(5):
            ledger.begin_claim(
                Ledger.new_file_id(),
                "zengin-91" if index < 3 else "cvs",
                f"f{index}.dat",
                tmp_path / f"in{index}",
                tmp_path / f"w{index}",
                10,
            )
        assert len(files_on(ledger, None, limit=2)) == 2
        states, per_channel = summary(ledger, None)
        assert states == ["claiming"]
        assert per_channel == [("cvs", {"claiming": 2}, 2), ("zengin-91", {"claiming": 3}, 3)]
        assert summary(ledger, None, channel="cvs")[1] == [("cvs", {"claiming": 2}, 2)]
