"""The SFTP transport (paramiko): pulling the bank's files into an inbox, pushing an outbox to the bank.

Connecting (:func:`connect`)
    Host keys are always verified against the endpoint's own ``known_hosts`` file
    (OpenSSH format, plain or hashed; for a port other than 22 the entry is
    ``[host]:port``): ``paramiko.SSHClient`` with ``load_host_keys(known_hosts)`` and
    ``paramiko.RejectPolicy``. An unknown host or a changed key refuses the connection
    with :class:`HostKeyError` (host, port, the offered key's SHA-256 fingerprint, the
    known_hosts file) and an audit event. Login is by private key only (ed25519 or RSA;
    its passphrase, if any, from an environment variable or a file, never from the
    configuration), with no agent and no keys looked up in ``~/.ssh``.

Pulling (:class:`Puller`)
    ``remote_dir`` is listed; regular files whose names match one of ``patterns`` are
    candidates, oldest first. A name that could escape the inbox or hide in it
    (``/``, ``..``, control characters, a leading ``.``) is refused and logged, never
    pulled (:func:`safe_remote_name`). A file already in ``remote_files`` with the same
    path, size and mtime is skipped. Otherwise it is downloaded into a hidden temporary
    file inside the channel's inbox (``.tmp-sftp-<endpoint>-<random>.part``: the scanner
    ignores it) while its SHA-256 is computed, its size checked against the listing,
    fsynced, and — if the remote file did not change meanwhile — renamed to its own name
    in the inbox without ever replacing a file already there (a name taken by another
    file gets ``NAME.2.EXT``; the very same content is not written twice). Only then is
    the pull recorded, and only after that is the remote file deleted or moved
    (``after_pull``). A connection lost in the middle removes the temporary file: the
    inbox never sees a partial file, and the next run pulls the file again from the start.

    The download keeps at most ``prefetch_limit`` read requests of ``read_size`` bytes in
    flight (the bound paramiko calls ``max_concurrent_prefetch_requests``), in the calling
    thread. It does not use ``SFTPClient.getfo(..., max_concurrent_prefetch_requests=N)``:
    paramiko's bounded prefetch ends early whenever the reader catches up with the request
    thread (paramiko PR #2519, still open with paramiko 5.1), then reads one request at a
    time while the prefetch thread piles the rest of the file up in memory — measured here
    on a 100 MB file from a local sshd: prefetching stopped after 26–48 MB, 5–7 MB/s, and
    56–79 MB held in memory. This reader keeps memory flat whatever the file size.

    Speed comes from the SSH channel, not from the requests: paramiko's defaults (a 2 MiB
    window, 32 KiB packets) split every 32 KiB reply in two packets, and paramiko's transport
    thread spends its time per packet, not per byte. :func:`connect` therefore opens the
    transport with ``window_size`` (16 MiB) and ``max_packet_size`` (256 KiB), preferring
    AES-GCM (no separate HMAC per packet) when the server offers it, and the
    defaults ask for 128 KiB per request, 32 in flight: each reply is one packet.

Pushing (:class:`Pusher`)
    Every finished file in the destination's outbox folder (not hidden, not ``*.part``/
    ``*.tmp``/``*~``, not in ``sent/``) whose SHA-256 was already pushed to this endpoint is
    skipped; the others are uploaded under a hidden temporary name in ``remote_out_dir``
    (``.NAME.<random>.part``) — pipelined write requests (``prefetch_limit × read_size`` bytes
    in flight; each request ``read_size`` at most, in whole SSH packets of the server's size — as many
    as the server's ``limits@openssh.com`` allows, else one; every reply checked; the file hashed
    as it is read and compared with the SHA-256 it was chosen by) — and renamed to ``NAME`` — ``posix-rename@openssh.com`` where
    the server supports it (it replaces), else a standard rename (after removing an earlier
    ``NAME``). Success is the rename's reply, not a later stat (some servers take a file
    away as soon as it appears). The push is then recorded in ``remote_pushes`` and the
    local file moved to ``sent/``.

    A crash between the rename and the record leaves the file on the server, unrecorded:
    the retry uploads it again and renames it over the same final name, so the bank sees
    the same file once, replaced, never a second copy under another name. A crash between
    the record and the move to ``sent/`` makes the retry skip it (same SHA-256) and only
    move it. A temporary left on the server by a cut connection keeps its hidden ``.part``
    name (removed when the connection still allows).
"""

from __future__ import annotations

import datetime as dt
import errno
import fnmatch
import functools
import hashlib
import os
import posixpath
import re
import secrets
import socket
import stat
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal, NoReturn, cast

import paramiko
from paramiko.sftp import CMD_DATA, CMD_EXTENDED, CMD_EXTENDED_REPLY, CMD_READ, CMD_STATUS, CMD_WRITE, int64
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.reporting.audit import get_logger
from gateway.storage.transfers import TransferStore
from spool.atomic import (
    NAME_MAX,
    TEMP_PREFIX,
    TempWriter,
    fsync_dir,
    move_into,
    remove_stale_temps,
    sha256_file,
)
from spool.layout import NAME_PATTERN
from spool.scanner import IGNORED_SUFFIXES

__all__ = [
    "ConnectError",
    "EndpointConfig",
    "ExpectedFile",
    "HostKeyError",
    "Progress",
    "PullResult",
    "PulledFile",
    "Puller",
    "PushResult",
    "PushedFile",
    "Pusher",
    "SFTPError",
    "TransferError",
    "UnsafeNameError",
    "connect",
    "disconnect",
    "pull",
    "push",
    "safe_remote_name",
    "session",
    "validate_endpoints",
]

_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
_AFTER_PULL = re.compile(r"^(keep|delete|move:.+)$")


#: ``progress(file name, bytes so far, total bytes)``, called as a transfer goes.
Progress = Callable[[str, int, int], None]


# -- configuration ----------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExpectedFile(_Strict):
    """A file the bank must have delivered by a time of day on every business day."""

    channel: str | None = Field(default=None, description="the inbox channel; default the endpoint's channel")
    pattern: str = Field(min_length=1, description="fnmatch pattern of the expected file's name, e.g. 'KFURI*.DAT'")
    cutoff: str = Field(description="'HH:MM' (Japan time) by which it must have arrived")

    @field_validator("cutoff")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(f"expected a time of day as 'HH:MM' (00:00 to 23:59), found {value!r}")
        return value

    def cutoff_time(self) -> dt.time:
        hours, minutes = self.cutoff.split(":")
        return dt.time(int(hours), int(minutes))


class EndpointConfig(_Strict):
    """One SFTP server the gateway pulls from (``remote_dir`` → ``channel``) and/or pushes to
    (``destination`` → ``remote_out_dir``)."""

    host: str = Field(min_length=1, description="server name or address, as written in known_hosts")
    port: int = Field(default=22, ge=1, le=65535)
    user: str = Field(min_length=1)
    key_file: Path = Field(description="private key (ed25519 or RSA, OpenSSH or PEM format), mode 0600")
    passphrase_env: str | None = Field(default=None, description="environment variable holding the key's passphrase")
    passphrase_file: Path | None = Field(default=None, description="file holding the key's passphrase, mode 0600")
    known_hosts: Path = Field(description="known_hosts file with the server's host key ([host]:port for port != 22)")
    remote_dir: str | None = Field(default=None, description="remote folder to pull from")
    remote_out_dir: str | None = Field(default=None, description="remote folder to push to")
    patterns: list[str] = Field(
        default_factory=lambda: ["*"], min_length=1, description="fnmatch patterns of files to pull"
    )
    channel: str | None = Field(default=None, description="inbox channel that pulled files go to")
    destination: str | None = Field(default=None, description="outbox destination whose files are pushed")
    connect_timeout: float = Field(
        default=30.0, gt=0, description="seconds for TCP connect, banner, key exchange and login"
    )
    op_timeout: float = Field(default=120.0, gt=0, description="seconds without an answer before an operation fails")
    after_pull: str = Field(default="keep", description="keep | delete | move:<remote folder> (relative to remote_dir)")
    prefetch_limit: int = Field(
        default=32,
        ge=1,
        le=1024,
        description="read requests in flight (paramiko's max_concurrent_prefetch_requests); "
        "a push keeps as many bytes in flight (prefetch_limit x read_size)",
    )
    read_size: int = Field(
        default=131072,
        ge=1024,
        le=261120,
        description="bytes per read request (OpenSSH serves up to 261120; a server that serves less "
        "answers with short reads, which are completed)",
    )
    window_size: int = Field(
        default=16 * 1024 * 1024,
        ge=32768,
        le=1 << 30,
        description="SSH channel window: bytes the server may send before we acknowledge (paramiko's "
        "default_window_size; its own default, 2 MiB, stalls the pipeline)",
    )
    max_packet_size: int = Field(
        default=262144,
        ge=32768,
        le=262144,
        description="largest SSH channel packet the server may send us (paramiko's default_max_packet_size; "
        "its own default, 32 KiB, splits every read reply in two)",
    )
    schedule: str | None = Field(default=None, description="cron expression in Japan time, e.g. '0 9,13 * * *'")
    business_days_only: bool = Field(default=False, description="run only on bank business days")
    expected_file: ExpectedFile | None = None
    retries: int = Field(default=3, ge=0, le=20, description="retries of a failed scheduled run")
    backoff: float = Field(default=60.0, gt=0, description="seconds before the first retry; doubled for each next one")
    backoff_max: float = Field(default=3600.0, gt=0, description="longest wait between retries")

    @model_validator(mode="before")
    @classmethod
    def _no_secret(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for key in ("passphrase", "password"):
                if key in data:
                    raise ValueError(
                        f"{key}: a secret never goes into the configuration; "
                        "name the environment variable (passphrase_env) or the file (passphrase_file) holding it"
                    )
        return data

    @field_validator("after_pull")
    @classmethod
    def _after_pull(cls, value: str) -> str:
        if not _AFTER_PULL.match(value):
            raise ValueError(f"expected 'keep', 'delete' or 'move:<remote folder>', found {value!r}")
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from croniter import croniter  # only for an endpoint with a schedule

        if not croniter.is_valid(value):
            raise ValueError(f"expected a cron expression ('minute hour day month weekday'), found {value!r}")
        return value

    @field_validator("channel", "destination")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not NAME_PATTERN.fullmatch(value):
            raise ValueError("a name of lower-case letters, digits, '.', '_' or '-' expected")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> EndpointConfig:
        if (self.remote_dir is None) != (self.channel is None):
            raise ValueError("remote_dir and channel go together: where to pull from and which inbox to pull into")
        if (self.remote_out_dir is None) != (self.destination is None):
            raise ValueError("remote_out_dir and destination go together: which outbox to push and where to")
        if self.remote_dir is None and self.remote_out_dir is None:
            raise ValueError("expected remote_dir + channel (pull), remote_out_dir + destination (push), or both")
        if self.passphrase_env is not None and self.passphrase_file is not None:
            raise ValueError("passphrase_env or passphrase_file, not both")
        if self.expected_file is not None and self.expected_file.channel is None and self.channel is None:
            raise ValueError("expected_file.channel: needed when the endpoint pulls into no channel")
        if self.backoff_max < self.backoff:
            raise ValueError("backoff_max must be at least backoff")
        return self

    # -- derived ------------------------------------------------------------------
    @property
    def pulls(self) -> bool:
        return self.remote_dir is not None

    @property
    def pushes(self) -> bool:
        return self.remote_out_dir is not None

    @property
    def after_pull_action(self) -> Literal["keep", "delete", "move"]:
        # the validator let through only keep, delete and move:<folder>
        return "move" if self.after_pull.startswith("move:") else cast(Literal["keep", "delete"], self.after_pull)

    def expected_channel(self) -> str | None:
        """The channel the expected-file rule watches (its own, else the endpoint's)."""
        if self.expected_file is None:
            return None
        return self.expected_file.channel or self.channel

    def passphrase(self) -> str | None:
        """The key's passphrase, read now from the environment or the file; None when there is none."""
        if self.passphrase_env is not None:
            value = os.environ.get(self.passphrase_env)
            if value is None:
                raise ConnectError(f"passphrase_env: the environment variable {self.passphrase_env} is not set")
            return value
        if self.passphrase_file is not None:
            _require_private(self.passphrase_file, "passphrase_file")
            return self.passphrase_file.read_text(encoding="utf-8").rstrip("\r\n")
        return None


def validate_endpoints(
    endpoints: Mapping[str, EndpointConfig], channels: Mapping[str, Any] | Any, destinations: Mapping[str, Any] | Any
) -> None:
    """Check endpoint names and that their channels and destinations exist (for Settings' validator).

    Raises ValueError naming the key, the value and what was expected."""
    for name, endpoint in endpoints.items():
        if not NAME_PATTERN.fullmatch(name):
            raise ValueError(f"endpoints.{name}: a name of lower-case letters, digits, '.', '_' or '-' expected")
        for key, value, known in (
            ("channel", endpoint.channel, channels),
            ("expected_file.channel", endpoint.expected_channel(), channels),
            ("destination", endpoint.destination, destinations),
        ):
            if value is not None and value not in known:
                kind = "destinations" if key == "destination" else "channels"
                raise ValueError(
                    f"endpoints.{name}.{key} = {value!r}: a name defined under [{kind}] expected "
                    f"({', '.join(sorted(known)) or 'none defined'})"
                )


# -- errors ---------------------------------------------------------------------------------


class SFTPError(Exception):
    """Base of the errors of this transport; the message says what to do."""


class ConnectError(SFTPError):
    """Raised when no SFTP session could be opened: network, timeout, key file, login refused."""


class HostKeyError(ConnectError):
    """Raised when the server's host key is not the one in known_hosts (``reason`` 'unknown' or
    'changed'): the connection is refused before logging in."""

    def __init__(
        self,
        host: str,
        port: int,
        fingerprint: str,
        known_hosts: Path,
        reason: str,
        *,
        key_type: str = "",
        expected: str | None = None,
    ) -> None:
        self.host, self.port, self.fingerprint = host, port, fingerprint
        self.known_hosts, self.reason, self.key_type, self.expected = known_hosts, reason, key_type, expected
        entry = host if port == 22 else f"[{host}]:{port}"
        if reason == "changed":
            text = (
                f"host key of {host} port {port} has CHANGED: the server offered {key_type} {fingerprint}, "
                f"but {known_hosts} holds {expected} for {entry}. Connection refused. This may be an attack; "
                "confirm the new key with the bank through another channel before replacing the entry"
            )
        else:
            text = (
                f"host key of {host} port {port} is unknown: the server offered {key_type} {fingerprint} "
                f"and {known_hosts} has no entry for {entry}. Connection refused. Confirm the fingerprint "
                f"with the bank through another channel, then add the line '{entry} <key>' to {known_hosts}"
            )
        super().__init__(text)


class TransferError(SFTPError):
    """Raised when a transfer fails after connecting (connection lost, timeout, short file,
    server error). Nothing partial is left in the inbox; the next run starts over."""


class UnsafeNameError(ValueError):
    """Raised by :func:`safe_remote_name` for a remote file name that is refused."""


# -- names --------------------------------------------------------------------------------------


def safe_remote_name(name: str) -> str:
    """``name`` itself when it is safe as a file name in an inbox; UnsafeNameError otherwise.

    Refused: empty, ``/`` or ``\\``, ``..`` anywhere, a leading ``.`` (hidden, or the spool's
    own temporaries), control or invisible formatting characters (newline, NUL, DEL, bidi
    overrides…), more than 255 bytes."""
    if not name:
        raise UnsafeNameError("empty file name")
    if "/" in name or "\\" in name:
        raise UnsafeNameError(f"file name {name!r} contains a path separator")
    if ".." in name:
        raise UnsafeNameError(f"file name {name!r} contains '..'")
    if name.startswith("."):
        raise UnsafeNameError(f"file name {name!r} starts with '.' (hidden)")
    for char in name:
        if unicodedata.category(char) in {"Cc", "Cf", "Cs", "Zl", "Zp"}:
            raise UnsafeNameError(f"file name {name!r} contains the control character U+{ord(char):04X}")
    if len(name.encode("utf-8", "surrogateescape")) > NAME_MAX:
        raise UnsafeNameError(f"file name {name[:40]!r}… is longer than {NAME_MAX} bytes")
    return name


# -- connecting ---------------------------------------------------------------------------------


def _require_private(path: Path, what: str) -> None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConnectError(f"{what} {path} not found") from None
    if mode & 0o077:
        raise ConnectError(
            f"{what} {path} is readable by others (mode {stat.S_IMODE(mode):04o}): expected 0600 (chmod 600 {path})"
        )


def _load_key(endpoint: EndpointConfig) -> paramiko.PKey:
    _require_private(endpoint.key_file, "key_file")
    try:
        passphrase = endpoint.passphrase()
        # bytes, as cryptography's key loaders take it: paramiko (and so types-paramiko) annotates str
        return paramiko.PKey.from_path(endpoint.key_file, None if passphrase is None else passphrase.encode("utf-8"))  # type: ignore[arg-type]
    except paramiko.PasswordRequiredException:
        raise ConnectError(
            f"key_file {endpoint.key_file} is encrypted: set passphrase_env or passphrase_file"
        ) from None
    except (paramiko.SSHException, ValueError, OSError) as error:
        raise ConnectError(
            f"key_file {endpoint.key_file} cannot be read as an ed25519 or RSA private key (wrong passphrase?): {error}"
        ) from None


class _RefusingPolicy(paramiko.RejectPolicy):
    """paramiko's RejectPolicy, remembering the key it refused (for the message and the audit)."""

    def __init__(self) -> None:
        self.refused: paramiko.PKey | None = None

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> NoReturn:
        self.refused = key
        super().missing_host_key(client, hostname, key)


#: AES-GCM first: one pass of AES-NI per packet instead of AES-CTR plus an HMAC-SHA256 in Python's
#: hashlib (on both sides of the connection); the rest of paramiko's order follows unchanged
_AEAD_FIRST = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")


def _transport(sock: Any, *, endpoint: EndpointConfig, **kwargs: Any) -> paramiko.Transport:
    """paramiko's Transport with the endpoint's window and packet sizes, AES-GCM preferred."""
    transport = paramiko.Transport(
        sock, default_window_size=endpoint.window_size, default_max_packet_size=endpoint.max_packet_size, **kwargs
    )
    options = transport.get_security_options()
    offered = tuple(options.ciphers)
    options.ciphers = tuple(c for c in _AEAD_FIRST if c in offered) + tuple(c for c in offered if c not in _AEAD_FIRST)
    return transport


def connect(endpoint: EndpointConfig, *, name: str | None = None) -> paramiko.SFTPClient:
    """An SFTP session on the endpoint's server, its host key verified against ``known_hosts``.

    Close it with :func:`disconnect` (or use :func:`session`). Raises HostKeyError for an
    unknown or changed host key, ConnectError for everything else that prevents a session."""
    log = get_logger(endpoint=name, host=endpoint.host, port=endpoint.port)
    known_hosts = endpoint.known_hosts
    if not known_hosts.is_file():
        raise ConnectError(
            f"known_hosts file {known_hosts} not found: it must hold the host key of "
            f"{endpoint.host} port {endpoint.port}, confirmed with the bank"
        )
    key = _load_key(endpoint)
    client = paramiko.SSHClient()
    policy = _RefusingPolicy()
    try:
        client.load_host_keys(str(known_hosts))  # this file only: never the system's or ~/.ssh
    except (OSError, paramiko.SSHException) as error:
        raise ConnectError(f"known_hosts file {known_hosts} cannot be read: {error}") from None
    client.set_missing_host_key_policy(policy)
    try:
        client.connect(
            hostname=endpoint.host,
            port=endpoint.port,
            username=endpoint.user,
            pkey=key,
            allow_agent=False,
            look_for_keys=False,
            timeout=endpoint.connect_timeout,
            banner_timeout=endpoint.connect_timeout,
            auth_timeout=endpoint.connect_timeout,
            channel_timeout=endpoint.op_timeout,
            transport_factory=functools.partial(_transport, endpoint=endpoint),
        )
        sftp = client.open_sftp()
        channel = sftp.get_channel()
        assert channel is not None  # open_sftp opens the session on a channel of its own
        channel.settimeout(endpoint.op_timeout)
    except paramiko.BadHostKeyException as error:
        client.close()
        refusal = HostKeyError(
            endpoint.host,
            endpoint.port,
            error.key.fingerprint,
            known_hosts,
            "changed",
            key_type=error.key.get_name(),
            expected=error.expected_key.fingerprint,
        )
        _audit_refusal(log, refusal)
        raise refusal from None
    except paramiko.AuthenticationException as error:
        client.close()
        log.error("sftp-login-refused", user=endpoint.user, key=key.fingerprint, reason=str(error))
        raise ConnectError(
            f"{endpoint.user}@{endpoint.host} port {endpoint.port} refused the key {endpoint.key_file} "
            f"({key.get_name()} {key.fingerprint}): {error}. Is its public half registered "
            "with the bank?"
        ) from None
    except paramiko.SSHException as error:
        client.close()
        if policy.refused is not None:
            refusal = HostKeyError(
                endpoint.host,
                endpoint.port,
                policy.refused.fingerprint,
                known_hosts,
                "unknown",
                key_type=policy.refused.get_name(),
            )
            _audit_refusal(log, refusal)
            raise refusal from None
        raise ConnectError(f"SSH session with {endpoint.host} port {endpoint.port} failed: {error}") from None
    except (OSError, EOFError) as error:
        client.close()
        reason = "timed out" if isinstance(error, socket.timeout) else str(error) or type(error).__name__
        raise ConnectError(f"cannot connect to {endpoint.host} port {endpoint.port}: {reason}") from None
    transport = client.get_transport()
    assert transport is not None  # connected above
    log.info("sftp-connected", user=endpoint.user, host_key=transport.get_remote_server_key().fingerprint)
    return sftp


def _audit_refusal(log: Any, refusal: HostKeyError) -> None:
    log.error(
        "sftp-host-key-refused",
        reason=refusal.reason,
        fingerprint=refusal.fingerprint,
        key_type=refusal.key_type,
        expected=refusal.expected,
        known_hosts=str(refusal.known_hosts),
    )


def disconnect(sftp: paramiko.SFTPClient) -> None:
    """Close the SFTP session and its SSH connection (and the connection's thread)."""
    channel = sftp.get_channel()
    transport = channel.get_transport() if channel is not None else None
    with suppress(Exception):
        sftp.close()
    if transport is not None:
        with suppress(Exception):
            transport.close()


@contextmanager
def session(
    endpoint: EndpointConfig, *, name: str | None = None, connector: Callable[..., paramiko.SFTPClient] = connect
) -> Iterator[paramiko.SFTPClient]:
    """``with session(endpoint) as sftp:`` — connected, and always disconnected afterwards."""
    sftp = connector(endpoint, name=name)
    try:
        yield sftp
    finally:
        disconnect(sftp)


def _describe(error: BaseException) -> str:
    text = str(error)
    if isinstance(error, socket.timeout):
        return "no answer from the server within op_timeout"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


_NETWORK_ERRORS = (OSError, EOFError, paramiko.SSHException)


# -- pulling ------------------------------------------------------------------------------------


class _Replies:
    """Receives the replies to our read requests (paramiko hands them to ``_async_response``)."""

    def __init__(self, sftp: paramiko.SFTPClient) -> None:
        self.sftp = sftp
        self.data: dict[int, bytes] = {}
        self.errors: dict[int, BaseException] = {}

    def _async_response(self, kind: int, msg: paramiko.Message, num: int) -> None:
        if kind == CMD_DATA:
            self.data[num] = msg.get_string()
            return
        try:
            # raises EOFError (end of file) or IOError; paramiko's private API, not in types-paramiko
            self.sftp._convert_status(msg)  # type: ignore[attr-defined]
            self.errors[num] = TransferError("unexpected reply to a read request")
        except BaseException as error:
            self.errors[num] = error


def _fetch(
    sftp: paramiko.SFTPClient,
    handle: bytes,
    size: int,
    sink: Callable[[bytes], None],
    *,
    in_flight: int,
    read_size: int,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Read bytes 0..size of an open remote file in order, keeping ``in_flight`` requests pipelined.

    Short reads (allowed by SFTP) are completed by another request; a file that ends
    early raises TransferError. Returns the number of bytes passed to ``sink``."""
    replies = _Replies(sftp)
    pending: deque[tuple[int, int, int]] = deque()  # (request number, offset, length) in file order
    requested = done = 0
    while done < size:
        while len(pending) < in_flight and requested < size:
            length = min(read_size, size - requested)
            # paramiko's private API (pipelined reads), not in types-paramiko
            number = sftp._async_request(replies, CMD_READ, handle, int64(requested), int(length))  # type: ignore[attr-defined]
            pending.append((number, requested, length))
            requested += length
        number, offset, length = pending[0]
        while number not in replies.data and number not in replies.errors:
            sftp._read_response()  # type: ignore[attr-defined]  # paramiko's private API, as above
        pending.popleft()
        if number in replies.errors:
            error = replies.errors.pop(number)
            if isinstance(error, EOFError):
                raise TransferError(f"the remote file ended at byte {offset} of the {size} listed")
            raise error
        data = replies.data.pop(number)
        if not data:
            raise TransferError(f"the remote file ended at byte {offset} of the {size} listed")
        if len(data) < length:  # a short read: ask for the rest before anything after it
            read_size = min(read_size, len(data))  # the server serves no more: ask for no more from now on
            rest = sftp._async_request(  # type: ignore[attr-defined]  # paramiko's private API, as above
                replies, CMD_READ, handle, int64(offset + len(data)), int(length - len(data))
            )
            pending.appendleft((rest, offset + len(data), length - len(data)))
        sink(data)
        done += len(data)
        if progress is not None:
            progress(done)
    return done


@dataclass(frozen=True)
class PulledFile:
    """One remote file now complete in the inbox."""

    remote_path: str
    local_path: Path
    size: int
    sha256: str


@dataclass
class PullResult:
    """What one pull run did."""

    endpoint: str
    pulled: list[PulledFile] = field(default_factory=list)
    already_pulled: int = 0
    refused: list[str] = field(default_factory=list)  # unsafe names (logged, not pulled)
    changed: list[str] = field(default_factory=list)  # still being written on the server: next run
    dispose_failed: list[str] = field(default_factory=list)


class Puller:
    """Pulls one endpoint's ``remote_dir`` into its channel's inbox (see the module docstring)."""

    def __init__(
        self,
        name: str,
        endpoint: EndpointConfig,
        *,
        inbox: Path,
        store: TransferStore,
        progress: Progress | None = None,
        connector: Callable[..., paramiko.SFTPClient] = connect,
    ) -> None:
        if not endpoint.pulls:
            raise ValueError(f"endpoint {name} has no remote_dir and channel: it does not pull")
        self.name, self.endpoint, self.inbox, self.store = name, endpoint, Path(inbox), store
        self.progress = progress
        self._current: str | None = None  # the remote file being downloaded, for error messages
        self.connector = connector
        self.log = get_logger(endpoint=name, channel=endpoint.channel)

    def run(self) -> PullResult:
        """One pull run, recorded in ``endpoint_runs``. Raises ConnectError / TransferError on failure
        (files completed before the failure stay pulled and recorded)."""
        result = PullResult(self.name)
        run_id = self.store.start_run(self.name, "pull")
        try:
            self.inbox.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._remove_stale_temps()
            with session(self.endpoint, name=self.name, connector=self.connector) as sftp:
                self._pull_all(sftp, result)
        except BaseException as error:
            # which file was being pulled, from where: the operator's first question
            where = f" while pulling {self._current} from {self.endpoint.host}" if self._current else ""
            self.store.finish_run(run_id, ok=False, error=f"{_describe(error)}{where}", files=len(result.pulled))
            self.log.error(
                "sftp-pull-failed", error=_describe(error), remote_path=self._current, pulled=len(result.pulled)
            )
            if isinstance(error, _NETWORK_ERRORS) and not isinstance(error, SFTPError):
                raise TransferError(
                    f"pull from {self.name} failed{where}: {_describe(error)}; nothing partial was "
                    "left in the inbox, the next run pulls the rest"
                ) from error
            if isinstance(error, TransferError) and where:
                raise TransferError(f"pull from {self.name} failed{where}: {error}") from error
            raise
        self.store.finish_run(run_id, ok=True, files=len(result.pulled))
        self.log.info(
            "sftp-pull-finished",
            pulled=len(result.pulled),
            already_pulled=result.already_pulled,
            refused=len(result.refused),
            changed=len(result.changed),
        )
        return result

    # -- steps --------------------------------------------------------------------
    def _temp_prefix(self) -> str:
        """This endpoint's temporaries are called ``.tmp-<this>…``."""
        return f"sftp-{self.name}-"

    def _remove_stale_temps(self) -> None:
        """Temporaries a killed run of this endpoint left behind (a live run would be writing them)."""
        for path in remove_stale_temps(
            self.inbox, max(600.0, 2 * self.endpoint.op_timeout), prefix=self._temp_prefix()
        ):
            self.log.info("sftp-stale-temp-removed", path=str(path))

    def _wanted(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.endpoint.patterns)

    def _pull_all(self, sftp: paramiko.SFTPClient, result: PullResult) -> None:
        remote_dir = self.endpoint.remote_dir or "."
        try:
            listing = sftp.listdir_attr(remote_dir)
        except (FileNotFoundError, PermissionError) as error:
            raise TransferError(
                f"remote_dir {remote_dir!r} on {self.endpoint.host} cannot be listed: "
                f"{error.strerror or error}; check the path with the bank"
            ) from None
        entries = sorted(listing, key=lambda a: (a.st_mtime or 0, a.filename))
        for attr in entries:
            name = attr.filename
            if not stat.S_ISREG(attr.st_mode or 0) or not self._wanted(name):
                continue  # folders, symlinks (never followed), other files
            try:
                safe_remote_name(name)
            except UnsafeNameError as refusal:
                result.refused.append(name)
                self.log.warning("sftp-name-refused", remote_dir=remote_dir, name=repr(name), reason=str(refusal))
                continue
            if name.endswith(IGNORED_SUFFIXES):
                continue  # still being written by the bank, by convention
            remote_path = posixpath.join(remote_dir, name)
            size, mtime = int(attr.st_size or 0), int(attr.st_mtime or 0)
            earlier = self.store.remote_file(self.name, remote_path, size, mtime)
            if earlier is not None:
                result.already_pulled += 1
                if earlier.state == "pulled" and self.endpoint.after_pull != "keep":
                    self._dispose(sftp, remote_path, name, size, mtime, result)  # interrupted last time
                continue
            pulled = self._download(sftp, remote_path, name, size, mtime)
            if pulled is None:
                result.changed.append(name)
                continue
            self.store.record_pull(
                self.name, remote_path, size, mtime, pulled.sha256, pulled.local_path, channel=self.endpoint.channel
            )
            self.log.info(
                "sftp-pulled", remote_path=remote_path, path=str(pulled.local_path), size=size, sha256=pulled.sha256
            )
            result.pulled.append(pulled)
            self._dispose(sftp, remote_path, name, size, mtime, result)

    def _download(
        self, sftp: paramiko.SFTPClient, remote_path: str, name: str, size: int, mtime: int
    ) -> PulledFile | None:
        self._current = remote_path
        pulled = self._download_to_inbox(sftp, remote_path, name, size, mtime)
        self._current = None
        return pulled

    def _download_to_inbox(
        self, sftp: paramiko.SFTPClient, remote_path: str, name: str, size: int, mtime: int
    ) -> PulledFile | None:
        out = TempWriter(
            self.inbox / f"{TEMP_PREFIX}{self._temp_prefix()}{secrets.token_hex(6)}.part", buffering=1 << 20
        )
        temp = out.temp
        placed: Path | None = None
        progress = self.progress
        report = None if progress is None else (lambda done: progress(name, done, size))
        try:
            remote = sftp.open(remote_path, "rb")
            try:
                written = _fetch(
                    sftp,
                    cast(bytes, remote.handle),
                    size,
                    out.write,
                    in_flight=self.endpoint.prefetch_limit,
                    read_size=self.endpoint.read_size,
                    progress=report,
                )
            finally:
                with suppress(Exception):
                    remote.close()
            sha256 = out.finish()
            if written != size:
                raise TransferError(f"{remote_path}: {written} bytes received, {size} listed")
            after = sftp.stat(remote_path)
            if int(after.st_size or 0) != size or int(after.st_mtime or 0) != mtime:
                self.log.warning(
                    "sftp-file-changed",
                    remote_path=remote_path,
                    listed_size=size,
                    size=after.st_size,
                    reason="changed while being pulled; taken next run",
                )
                return None
            os.utime(temp, (mtime, mtime))  # the inbox keeps the bank's order (the scanner takes oldest first)
            placed = self._place(temp, name, sha256)
        finally:
            if placed is None:
                out.discard()
        return PulledFile(remote_path, placed, size, sha256)

    def _place(self, temp: Path, name: str, sha256: str) -> Path:
        """Rename into the inbox under ``name`` without replacing anything; the very same content
        already waiting there is not written twice."""
        stem, dot, suffix = name.rpartition(".")
        for attempt in range(1, 1000):
            candidate = (
                name if attempt == 1 else (f"{stem}.{attempt}.{suffix}" if dot and stem else f"{name}.{attempt}")
            )
            target = self.inbox / candidate
            if target.exists() and target.stat().st_size == temp.stat().st_size and sha256_file(target) == sha256:
                temp.unlink()
                fsync_dir(self.inbox)
                return target
            try:
                return move_into(temp, self.inbox, candidate)
            except FileExistsError:
                continue
        raise TransferError(f"{self.inbox}: 999 files named like {name} already wait there")

    def _dispose(
        self, sftp: paramiko.SFTPClient, remote_path: str, name: str, size: int, mtime: int, result: PullResult
    ) -> None:
        action = self.endpoint.after_pull_action
        if action == "keep":
            return
        try:
            if action == "delete":
                sftp.remove(remote_path)
                state, target = "deleted", None
            else:
                folder = self.endpoint.after_pull.removeprefix("move:")
                folder = folder if folder.startswith("/") else posixpath.join(self.endpoint.remote_dir or ".", folder)
                target = posixpath.join(folder, name)
                sftp.rename(remote_path, target)  # never replaces a file of the bank's
                state = "moved"
        except OSError as error:  # IOError from the server: permissions, target exists…
            result.dispose_failed.append(name)
            self.log.warning(
                "sftp-dispose-failed",
                remote_path=remote_path,
                action=self.endpoint.after_pull,
                error=_describe(error),
                retry="next run",
            )
            return
        self.store.set_remote_state(self.name, remote_path, size, mtime, state)
        self.log.info("sftp-disposed", remote_path=remote_path, action=state, target=target)


def pull(
    name: str, endpoint: EndpointConfig, *, inbox: Path, store: TransferStore, progress: Progress | None = None
) -> PullResult:
    """Pull one endpoint into ``inbox`` (one run; see :class:`Puller`)."""
    return Puller(name, endpoint, inbox=inbox, store=store, progress=progress).run()


# -- pushing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushedFile:
    """One outbox file delivered to the server (or skipped: already pushed)."""

    local_path: Path  # where it is now (in sent/)
    remote_path: str
    sha256: str
    skipped: bool = False


@dataclass
class PushResult:
    """What one push run did."""

    endpoint: str
    pushed: list[PushedFile] = field(default_factory=list)
    skipped: list[PushedFile] = field(default_factory=list)


class _Acks:
    """Receives the status replies to our write requests (paramiko hands them to ``_async_response``)."""

    def __init__(self, sftp: paramiko.SFTPClient) -> None:
        self.sftp = sftp
        self.done: set[int] = set()
        self.errors: dict[int, BaseException] = {}

    def _async_response(self, kind: int, msg: paramiko.Message, num: int) -> None:
        if kind != CMD_STATUS:
            self.errors[num] = TransferError("unexpected reply to a write request")
            return
        try:
            # raises IOError unless the status is OK; paramiko's private API, not in types-paramiko
            self.sftp._convert_status(msg)  # type: ignore[attr-defined]
            self.done.add(num)
        except BaseException as error:
            self.errors[num] = error


#: bytes of an SFTP WRITE request around its data: length, type, id, handle length, offset, data length
_WRITE_OVERHEAD = 4 + 1 + 4 + 4 + 8 + 4


def _server_write_limit(sftp: paramiko.SFTPClient) -> int | None:
    """The largest write request the server accepts, from OpenSSH's ``limits@openssh.com``
    extension (OpenSSH 8.6 and later: 261120 bytes); None when the server does not say."""
    try:
        # paramiko's private API, as posix_rename uses it; not in types-paramiko
        kind, msg = sftp._request(CMD_EXTENDED, "limits@openssh.com")  # type: ignore[attr-defined]
        if kind != CMD_EXTENDED_REPLY:
            return None
        msg.get_int64()  # max-packet-length
        msg.get_int64()  # max-read-length
        limit = int(msg.get_int64())  # max-write-length; 0 means "not said"
    except (OSError, EOFError, paramiko.SSHException):
        return None  # an unsupported extension is an error status: the server says nothing
    return limit or None


def _write_size(sftp: paramiko.SFTPClient, handle: bytes, wanted: int, server_limit: int | None = None) -> int:
    """Bytes per write request: ``wanted`` at most, and whole SSH packets of the server's size
    (paramiko sends at most ``out_max_packet_size - 64`` bytes of channel data per packet), so
    that a request never ends in a small extra packet.

    A server that states its largest write (``server_limit``, :func:`_server_write_limit`) gets
    requests of as many whole packets as fit in it: fewer requests, fewer status replies to
    read, the same packets on the wire. Any other server gets one packet per request: against
    a server with 32 KiB packets (OpenSSH) a request stays under the 34000 bytes every SFTP
    server must accept."""
    channel = sftp.get_channel()
    packet = (channel.out_max_packet_size if channel is not None else 32768) - 64
    overhead = _WRITE_OVERHEAD + len(handle)
    one = max(1024, min(wanted, packet - overhead))
    if server_limit is None or min(wanted, server_limit) < packet:
        return one
    packets = (min(wanted, server_limit) + overhead) // packet
    return max(one, packets * packet - overhead)


def _send(
    sftp: paramiko.SFTPClient,
    handle: bytes,
    source: BinaryIO,
    *,
    in_flight_bytes: int,
    write_size: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, str]:
    """Write ``source`` to an open remote file from offset 0, hashing it as it is read, keeping
    about ``in_flight_bytes`` of write requests pipelined; every request's status is checked.

    Returns (bytes written, their SHA-256)."""
    acks = _Acks(sftp)
    digest = hashlib.sha256()
    chunk = _write_size(sftp, handle, write_size, _server_write_limit(sftp))
    limit = max(1, in_flight_bytes // chunk)
    pending: deque[int] = deque()
    sent = 0

    def settle_oldest() -> None:
        number = pending.popleft()
        while number not in acks.done and number not in acks.errors:
            sftp._read_response()  # type: ignore[attr-defined]  # paramiko's private API, as in _fetch
        if number in acks.errors:
            raise acks.errors.pop(number)
        acks.done.discard(number)

    while data := source.read(chunk):
        digest.update(data)
        while len(pending) >= limit:
            settle_oldest()
        # paramiko's private API (pipelined writes), not in types-paramiko
        pending.append(sftp._async_request(acks, CMD_WRITE, handle, int64(sent), data))  # type: ignore[attr-defined]
        sent += len(data)
        if progress is not None:
            progress(sent)
    while pending:
        settle_oldest()
    return sent, digest.hexdigest()


class Pusher:
    """Pushes one destination's outbox folder to the endpoint's ``remote_out_dir`` (see the module docstring)."""

    def __init__(
        self,
        name: str,
        endpoint: EndpointConfig,
        *,
        outbox: Path,
        store: TransferStore,
        progress: Progress | None = None,
        connector: Callable[..., paramiko.SFTPClient] = connect,
    ) -> None:
        if not endpoint.pushes:
            raise ValueError(f"endpoint {name} has no remote_out_dir and destination: it does not push")
        self.name, self.endpoint, self.outbox, self.store = name, endpoint, Path(outbox), store
        self.progress = progress
        self.connector = connector
        self.log = get_logger(endpoint=name, destination=endpoint.destination)

    @property
    def sent(self) -> Path:
        return self.outbox / "sent"

    def waiting(self) -> list[Path]:
        """The outbox files to push, oldest first."""
        if not self.outbox.is_dir():
            return []
        found = []
        for entry in os.scandir(self.outbox):
            if entry.name.startswith(".") or entry.name.endswith(IGNORED_SUFFIXES):
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            found.append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.name, Path(entry.path)))
        return [path for _, _, path in sorted(found)]

    def run(self) -> PushResult:
        """One push run, recorded in ``endpoint_runs``; connects only when there is something to push."""
        result = PushResult(self.name)
        run_id = self.store.start_run(self.name, "push")
        try:
            files = self.waiting()
            sftp: paramiko.SFTPClient | None = None
            try:
                for path in files:
                    digest = sha256_file(path)
                    earlier = self.store.pushed(self.name, digest)
                    if earlier is not None:
                        moved = self._file_sent(path, digest)
                        result.skipped.append(PushedFile(moved, earlier.remote_path, digest, skipped=True))
                        self.log.info(
                            "sftp-push-skipped",
                            path=str(path),
                            sha256=digest,
                            remote_path=earlier.remote_path,
                            reason="already pushed",
                        )
                        continue
                    if sftp is None:
                        sftp = self.connector(self.endpoint, name=self.name)
                    remote_path = self._upload(sftp, path, digest)
                    self.store.record_push(self.name, path, digest, remote_path)
                    moved = self._file_sent(path, digest)
                    result.pushed.append(PushedFile(moved, remote_path, digest))
                    self.log.info("sftp-pushed", path=str(moved), remote_path=remote_path, sha256=digest)
            finally:
                if sftp is not None:
                    disconnect(sftp)
        except BaseException as error:
            self.store.finish_run(run_id, ok=False, error=_describe(error), files=len(result.pushed))
            self.log.error("sftp-push-failed", error=_describe(error), pushed=len(result.pushed))
            if isinstance(error, _NETWORK_ERRORS) and not isinstance(error, SFTPError):
                raise TransferError(
                    f"push to {self.name} failed: {_describe(error)}; "
                    "the files not pushed stay in the outbox for the next run"
                ) from error
            raise
        self.store.finish_run(run_id, ok=True, files=len(result.pushed))
        return result

    def _upload(self, sftp: paramiko.SFTPClient, path: Path, digest: str) -> str:
        name = safe_remote_name(path.name)
        folder = self.endpoint.remote_out_dir or "."
        final = posixpath.join(folder, name)
        temp = posixpath.join(folder, f".{name[:200]}.{secrets.token_hex(6)}.part")
        size = path.stat().st_size
        progress = self.progress
        report = None if progress is None else (lambda done: progress(name, done, size))
        try:
            with open(path, "rb", buffering=0) as source:
                try:
                    remote = sftp.open(temp, "wb")
                except (FileNotFoundError, PermissionError) as error:
                    raise TransferError(
                        f"remote_out_dir {folder!r} on {self.endpoint.host} refused the upload of "
                        f"{name}: {error.strerror or error}; check the path with the bank"
                    ) from None
                try:
                    written, sent_digest = _send(
                        sftp,
                        cast(bytes, remote.handle),
                        source,
                        in_flight_bytes=self.endpoint.prefetch_limit * self.endpoint.read_size,
                        write_size=self.endpoint.read_size,
                        progress=report,
                    )
                except BaseException:
                    with suppress(Exception):
                        remote.close()
                    raise
                remote.close()  # a server that writes behind reports its errors here
            if written != size or sent_digest != digest:
                raise TransferError(f"{path} changed while being pushed ({written} bytes read, {size} expected)")
            self._rename_into_place(sftp, temp, final)
        except BaseException:
            with suppress(Exception):
                sftp.remove(temp)
            raise
        return final

    def _rename_into_place(self, sftp: paramiko.SFTPClient, temp: str, final: str) -> None:
        """The rename's success reply is the confirmation that the file is delivered."""
        try:
            sftp.posix_rename(temp, final)  # replaces an earlier final (a retry after a crash)
            return
        except OSError as error:
            if error.errno in (errno.ENOENT, errno.EACCES):
                raise
            self.log.info("sftp-posix-rename-unavailable", error=_describe(error), fallback="rename")
        with suppress(FileNotFoundError):
            sftp.remove(final)  # standard RENAME never replaces: remove an earlier copy of this same file
        sftp.rename(temp, final)

    def _file_sent(self, path: Path, digest: str) -> Path:
        """Move a delivered file to ``sent/`` (never replacing another file there)."""
        self.sent.mkdir(mode=0o700, exist_ok=True)
        for attempt in range(1, 1000):
            candidate = path.name if attempt == 1 else f"{path.name}.{attempt}"
            target = self.sent / candidate
            if target.exists() and sha256_file(target) == digest:
                path.unlink()
                fsync_dir(self.outbox)
                return target
            try:
                return move_into(path, self.sent, candidate)
            except FileExistsError:
                continue
        raise TransferError(f"{self.sent}: 999 files named like {path.name} already there")


def push(
    name: str, endpoint: EndpointConfig, *, outbox: Path, store: TransferStore, progress: Progress | None = None
) -> PushResult:
    """Push one destination's outbox to the endpoint (one run; see :class:`Pusher`)."""
    return Pusher(name, endpoint, outbox=outbox, store=store, progress=progress).run()
