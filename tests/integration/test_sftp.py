"""The SFTP transport against a real OpenSSH server on 127.0.0.1 (tests/support/sshd.py)."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paramiko
import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs
from typer.testing import CliRunner

from adapters.sftp import (
    ConnectError,
    EndpointConfig,
    HostKeyError,
    Puller,
    Pusher,
    TransferError,
    UnsafeNameError,
    connect,
    disconnect,
    pull,
    push,
    safe_remote_name,
    validate_endpoints,
)
from gateway.storage.transfers import TransferStore
from tests.support import sshd as sshd_module
from tests.support.sshd import SSHServer, generate_key, sshd  # noqa: F401 - the fixture

SOURCE = "bank-out"  # the bank's folder we pull from (in the server's home)
TARGET = "bank-in"  # the bank's folder we push to


@pytest.fixture(autouse=True)
def settle_threads() -> Iterator[None]:
    """paramiko's transport threads end a moment after their connection closes: wait for them
    (the autouse leak check in conftest.py runs after this fixture's teardown)."""
    before = threading.active_count()
    yield
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TransferStore]:
    with TransferStore(tmp_path / "spool" / "ledger.sqlite3") as opened:
        yield opened


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "spool" / "inbox" / "zengin-91"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    folder = tmp_path / "spool" / "outbox" / "bank"
    folder.mkdir(parents=True)
    return folder


def endpoint(server: SSHServer, **overrides: Any) -> EndpointConfig:
    (server.home / SOURCE).mkdir(exist_ok=True)
    (server.home / TARGET).mkdir(exist_ok=True)
    fields: dict[str, Any] = dict(
        remote_dir=str(server.home / SOURCE),
        channel="zengin-91",
        remote_out_dir=str(server.home / TARGET),
        destination="bank",
    )
    fields.update(overrides)
    return EndpointConfig(**server.endpoint_fields(**fields))


def remote_file(server: SSHServer, name: str, data: bytes, *, mtime: float | None = None) -> Path:
    path = server.home / SOURCE / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def inbox_names(inbox: Path) -> list[str]:
    return sorted(os.listdir(inbox))


# -- pulling ---------------------------------------------------------------------------------


def test_pull_moves_new_files_into_the_inbox(sshd: SSHServer, store: TransferStore, inbox: Path) -> None:
    """Matching remote files arrive complete under their own names; others stay; each pull is recorded."""
    remote_file(sshd, "KFURI0527.DAT", b"A" * 5000, mtime=1_700_000_000)
    remote_file(sshd, "KFURI0528.DAT", b"B" * 70_000, mtime=1_700_000_100)
    remote_file(sshd, "readme.txt", b"not for us")
    (sshd.home / SOURCE / "subdir.DAT").mkdir()
    config = endpoint(sshd, patterns=["KFURI*.DAT"])

    result = pull("bank", config, inbox=inbox, store=store)

    assert [p.local_path.name for p in result.pulled] == ["KFURI0527.DAT", "KFURI0528.DAT"]
    assert inbox_names(inbox) == ["KFURI0527.DAT", "KFURI0528.DAT"]
    assert (inbox / "KFURI0528.DAT").read_bytes() == b"B" * 70_000
    assert (inbox / "KFURI0527.DAT").stat().st_mtime == 1_700_000_000  # the bank's order is kept
    assert oct((inbox / "KFURI0527.DAT").stat().st_mode & 0o777) == "0o600"
    row = store.remote_file("bank", str(sshd.home / SOURCE / "KFURI0528.DAT"), 70_000, 1_700_000_100)
    assert row is not None and row.sha256 == sha(b"B" * 70_000) and row.state == "pulled"
    assert row.local_path == str(inbox / "KFURI0528.DAT") and row.channel == "zengin-91"
    run = store.last_run("bank")
    assert run is not None and run.ok and run.files == 2 and run.direction == "pull"
    assert (sshd.home / SOURCE / "KFURI0527.DAT").exists()  # after_pull = keep


def test_already_pulled_files_are_not_pulled_again(sshd: SSHServer, store: TransferStore, inbox: Path) -> None:
    """A second run skips what was pulled; a replaced remote file (new size) is pulled under a free name."""
    remote_file(sshd, "KFURI.DAT", b"first", mtime=1_700_000_000)
    config = endpoint(sshd)
    assert len(pull("bank", config, inbox=inbox, store=store).pulled) == 1

    again = pull("bank", config, inbox=inbox, store=store)
    assert again.pulled == [] and again.already_pulled == 1
    assert inbox_names(inbox) == ["KFURI.DAT"]

    remote_file(sshd, "KFURI.DAT", b"second day", mtime=1_700_086_400)
    replaced = pull("bank", config, inbox=inbox, store=store)
    assert [p.local_path.name for p in replaced.pulled] == ["KFURI.2.DAT"]  # never replaces a waiting file
    assert (inbox / "KFURI.DAT").read_bytes() == b"first"
    assert (inbox / "KFURI.2.DAT").read_bytes() == b"second day"


def test_after_pull_delete_and_move(sshd: SSHServer, store: TransferStore, inbox: Path) -> None:
    """The remote file is deleted or moved only after it is complete in the inbox and recorded."""
    remote_file(sshd, "A.DAT", b"a")
    pull("bank", endpoint(sshd, after_pull="delete"), inbox=inbox, store=store)
    assert not (sshd.home / SOURCE / "A.DAT").exists()
    assert [row.state for row in store.pulled("bank")] == ["deleted"]

    (sshd.home / SOURCE / "done").mkdir()
    remote_file(sshd, "B.DAT", b"b")
    pull("bank", endpoint(sshd, after_pull="move:done"), inbox=inbox, store=store)
    assert (sshd.home / SOURCE / "done" / "B.DAT").read_bytes() == b"b"
    assert sorted(row.state for row in store.pulled("bank")) == ["deleted", "moved"]
    assert inbox_names(inbox) == ["A.DAT", "B.DAT"]


def test_unsafe_remote_names_are_refused(sshd: SSHServer, store: TransferStore, inbox: Path) -> None:
    """Names starting with '.', holding '..' or control characters are logged and never pulled."""
    remote_file(sshd, "..evil", b"x")
    remote_file(sshd, "bad\nname.DAT", b"y")
    remote_file(sshd, "a..b.DAT", b"z")
    remote_file(sshd, "GOOD.DAT", b"ok")
    with capture_logs() as logs:
        result = pull("bank", endpoint(sshd), inbox=inbox, store=store)
    assert sorted(result.refused) == sorted(["..evil", "bad\nname.DAT", "a..b.DAT"])
    assert inbox_names(inbox) == ["GOOD.DAT"]
    refused = [event for event in logs if event["event"] == "sftp-name-refused"]
    assert {event["name"] for event in refused} == {repr("..evil"), repr("bad\nname.DAT"), repr("a..b.DAT")}


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "a/b",
        "..",
        ".",
        "",
        ".hidden",
        "x\x00y",
        "tab\tname",
        "rtl\u202eTAD.exe",
        "del\x7f",
        "x" * 256,
        "dir\\file",
    ],
)
def test_sanitiser_refuses_unsafe_names(name: str) -> None:
    """safe_remote_name() refuses separators, '..', hidden names, control characters and long names."""
    with pytest.raises(UnsafeNameError):
        safe_remote_name(name)


@pytest.mark.parametrize("name", ["KFURI0527.DAT", "口座振替結果.txt", "a.b-c_d", "x" * 255])
def test_sanitiser_keeps_ordinary_names(name: str) -> None:
    """Ordinary names, Japanese included, pass unchanged."""
    assert safe_remote_name(name) == name


def test_connection_cut_mid_download_leaves_nothing_partial(sshd: SSHServer, store: TransferStore, inbox: Path) -> None:
    """A session killed mid-transfer leaves no file (partial or temporary) in the inbox; the next run
    pulls the file completely."""
    data = os.urandom(1 << 20) * 12  # 12 MiB
    remote_file(sshd, "BIG.DAT", data)
    config = endpoint(sshd, prefetch_limit=8)
    killed: list[int] = []

    def cut(name: str, done: int, total: int) -> None:
        if done >= 1 << 20 and not killed:
            killed.extend(sshd.kill_sessions())

    with pytest.raises(TransferError, match=r"while pulling \S*BIG\.DAT from 127\.0\.0\.1"):  # which file, which server
        Puller("bank", config, inbox=inbox, store=store, progress=cut).run()
    assert killed, "the session was not killed"
    assert inbox_names(inbox) == []  # no partial file, no temporary
    run = store.last_run("bank")
    assert run is not None and run.ok is False and run.error

    result = pull("bank", config, inbox=inbox, store=store)
    assert [p.local_path.name for p in result.pulled] == ["BIG.DAT"]
    assert result.pulled[0].sha256 == sha(data)
    assert (inbox / "BIG.DAT").stat().st_size == len(data)
    assert inbox_names(inbox) == ["BIG.DAT"]


def test_a_server_that_stops_answering_times_out(sshd: SSHServer, store: TransferStore, inbox: Path) -> None:
    """A session frozen mid-transfer (SIGSTOP) fails the pull after op_timeout, leaving nothing behind."""
    remote_file(sshd, "BIG.DAT", os.urandom(1 << 20) * 8)
    frozen: list[int] = []

    def freeze(name: str, done: int, total: int) -> None:
        if done >= 1 << 20 and not frozen:
            for pid in sshd.session_pids():
                os.kill(pid, signal.SIGSTOP)
                frozen.append(pid)

    started = time.monotonic()
    try:
        with pytest.raises(TransferError, match="op_timeout"):
            Puller(
                "bank", endpoint(sshd, op_timeout=1.0, prefetch_limit=4), inbox=inbox, store=store, progress=freeze
            ).run()
    finally:
        sshd.kill_sessions()
    assert frozen and time.monotonic() - started < 8
    assert inbox_names(inbox) == []


def test_missing_remote_dir_is_reported(sshd: SSHServer, store: TransferStore, inbox: Path) -> None:
    """A remote_dir that does not exist fails the run with the path in the message."""
    with pytest.raises(TransferError, match="nowhere.*cannot be listed"):
        pull("bank", endpoint(sshd, remote_dir=str(sshd.home / "nowhere")), inbox=inbox, store=store)
    assert store.last_error("bank") is not None


def test_download_is_pipelined_and_verified(sshd: SSHServer, store: TransferStore, inbox: Path) -> None:
    """Odd sizes and request sizes give the exact bytes (SHA-256 computed while writing)."""
    data = os.urandom(3 * 32768 + 17)
    remote_file(sshd, "ODD.DAT", data)
    result = pull("bank", endpoint(sshd, prefetch_limit=2, read_size=5000), inbox=inbox, store=store)
    assert result.pulled[0].sha256 == sha(data)
    assert (inbox / "ODD.DAT").read_bytes() == data


def test_large_pipelined_pull_with_many_requests_in_flight(sshd: SSHServer, store: TransferStore, inbox: Path) -> None:
    """A few MB in small read requests, many in flight and answered out of step with the writes:
    the exact bytes arrive, with their SHA-256, and the inbox sees only the finished file."""
    data = os.urandom(4 * 1024 * 1024 + 4097)
    remote_file(sshd, "LARGE.DAT", data)
    seen: list[list[str]] = []

    def watch(name: str, done: int, total: int) -> None:
        if done == 2 * 1024 * 1024:  # half way: only the hidden temporary is in the inbox
            seen.append(sorted(os.listdir(inbox)))

    result = Puller(
        "bank", endpoint(sshd, prefetch_limit=128, read_size=4096), inbox=inbox, store=store, progress=watch
    ).run()
    assert result.pulled[0].sha256 == sha(data) and result.pulled[0].size == len(data)
    assert (inbox / "LARGE.DAT").read_bytes() == data
    assert len(seen) == 1 and len(seen[0]) == 1 and seen[0][0].startswith(".tmp-sftp-bank-")
    assert sorted(os.listdir(inbox)) == ["LARGE.DAT"]


def test_large_pipelined_push_is_exact_and_atomic_on_the_server(
    sshd: SSHServer, store: TransferStore, outbox: Path
) -> None:
    """A few MB pushed in small write requests, many in flight: while it is being written only a
    hidden .part is on the server, then the final name appears at once with the exact bytes."""
    data = os.urandom(4 * 1024 * 1024 + 4097)
    (outbox / "LARGE.OUT").write_bytes(data)
    seen: list[list[str]] = []

    def watch(name: str, done: int, total: int) -> None:
        if not seen and done >= total // 2:
            seen.append(remote_names(sshd))

    result = Pusher(
        "bank", endpoint(sshd, prefetch_limit=128, read_size=4096), outbox=outbox, store=store, progress=watch
    ).run()
    assert len(seen) == 1 and len(seen[0]) == 1
    assert seen[0][0].startswith(".LARGE.OUT.") and seen[0][0].endswith(".part")  # not yet under its name
    assert remote_names(sshd) == ["LARGE.OUT"]
    assert (sshd.home / TARGET / "LARGE.OUT").read_bytes() == data
    (pushed,) = result.pushed
    assert pushed.sha256 == sha(data) and pushed.remote_path == str(sshd.home / TARGET / "LARGE.OUT")
    record = store.pushed("bank", sha(data))
    assert record is not None and record.remote_path == pushed.remote_path


def test_multi_mb_pull_and_push_with_the_defaults_are_exact_and_happen_once(
    sshd: SSHServer, store: TransferStore, inbox: Path, outbox: Path
) -> None:
    """A file of several MB with the endpoint's defaults (large pipelined reads; writes of several
    packets each, sized by the server's limits@openssh.com): the same SHA-256 on both ends, and a
    second run of each pulls and pushes nothing again."""
    data = os.urandom(9 * 1024 * 1024 + 12345)
    remote_file(sshd, "BIG.DAT", data)
    config = endpoint(sshd)
    first = pull("bank", config, inbox=inbox, store=store)
    assert [(f.size, f.sha256) for f in first.pulled] == [(len(data), sha(data))]
    assert sha((inbox / "BIG.DAT").read_bytes()) == sha(data)
    again = pull("bank", config, inbox=inbox, store=store)
    assert again.pulled == [] and again.already_pulled == 1 and inbox_names(inbox) == ["BIG.DAT"]

    (outbox / "BIG.OUT").write_bytes(data)
    pushed = push("bank", config, outbox=outbox, store=store)
    assert [f.sha256 for f in pushed.pushed] == [sha(data)]
    assert remote_names(sshd) == ["BIG.OUT"] and sha((sshd.home / TARGET / "BIG.OUT").read_bytes()) == sha(data)
    (outbox / "BIG.OUT").write_bytes(data)  # the same content again: skipped, not sent twice
    repeated = push("bank", config, outbox=outbox, store=store)
    assert repeated.pushed == [] and [f.sha256 for f in repeated.skipped] == [sha(data)]
    assert remote_names(sshd) == ["BIG.OUT"]


def test_write_requests_are_whole_packets_within_the_servers_limit(sshd: SSHServer) -> None:
    """OpenSSH states its largest write; each request is then as many whole SSH packets as fit in
    the wanted size. A server that states nothing (or a small wanted size) gets one packet each."""
    from adapters.sftp import _WRITE_OVERHEAD, _server_write_limit, _write_size

    sftp = connect(endpoint(sshd))
    try:
        limit = _server_write_limit(sftp)
        assert limit is not None and limit >= 32768  # OpenSSH 8.6+: 261120
        channel = sftp.get_channel()
        assert channel is not None
        packet = channel.out_max_packet_size - 64
        handle = b"1234"
        one = packet - _WRITE_OVERHEAD - len(handle)
        assert _write_size(sftp, handle, 131072, None) == one
        assert _write_size(sftp, handle, 4096, limit) == 4096
        size = _write_size(sftp, handle, 131072, limit)
        assert size <= min(131072, limit) and (size + _WRITE_OVERHEAD + len(handle)) % packet == 0
        assert size > 3 * one
        assert _write_size(sftp, handle, 10**6, 50000) == one  # a limit under two packets: one each
    finally:
        disconnect(sftp)


def test_a_server_without_the_limits_extension_gets_one_packet_requests() -> None:
    """An error status (extension not supported) or another reply means: the server said nothing."""
    from adapters.sftp import _server_write_limit

    class Refusing:
        def _request(self, *args: Any) -> Any:
            raise OSError("Operation unsupported")

    class Other:
        def _request(self, *args: Any) -> Any:
            return 101, None  # CMD_STATUS, not an extended reply

    assert _server_write_limit(Refusing()) is None  # type: ignore[arg-type]
    assert _server_write_limit(Other()) is None  # type: ignore[arg-type]


# -- host keys and login -----------------------------------------------------------------------


def test_changed_host_key_is_refused(sshd: SSHServer, store: TransferStore, inbox: Path) -> None:
    """A server whose host key changed is refused before login, with the new key's fingerprint and an audit event."""
    remote_file(sshd, "A.DAT", b"a")
    sshd.regenerate_host_key()  # known_hosts still holds the old key
    new_key = paramiko.PKey.from_path(sshd.host_key).fingerprint
    with capture_logs() as logs, pytest.raises(HostKeyError) as refused:
        pull("bank", endpoint(sshd), inbox=inbox, store=store)
    error = refused.value
    assert error.reason == "changed" and error.fingerprint == new_key and error.port == sshd.port
    assert str(sshd.known_hosts) in str(error) and "127.0.0.1" in str(error) and new_key in str(error)
    assert any(e["event"] == "sftp-host-key-refused" and e["fingerprint"] == new_key for e in logs)
    assert inbox_names(inbox) == []
    assert store.last_run("bank").ok is False  # type: ignore[union-attr]


def test_unknown_host_is_refused(sshd: SSHServer) -> None:
    """An empty known_hosts refuses the server (no key is ever added)."""
    sshd.known_hosts.write_text("")
    with capture_logs() as logs, pytest.raises(HostKeyError) as refused:
        connect(endpoint(sshd), name="bank")
    assert refused.value.reason == "unknown"
    assert refused.value.fingerprint == paramiko.PKey.from_path(sshd.host_key).fingerprint
    assert sshd.known_hosts.read_text() == ""
    assert [e["reason"] for e in logs if e["event"] == "sftp-host-key-refused"] == ["unknown"]


def test_plain_host_entry_does_not_cover_another_port(sshd: SSHServer) -> None:
    """As in OpenSSH, '127.0.0.1 key' is for port 22 only: port N needs '[127.0.0.1]:N'."""
    sshd.write_known_hosts(lines=[sshd.known_hosts_line(bracketed=False)])
    with pytest.raises(HostKeyError):
        connect(endpoint(sshd))


@pytest.mark.parametrize("hashed", [False, True])
def test_bracketed_port_entries_are_honoured(sshd: SSHServer, hashed: bool) -> None:
    """'[127.0.0.1]:PORT' entries, plain or hashed (ssh-keygen -H), let the connection through."""
    sshd.write_known_hosts(hashed=hashed)
    assert sshd.known_hosts.read_text().startswith("|1|" if hashed else f"[127.0.0.1]:{sshd.port} ")
    sftp = connect(endpoint(sshd))
    try:
        assert SOURCE in sftp.listdir(str(sshd.home))
    finally:
        disconnect(sftp)


def test_wrong_client_key_is_refused(sshd: SSHServer, tmp_path: Path) -> None:
    """A key the server does not know fails the login with a message naming the key."""
    other = generate_key(tmp_path / "other_key")
    with pytest.raises(ConnectError) as refused:
        connect(endpoint(sshd, key_file=other))
    assert not isinstance(refused.value, HostKeyError)
    assert "refused the key" in str(refused.value) and str(other) in str(refused.value)


def test_rsa_key_with_passphrase_from_the_environment(
    sshd: SSHServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An RSA key whose passphrase comes from an environment variable logs in."""
    key = generate_key(tmp_path / "rsa_key", "rsa", passphrase="s3cret")
    sshd.authorized_keys.write_text(key.with_name("rsa_key.pub").read_text())
    monkeypatch.setenv("BANK_KEY_PASSPHRASE", "s3cret")
    sftp = connect(endpoint(sshd, key_file=key, passphrase_env="BANK_KEY_PASSPHRASE"))
    disconnect(sftp)
    monkeypatch.delenv("BANK_KEY_PASSPHRASE")
    with pytest.raises(ConnectError, match="BANK_KEY_PASSPHRASE"):
        connect(endpoint(sshd, key_file=key, passphrase_env="BANK_KEY_PASSPHRASE"))


def test_key_file_readable_by_others_is_refused(sshd: SSHServer) -> None:
    """A private key with group or world permissions is refused, as ssh does."""
    sshd.client_key.chmod(0o644)
    with pytest.raises(ConnectError, match="readable by others"):
        connect(endpoint(sshd))


# -- pushing -----------------------------------------------------------------------------------


class Spy:
    """Records calls to some paramiko.SFTPClient methods (and can make one fail)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        for name in names:
            original = getattr(paramiko.SFTPClient, name)

            def spy(client: Any, *args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
                self.calls.append((_name, args))
                return _original(client, *args, **kwargs)

            monkeypatch.setattr(paramiko.SFTPClient, name, spy)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def remote_names(server: SSHServer) -> list[str]:
    return sorted(os.listdir(server.home / TARGET))


def test_push_uploads_under_a_temporary_name_then_renames(
    sshd: SSHServer, store: TransferStore, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is written as a hidden .part, confirmed by the rename alone, recorded and moved to sent/."""
    (outbox / "20260527.bank.dat").write_bytes(b"request" * 1000)
    (outbox / ".tmp-20260528.bank.dat.1.ab").write_bytes(b"still being staged")
    spy = Spy(monkeypatch, "open", "posix_rename", "rename", "stat")

    result = push("bank", endpoint(sshd), outbox=outbox, store=store)

    assert remote_names(sshd) == ["20260527.bank.dat"]
    assert (sshd.home / TARGET / "20260527.bank.dat").read_bytes() == b"request" * 1000
    (put_name, put_args), (rename_name, rename_args) = spy.calls
    assert put_name == "open" and Path(put_args[0]).name.startswith(".20260527.bank.dat.") and put_args[1] == "wb"
    assert put_args[0].endswith(".part")
    assert rename_name == "posix_rename" and rename_args == (put_args[0], str(sshd.home / TARGET / "20260527.bank.dat"))
    assert "stat" not in spy.names()  # confirmed by the rename, not a later stat
    assert [p.local_path for p in result.pushed] == [outbox / "sent" / "20260527.bank.dat"]
    assert sorted(os.listdir(outbox)) == [".tmp-20260528.bank.dat.1.ab", "sent"]
    record = store.pushed("bank", sha(b"request" * 1000))
    assert record is not None and record.remote_path == str(sshd.home / TARGET / "20260527.bank.dat")


def test_push_with_nothing_to_send_does_not_connect(sshd: SSHServer, store: TransferStore, outbox: Path) -> None:
    """An empty outbox is a successful run without a connection."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("connected")

    result = Pusher("bank", endpoint(sshd), outbox=outbox, store=store, connector=refuse).run()
    assert result.pushed == [] and store.last_run("bank").ok  # type: ignore[union-attr]


def test_push_is_not_repeated_after_a_crash_before_the_move(
    sshd: SSHServer, store: TransferStore, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recorded but not yet moved to sent/ when the process died: the retry only moves it."""
    (outbox / "R1.dat").write_bytes(b"refund")
    crashed = False
    original = Pusher._file_sent

    def crash_once(self: Pusher, path: Path, digest: str) -> Path:
        nonlocal crashed
        if not crashed:
            crashed = True
            raise KeyboardInterrupt("simulated crash")
        return original(self, path, digest)

    monkeypatch.setattr(Pusher, "_file_sent", crash_once)
    with pytest.raises(KeyboardInterrupt):
        push("bank", endpoint(sshd), outbox=outbox, store=store)
    assert (outbox / "R1.dat").exists() and remote_names(sshd) == ["R1.dat"]

    spy = Spy(monkeypatch, "open")
    result = push("bank", endpoint(sshd), outbox=outbox, store=store)
    assert spy.calls == []  # not uploaded twice
    assert result.pushed == [] and [s.local_path.name for s in result.skipped] == ["R1.dat"]
    assert (outbox / "sent" / "R1.dat").exists() and not (outbox / "R1.dat").exists()


def test_push_after_a_crash_before_the_record_overwrites_the_same_name(
    sshd: SSHServer, store: TransferStore, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renamed but not recorded when the process died: the retry renames over the same final name."""
    (outbox / "R2.dat").write_bytes(b"refund two")
    original = TransferStore.record_push
    calls = 0

    def crash_once(self: TransferStore, *args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise KeyboardInterrupt("simulated crash")
        original(self, *args, **kwargs)

    monkeypatch.setattr(TransferStore, "record_push", crash_once)
    with pytest.raises(KeyboardInterrupt):
        push("bank", endpoint(sshd), outbox=outbox, store=store)
    assert remote_names(sshd) == ["R2.dat"]

    result = push("bank", endpoint(sshd), outbox=outbox, store=store)
    assert [p.remote_path for p in result.pushed] == [str(sshd.home / TARGET / "R2.dat")]
    assert remote_names(sshd) == ["R2.dat"]  # one file, no second copy, no temporary
    assert (sshd.home / TARGET / "R2.dat").read_bytes() == b"refund two"


def test_push_falls_back_to_rename_without_posix_rename(
    sshd: SSHServer, store: TransferStore, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server without posix-rename gets a standard rename, replacing an earlier copy of the file."""
    (sshd.home / TARGET).mkdir(exist_ok=True)
    (sshd.home / TARGET / "R3.dat").write_bytes(b"old copy")
    (outbox / "R3.dat").write_bytes(b"new content")

    def unsupported(self: Any, old: str, new: str) -> None:
        raise OSError("Operation unsupported")

    monkeypatch.setattr(paramiko.SFTPClient, "posix_rename", unsupported)
    push("bank", endpoint(sshd), outbox=outbox, store=store)
    assert remote_names(sshd) == ["R3.dat"]
    assert (sshd.home / TARGET / "R3.dat").read_bytes() == b"new content"


def test_progress_bar_only_for_large_transfers() -> None:
    """The progress callback draws a bar for transfers over the threshold, and nothing when disabled."""
    from io import StringIO

    from rich.console import Console

    from gateway.entrypoints.commands import sftp as commands

    shown = StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(commands, "console", Console(file=shown, force_terminal=True, width=100))
        with commands.TransferProgress(enabled=True, threshold=1000) as progress:
            progress("SMALL.DAT", 10, 999)
            progress("BIG.DAT", 500, 2000)
            progress("BIG.DAT", 2000, 2000)
    assert "BIG.DAT" in shown.getvalue() and "SMALL.DAT" not in shown.getvalue()
    with commands.TransferProgress(enabled=False) as quiet:
        quiet("BIG.DAT", 1, 1 << 30)


# -- configuration ------------------------------------------------------------------------------


def test_endpoint_configuration_is_checked(tmp_path: Path) -> None:
    """Secrets, incomplete directions, bad after_pull, cron and cut-off values are refused with a reason."""
    base: dict[str, Any] = dict(
        host="sftp.bank.example",
        user="city",
        key_file=tmp_path / "k",
        known_hosts=tmp_path / "kh",
        remote_dir="out",
        channel="zengin-91",
    )
    EndpointConfig(**base)
    for change, message in (
        (dict(passphrase="x"), "never goes into the configuration"),
        (dict(channel=None), "remote_dir and channel go together"),
        (dict(after_pull="remove"), "keep"),
        (dict(schedule="every day"), "cron"),
        (dict(expected_file=dict(pattern="K*", cutoff="25:00")), "HH:MM"),
        (dict(unknown=1), "Extra inputs"),
        (dict(passphrase_env="A", passphrase_file=tmp_path / "p"), "not both"),
    ):
        with pytest.raises(ValidationError, match=message):
            EndpointConfig(**{**base, **change})
    with pytest.raises(ValueError, match="endpoints.bank.channel"):
        validate_endpoints({"bank": EndpointConfig(**base)}, {"zengin-21": None}, {})


# -- the command line ---------------------------------------------------------------------------


def settings_with(server: SSHServer, root: Path, **overrides: Any) -> Any:
    """The default Settings on a spool under ``root``, with a ``bank`` destination and endpoint."""
    from gateway.config.settings import Settings, load_settings

    base = load_settings(None, spool_root=root / "spool")
    destinations = {**base.destinations, "bank": {"render": next(iter(base.destinations.values())).render}}
    return Settings.model_validate(
        {**base.model_dump(), "destinations": destinations, "endpoints": {"bank": endpoint(server, **overrides)}}
    )


def test_commands_pull_push_and_endpoints(sshd: SSHServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`gateway pull`, `push` and `endpoints` work on a Settings with endpoints."""
    import json

    import typer

    from gateway.entrypoints.commands import sftp as commands

    settings = settings_with(sshd, tmp_path, schedule="0 9 * * *", business_days_only=True)
    monkeypatch.setattr(commands, "load", lambda config, spool: settings)
    app = typer.Typer()
    commands.register(app)
    runner = CliRunner()
    remote_file(sshd, "KFURI.DAT", b"data")
    outbox = settings.destination_path("bank")
    outbox.mkdir(parents=True, exist_ok=True)
    (outbox / "OUT.dat").write_bytes(b"to the bank")

    pulled = runner.invoke(app, ["pull", "bank"])
    assert pulled.exit_code == 0, pulled.output
    assert "1 pulled" in pulled.output
    assert (tmp_path / "spool" / "inbox" / "zengin-91" / "KFURI.DAT").read_bytes() == b"data"
    pushed = runner.invoke(app, ["push", "bank"])
    assert pushed.exit_code == 0 and "1 pushed" in pushed.output, pushed.output

    sshd.known_hosts.write_text("")
    refused = runner.invoke(app, ["pull", "bank"])
    assert refused.exit_code == 2 and "unknown" in refused.output

    listed = runner.invoke(app, ["endpoints", "--json"])
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.stdout)
    assert row["endpoint"] == "bank" and row["direction"] == "pull+push"
    assert row["last_success"] and row["last_error"] and "unknown" in row["last_error_message"]
    assert row["next_run"] and row["next_run"].endswith("09:00:00+09:00")
    table = runner.invoke(app, ["endpoints"])
    assert table.exit_code == 0 and "bank" in table.output
    assert runner.invoke(app, ["pull", "nowhere"]).exit_code == 2
    alerts = runner.invoke(app, ["alerts", "--json"])
    assert alerts.exit_code == 0 and json.loads(alerts.stdout) == []


def test_scheduled_run_pulls_and_pushes(sshd: SSHServer, tmp_path: Path) -> None:
    """The scheduler with the settings' runner pulls into the inbox and pushes the outbox at the set time."""
    import datetime as dt

    from adapters.schedule import JST, EndpointLocks, EndpointRunner, Scheduler, endpoints_of

    settings = settings_with(sshd, tmp_path, schedule="30 8 * * *", business_days_only=True)
    remote_file(sshd, "KFURI.DAT", b"data")
    outbox = settings.destination_path("bank")
    outbox.mkdir(parents=True, exist_ok=True)
    (outbox / "OUT.dat").write_bytes(b"to the bank")
    with TransferStore(settings.ledger_path()) as store:
        scheduler = Scheduler(endpoints_of(settings), store, locks=EndpointLocks(settings.ledger_path().parent))
        runner = EndpointRunner(settings, store)
        assert scheduler.run_due(dt.datetime(2026, 5, 7, 8, 0, tzinfo=JST), runner) == []
        (outcome,) = scheduler.run_due(dt.datetime(2026, 5, 7, 8, 30, tzinfo=JST), runner)
        assert outcome.ok, outcome.error
    assert (settings.spool.root / "inbox" / "zengin-91" / "KFURI.DAT").read_bytes() == b"data"
    assert (sshd.home / TARGET / "OUT.dat").read_bytes() == b"to the bank"


# -- the fixture itself -----------------------------------------------------------------------


def test_missing_sshd_fails_under_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without sshd the SFTP tests skip with a reason, except under CI=true where they fail loudly."""
    monkeypatch.setattr(sshd_module, "find_sshd", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="ensure-system-packages"):
        sshd_module.require_sshd()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="ensure-system-packages"):
        sshd_module.require_sshd()


def test_a_pulled_bank_result_flows_to_the_collection_system(sshd: SSHServer, tmp_path: Path) -> None:
    """A 91 result pulled from the bank's SFTP server is claimed, validated and routed like a dropped file."""
    from adapters.schedule import EndpointRunner
    from gateway.entrypoints.service import Service
    from tests.support.samples import debit_file

    settings = settings_with(sshd, tmp_path, schedule="0 9 * * *")
    content = debit_file([(1200, "0"), (3400, "1")])
    remote_file(sshd, "KFURI0527.DAT", content)
    with TransferStore(settings.ledger_path()) as store:
        EndpointRunner(settings, store)("bank")
    outcomes = []
    Service(settings).run(until_idle=True, on_outcome=outcomes.append)
    (done,) = outcomes
    assert (done.state, done.status) == ("archived", "ok")
    assert {d.destination: d.records for d in done.outputs} == {"collection": 2, "followup": 1}
    archived = settings.spool.root / "archive" / f"{done.file_id}__KFURI0527.DAT"
    assert archived.read_bytes() == content
