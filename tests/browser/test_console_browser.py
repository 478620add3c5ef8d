"""The operators' web console in a real browser (Chromium through Playwright).

One `gateway console` process serves the module (tests/browser/conftest.py: a spool
filled by the real pipeline with invented 全銀 91 results, users alice (operator), bob
(supervisor) and carol (operator, locked out at the end)). What each page must show
is checked against what the test files were built to contain, never against the
console's own output. The tests run in file order: the ones that only read come
first, then the release, then the lockout.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import struct
from pathlib import Path

import pytest

from tests.browser.conftest import (
    ACCEPTED_RECORDS,
    ENDPOINT,
    REJECTIONS,
    REJECTIONS_FAILED,
    REJECTIONS_RECORDS,
    REJECTIONS_TOTAL,
    REJECTIONS_TRANSFERRED,
    ROLE_WORDS,
    SCREENSHOT,
    USERS,
    VIEWPORT,
    Console,
    log_in,
    new_context,
)

try:
    from playwright.sync_api import APIResponse, Browser, Page, expect
except ImportError:  # pragma: no cover - the fixtures skip (or fail under CI=true)
    pass

NAV = {"ファイル一覧": "/", "隔離・重複": "/quarantine", "接続先": "/endpoints", "監査ログ": "/audit"}


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def file_id(console: Console, key: str) -> str:
    return console.spool.ids[key]


def cells(page: Page, row_selector: str) -> list[str]:
    return [text.strip() for text in page.locator(row_selector).locator("td, th").all_inner_texts()]


def states_in(page: Page, table: str) -> dict[str, str]:
    """data-file-id → data-state of the rows of a table."""
    rows = page.locator(f"table#{table} tr[data-file-id]")
    return {row.get_attribute("data-file-id"): row.get_attribute("data-state") for row in rows.all()}


def csrf_token(page: Page) -> str:
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    assert token, "no csrf_token on the page"
    return token


def post_form(page: Page, console: Console, path: str, form: dict[str, str] | None) -> APIResponse:
    """A POST outside the page (a forged request) with the page's cookies; redirects not followed."""
    return page.context.request.post(
        console.url(path),
        form=form,
        max_redirects=0,
        fail_on_status_code=False,
        headers={"Origin": console.base_url, "Referer": console.url(path)},
    )


def assert_header(page: Page, name: str) -> None:
    """The header of a logged-in page: the user, the role, the logout form, the four nav links."""
    header = page.locator("header").first
    expect(header).to_contain_text(name)
    role = USERS[name][0]
    text = header.inner_text()
    assert any(word in text for word in ROLE_WORDS[role]), f"role {role} not shown in the header: {text!r}"
    for other, words in ROLE_WORDS.items():
        if other != role:
            assert not any(word in text for word in words), f"{name} shown as {other}: {text!r}"
    logout = page.locator("form#logout-form")
    expect(logout).to_have_attribute("method", re.compile("post", re.I))
    expect(logout).to_have_attribute("action", "/logout")
    expect(logout.locator('input[type="hidden"][name="csrf_token"]')).to_have_count(1)
    expect(logout.get_by_role("button", name="ログアウト")).to_be_visible()
    for text, href in NAV.items():
        link = page.locator(f'a[href="{href}"]', has_text=text)
        assert link.count() >= 1, f"no nav link {text} → {href}"


def released_row(console: Console, key: str) -> sqlite3.Row:
    """The ledger row that holds the outcome of releasing (or forcing) a file.

    The console may put the file through under a new id (``reprocess_of`` the old one, as
    `gateway reprocess` does) or carry the same row on."""
    original = console.spool.row(file_id(console, key))
    derived = console.spool.reprocessed_from(original["id"])
    return derived[-1] if derived else original


def assert_untouched(console: Console, key: str, state: str, folder: str) -> None:
    """The file is still in ``state``, nothing was made from it, its bytes still in ``folder``."""
    identifier = file_id(console, key)
    assert console.spool.row(identifier)["state"] == state
    assert console.spool.reprocessed_from(identifier) == [], f"{key} was put through again"
    assert console.spool.holding(folder, console.spool.contents[key]), f"{key} left {folder}/"


# ---------------------------------------------------------------------------------------------
# logging in
# ---------------------------------------------------------------------------------------------


def test_login_page_failed_login_then_login_and_logout(fresh_page: Page, console: Console) -> None:
    """Anonymous pages lead to the login form; a wrong password shows an error; alice logs in and out."""
    page = fresh_page
    page.goto("/")
    assert page.url.startswith(console.url("/login")), f"an anonymous / did not lead to /login: {page.url}"

    form = page.locator("form#login-form")
    expect(form).to_have_attribute("method", re.compile("post", re.I))
    expect(form).to_have_attribute("action", "/login")
    expect(form.locator('input[name="username"]')).to_have_count(1)
    expect(form.locator('input[name="password"]')).to_have_attribute("type", "password")
    expect(form.locator('input[type="hidden"][name="csrf_token"]')).to_have_count(1)

    log_in(page, "alice", "not-alices-password")
    expect(page.locator(".error").first).to_be_visible()
    assert page.url.startswith(console.url("/login")), f"a wrong password let alice in: {page.url}"
    assert "not-alices-password" not in page.content()

    log_in(page, "nobody-here", "whatever-password")
    expect(page.locator(".error").first).to_be_visible()

    log_in(page, "alice")
    assert page.url == console.url("/"), f"alice's login did not lead to /: {page.url}"
    expect(page.get_by_role("heading", name="ファイル一覧")).to_be_visible()
    assert_header(page, "alice")

    page.locator("form#logout-form").get_by_role("button", name="ログアウト").click()
    page.wait_for_load_state()
    page.goto("/")
    assert page.url.startswith(console.url("/login")), f"still logged in after ログアウト: {page.url}"


# ---------------------------------------------------------------------------------------------
# reading: files, a file with rejected records, its CSV, the report screenshot
# ---------------------------------------------------------------------------------------------


def test_files_list_shows_every_file_and_its_state(operator_page: Page, console: Console) -> None:
    """ファイル一覧 lists each ingested file with the state the pipeline left it in, and filters."""
    page = operator_page
    page.goto("/?date=all")
    expect(page.get_by_role("heading", name="ファイル一覧")).to_be_visible()
    assert_header(page, "alice")
    listed = states_in(page, "files")
    expected = {
        file_id(console, key): state
        for key, state in [
            ("clean", "archived"),
            ("duplicate", "duplicate"),
            ("rejections", "archived"),
            ("release", "quarantined"),
            ("kept", "quarantined"),
        ]
    }
    assert {k: listed.get(k) for k in expected} == expected
    for identifier in expected:
        expect(
            page.locator(f'table#files tr[data-file-id="{identifier}"] a[href="/files/{identifier}"]')
        ).to_have_count(1)

    # the default is today's files (JST): the ones just ingested
    page.goto("/")
    assert set(expected) <= set(states_in(page, "files"))

    page.goto("/?date=all&state=quarantined")
    only = states_in(page, "files")
    assert file_id(console, "kept") in only
    assert set(only.values()) == {"quarantined"}, only
    assert file_id(console, "rejections") not in only

    page.goto("/?date=all&channel=zengin-21")
    assert not set(expected) & set(states_in(page, "files")), "a channel filter kept other channels' files"


def test_file_with_rejections_shows_the_rejected_records(operator_page: Page, console: Console) -> None:
    """The file page lists exactly the three spoilt records, field by field, the account number masked."""
    page = operator_page
    identifier = file_id(console, "rejections")
    page.goto("/?date=all")
    page.locator(f'table#files tr[data-file-id="{identifier}"] a[href="/files/{identifier}"]').first.click()
    page.wait_for_load_state()
    assert page.url == console.url(f"/files/{identifier}")
    expect(page.locator("h1, h2").filter(has_text=identifier).first).to_be_visible()

    rows = page.locator("table#rejections tr.rejection")
    records = [row.get_attribute("data-record") for row in rows.all()]
    assert sorted(int(r) for r in records) == sorted(REJECTIONS), records
    for accepted in ACCEPTED_RECORDS:
        expect(page.locator(f'table#rejections tr.rejection[data-record="{accepted}"]')).to_have_count(0)

    for record, spoiled in REJECTIONS.items():
        row = cells(page, f'table#rejections tr.rejection[data-record="{record}"]')
        assert len(row) >= 6, row
        number, item, value, expected_value, reason, message = row[:6]
        assert number == str(record), row
        assert spoiled.field_ja in item, row
        assert reason and message, row
        if spoiled.value is not None:
            assert value == spoiled.value, row
        else:  # a personal value: shown masked, never as sent
            assert value and spoiled.raw.decode() not in value, row
            assert spoiled.raw.decode()[:4] not in value, row
    # 預金種目 must be one of 1 2 3 9; 新規コード one of 0 1 2
    assert re.search(r"1.*2.*3.*9", cells(page, 'table#rejections tr.rejection[data-record="3"]')[3])
    assert re.search(r"0.*1.*2", cells(page, 'table#rejections tr.rejection[data-record="6"]')[3])
    assert REJECTIONS[5].raw.decode() not in page.content(), "an account number shown unmasked"

    totals = page.locator("table#totals")
    expect(totals).to_be_visible()
    numbers = {int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", totals.inner_text())}
    for amount in (len(REJECTIONS_RECORDS), REJECTIONS_TOTAL, REJECTIONS_TRANSFERRED, REJECTIONS_FAILED):
        assert amount in numbers, f"{amount} is not among the trailer totals: {totals.inner_text()!r}"

    expect(page.locator("a#csv-download")).to_have_attribute("href", f"/files/{identifier}/report.csv")
    for action in ("release-link", "force-link", "resubmit-link"):
        expect(page.locator(f"#{action}")).to_have_count(0)


def test_csv_download_holds_the_rejected_records(operator_page: Page, console: Console) -> None:
    """CSVダウンロード gives a UTF-8 CSV with a BOM whose rows are the three rejected records."""
    page = operator_page
    identifier = file_id(console, "rejections")
    page.goto(f"/files/{identifier}")
    with page.expect_download() as info:
        page.locator("a#csv-download", has_text="CSVダウンロード").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv"), download.suggested_filename
    raw = open(download.path(), "rb").read()
    text = raw.decode("utf-8-sig")  # Excel needs the BOM; decoding fails on anything but UTF-8
    assert raw.startswith(b"\xef\xbb\xbf"), "the CSV has no BOM (Excel would garble the Japanese)"
    table = list(csv.reader(io.StringIO(text)))
    header, body = table[0], [row for row in table[1:] if row]
    number_column = next(i for i, name in enumerate(header) if "レコード番号" in name)
    by_record: dict[int, list[list[str]]] = {}
    for row in body:
        if row[number_column].strip().isdigit():
            by_record.setdefault(int(row[number_column]), []).append(row)
    assert sorted(by_record) == sorted(REJECTIONS), body
    for record, spoiled in REJECTIONS.items():
        joined = " ".join(" ".join(row) for row in by_record[record])
        assert spoiled.field_ja in joined or spoiled.field in joined, by_record[record]
        if spoiled.value is not None:
            assert any(spoiled.value in row for row in by_record[record]), by_record[record]
    assert REJECTIONS[5].raw.decode() not in text, "an account number unmasked in the CSV"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def test_report_page_screenshot(operator_page: Page, console: Console) -> None:
    """docs/images/console-report.png: the report page of the file with rejected records (docs/console.md)."""
    page = operator_page
    page.set_viewport_size(VIEWPORT)
    page.goto(f"/files/{file_id(console, 'rejections')}")
    expect(page.locator("table#rejections tr.rejection")).to_have_count(len(REJECTIONS))
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    width, height = _png_size(SCREENSHOT)
    assert width == VIEWPORT["width"] and height >= 300, (width, height)


def test_endpoints_and_audit_pages(operator_page: Page, console: Console) -> None:
    """接続先 lists the configured endpoint; 監査ログ filtered by file id shows that file's events only."""
    page = operator_page
    page.goto("/endpoints")
    expect(page.locator("table#endpoints")).to_have_count(1)
    expect(page.locator("table#endpoints")).to_contain_text(ENDPOINT)
    assert_header(page, "alice")

    identifier = file_id(console, "rejections")
    page.goto(f"/audit?file_id={identifier}")
    audit = page.locator("table#audit")
    expect(audit).to_have_count(1)
    assert audit.locator("tbody tr").count() >= 3, "received, parsed, archived … expected for the file"
    assert identifier in audit.inner_text()
    other = file_id(console, "clean")
    assert other not in audit.inner_text(), "the audit filter by file_id shows other files"
    assert REJECTIONS[5].raw.decode() not in page.content()


# ---------------------------------------------------------------------------------------------
# quarantine and duplicates: who sees the actions
# ---------------------------------------------------------------------------------------------


def test_quarantine_page_lists_quarantined_and_duplicate(operator_page: Page, console: Console) -> None:
    """隔離・重複 lists the quarantined files and the duplicate; an operator is offered no action anywhere."""
    page = operator_page
    page.goto("/quarantine")
    listed = states_in(page, "quarantine")
    for key, state in [("release", "quarantined"), ("kept", "quarantined"), ("duplicate", "duplicate")]:
        assert listed.get(file_id(console, key)) == state, (key, listed)
    assert file_id(console, "rejections") not in listed and file_id(console, "clean") not in listed
    # an operator is shown no action
    expect(page.locator("table#quarantine .release-link, table#quarantine .force-link")).to_have_count(0)
    for key in ("release", "kept", "duplicate"):
        page.goto(f"/files/{file_id(console, key)}")
        for action in ("release-link", "force-link", "resubmit-link"):
            expect(page.locator(f"#{action}")).to_have_count(0)


def test_supervisor_sees_release_force_and_resubmit(supervisor_page: Page, console: Console) -> None:
    """A supervisor is offered release and resubmit for a quarantined file, force for a duplicate."""
    page = supervisor_page
    page.goto("/quarantine")
    assert_header(page, "bob")
    for key, kind in [("release", "release"), ("kept", "release"), ("duplicate", "force")]:
        identifier = file_id(console, key)
        link = page.locator(f'table#quarantine tr[data-file-id="{identifier}"] a.{kind}-link')
        expect(link).to_have_count(1)
        expect(link).to_have_attribute("href", f"/files/{identifier}/{kind}")
    identifier = file_id(console, "kept")
    page.goto(f"/files/{identifier}")
    expect(page.locator("#release-link")).to_have_attribute("href", f"/files/{identifier}/release")
    expect(page.locator("#resubmit-link")).to_have_count(1)
    expect(page.locator("#force-link")).to_have_count(0)
    duplicate = file_id(console, "duplicate")
    page.goto(f"/files/{duplicate}")
    expect(page.locator("#force-link")).to_have_attribute("href", f"/files/{duplicate}/force")
    expect(page.locator("#release-link")).to_have_count(0)


# ---------------------------------------------------------------------------------------------
# acting: refused without the role or a valid token, done by a supervisor
# ---------------------------------------------------------------------------------------------


def test_operator_cannot_release_even_with_a_forged_post(browser: Browser, console: Console) -> None:
    """alice (operator) in a session of her own: the confirm page and a forged POST with her own
    valid csrf token are refused with 403; the same cookies and token do work for a POST she may
    make (ログアウト), so the 403 is the role check, not a broken session."""
    context = new_context(browser, console)
    try:
        page = context.new_page()
        log_in(page, "alice")
        assert page.url == console.url("/")
        for key, action in [("kept", "release"), ("duplicate", "force"), ("kept", "resubmit")]:
            identifier = file_id(console, key)
            response = page.goto(f"/files/{identifier}/{action}")
            assert response is not None and response.status == 403, (action, response and response.status)
            expect(page.locator("form#confirm-form")).to_have_count(0)

        page.goto(f"/files/{file_id(console, 'kept')}")
        token = csrf_token(page)
        for key, action in [("kept", "release"), ("duplicate", "force"), ("kept", "resubmit")]:
            response = post_form(page, console, f"/files/{file_id(console, key)}/{action}", {"csrf_token": token})
            assert response.status == 403, (action, response.status, response.text()[:500])
        assert_untouched(console, "kept", "quarantined", "quarantine")
        assert_untouched(console, "duplicate", "duplicate", "duplicate")

        # the same cookies and token are good: logging out with them works
        still_in = context.request.get(console.url(f"/files/{file_id(console, 'kept')}"), max_redirects=0)
        assert still_in.status == 200, still_in.status
        out = post_form(page, console, "/logout", {"csrf_token": token})
        assert out.status in (302, 303), (out.status, out.text()[:300])
        after = context.request.get(console.url("/"), max_redirects=0)
        assert after.status in (302, 303, 401) and "/login" in after.headers.get("location", "/login"), after.status
    finally:
        context.close()


def test_supervisor_post_without_a_valid_csrf_token_is_refused(supervisor_page: Page, console: Console) -> None:
    """Even a supervisor's release is refused (403) with a forged, empty or missing csrf token."""
    page = supervisor_page
    identifier = file_id(console, "release")
    page.goto(f"/files/{identifier}/release")
    token = csrf_token(page)
    forged = "0" * len(token) if not set(token) <= {"0"} else "1" * len(token)
    for form in ({"csrf_token": forged}, {"csrf_token": ""}, {}):
        response = post_form(page, console, f"/files/{identifier}/release", form or None)
        assert response.status == 403, (form, response.status)
    assert_untouched(console, "release", "quarantined", "quarantine")


def test_supervisor_releases_a_quarantined_file(supervisor_page: Page, console: Console) -> None:
    """bob releases the file whose header strict rules refused (the channel is now permissive):
    it goes through the pipeline, is archived, and its outputs reach outbox/."""
    page = supervisor_page
    spool = console.spool
    identifier = file_id(console, "release")
    content = spool.contents["release"]
    assert spool.holding("quarantine", content) and not spool.holding("archive", content)

    page.goto(f"/files/{identifier}")
    page.locator("#release-link").click()
    page.wait_for_load_state()
    assert page.url == console.url(f"/files/{identifier}/release")
    form = page.locator("form#confirm-form")
    expect(form).to_have_attribute("method", re.compile("post", re.I))
    expect(form.locator('input[type="hidden"][name="csrf_token"]')).to_have_count(1)
    with page.expect_navigation():
        form.get_by_role("button", name="実行する").click()
    row = released_row(console, "release")
    # the original's page, or the page of the file the release made (it links back to the original)
    assert page.url in (console.url(f"/files/{identifier}"), console.url(f"/files/{row['id']}")), page.url
    expect(page.locator(".flash").first).to_be_visible()

    assert row["state"] == "archived", dict(row)
    assert row["status"] == "ok" and row["records"] == 3 and row["accepted"] == 3, dict(row)
    assert spool.holding("archive", content), "the released file is not in archive/"
    assert not spool.holding("quarantine", content), "the released file is still in quarantine/"
    deliveries = {d["destination"]: d for d in spool.deliveries(row["id"])}
    assert set(deliveries) == {"collection", "followup"}, deliveries
    assert deliveries["collection"]["records"] == 3 and deliveries["followup"]["records"] == 1
    for delivery in deliveries.values():
        assert delivery["state"] == "committed", dict(delivery)
        assert Path(delivery["path"]).is_file(), delivery["path"]
        assert Path(delivery["path"]).is_relative_to(spool.root / "outbox")

    # the files page shows what became of it
    page.goto("/?date=all")
    assert states_in(page, "files").get(row["id"]) == "archived"
    # released once only: no second release offered, a second POST refused, nothing made twice
    page.goto(f"/files/{identifier}")
    expect(page.locator("#release-link")).to_have_count(0)
    again = post_form(page, console, f"/files/{identifier}/release", {"csrf_token": csrf_token(page)})
    assert 400 <= again.status < 500, again.status
    assert len(spool.reprocessed_from(identifier)) <= 1 and len(spool.holding("archive", content)) == 1
    # the other quarantined file was not touched by bob's release
    assert_untouched(console, "kept", "quarantined", "quarantine")


# ---------------------------------------------------------------------------------------------
# lockout (last: it leaves carol locked)
# ---------------------------------------------------------------------------------------------


def test_wrong_passwords_lock_the_account(browser: Browser, console: Console) -> None:
    """Five wrong passwords lock carol: the sixth attempt, with her right password, shows ロック."""
    # carol's password is right: she can log in (so the lock below is the lockout, not a bad password)
    context = new_context(browser, console)
    try:
        page = context.new_page()
        log_in(page, "carol")
        assert page.url == console.url("/"), page.url
    finally:
        context.close()

    context = new_context(browser, console)
    try:
        page = context.new_page()
        for attempt in range(1, 6):
            log_in(page, "carol", f"wrong-password-{attempt}")
            assert page.url.startswith(console.url("/login")), (attempt, page.url)
            expect(page.locator(".error, :text('ロック')").first).to_be_visible()
        log_in(page, "carol")  # the 6th attempt, with the right password
        assert page.url.startswith(console.url("/login")), f"a locked account logged in: {page.url}"
        expect(page.get_by_text(re.compile("ロック")).first).to_be_visible()
        page.goto("/")
        assert page.url.startswith(console.url("/login")), "a locked account got a session"
    finally:
        context.close()
    # the others are not locked by carol's failures
    context = new_context(browser, console)
    try:
        page = context.new_page()
        log_in(page, "alice")
        assert page.url == console.url("/"), page.url
    finally:
        context.close()


@pytest.fixture(autouse=True)
def _console_still_running(console: Console):
    """After each test: the console process is still running."""
    yield
    assert console.process.poll() is None, f"gateway console died:\n{console.output()[-3000:]}"
