"""A real OpenSSH server for tests and benchmarks: ``sshd`` on 127.0.0.1, on a free port.

:func:`start_sshd` starts ``/usr/sbin/sshd -D -e -f <config>`` as the current user, in a
folder of its own: a freshly generated ed25519 host key (``ssh-keygen``), a generated
client key whose public half is the only authorised key, ``Subsystem sftp internal-sftp``
starting in ``<root>/home`` (no chroot), ``StrictModes no``, password and keyboard-
interactive logins off, and the pid file and the server's log (``sshd.log``) in the same
folder. :meth:`SSHServer.stop` ends it.

The pytest fixture :func:`sshd` gives one server per test (under ``tmp_path``). Where no
``sshd`` is installed, the fixture skips the test with the reason — except under
``CI=true``, where the SFTP tests must run: there it fails loudly and says to run
``scripts/ensure-system-packages.sh``.

Nothing here weakens host-key checking: :meth:`SSHServer.write_known_hosts` writes the
server's real host key under ``[127.0.0.1]:PORT``, as OpenSSH does for a port other
than 22, and the client code verifies it against that file.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = ["SSHServer", "SSHDMissingError", "find_sshd", "generate_key", "require_sshd", "sshd", "start_sshd"]

HOST = "127.0.0.1"
_START_TIMEOUT = 10.0


class SSHDMissingError(RuntimeError):
    """Raised by :func:`start_sshd` when no OpenSSH server (or ssh-keygen) is installed."""


def find_sshd() -> str | None:
    """The path of the OpenSSH server, or None when it is not installed."""
    for candidate in (shutil.which("sshd"), "/usr/sbin/sshd", "/usr/local/sbin/sshd"):
        if candidate and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)  # sshd re-executes itself: an absolute path is required
    return None


def require_sshd() -> str:
    """The sshd path for a test; skips the test where sshd is missing, fails under CI=true."""
    path = find_sshd()
    if path is not None and shutil.which("ssh-keygen"):
        return path
    message = (
        "OpenSSH server (sshd) or ssh-keygen not installed: run scripts/ensure-system-packages.sh "
        "(Debian packages openssh-server, openssh-client)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and the SFTP tests must run, but {message}", pytrace=False)
    pytest.skip(message)


def generate_key(path: Path, kind: str = "ed25519", *, passphrase: str = "", comment: str = "") -> Path:
    """A new private key at ``path`` (``path.pub`` beside it), replacing one already there."""
    for stale in (path, path.with_name(path.name + ".pub")):
        stale.unlink(missing_ok=True)
    command = ["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", comment, "-f", str(path)]
    if kind == "rsa":
        command[4:4] = ["-b", "2048"]
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL, capture_output=True)
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _supports(sshd_path: str, config: Path, option: str) -> bool:
    """Whether this sshd accepts a configuration option (newer options break older servers)."""
    trial = config.with_name(config.name + ".probe")
    trial.write_text(config.read_text() + f"{option}\n")
    try:
        result = subprocess.run(
            [sshd_path, "-t", "-f", str(trial)], capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
    finally:
        trial.unlink(missing_ok=True)
    return result.returncode == 0


@dataclass
class SSHServer:
    """One running sshd and the files that belong to it."""

    sshd_path: str
    root: Path
    port: int = 0
    host: str = HOST
    user: str = field(default_factory=getpass.getuser)
    process: subprocess.Popen[bytes] | None = None

    # -- the files ------------------------------------------------------------
    @property
    def home(self) -> Path:
        """Where an SFTP session starts (the server-side folder the tests use)."""
        return self.root / "home"

    @property
    def host_key(self) -> Path:
        return self.root / "ssh_host_ed25519_key"

    @property
    def client_key(self) -> Path:
        return self.root / "client_ed25519"

    @property
    def authorized_keys(self) -> Path:
        return self.root / "authorized_keys"

    @property
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    @property
    def config(self) -> Path:
        return self.root / "sshd_config"

    @property
    def log(self) -> Path:
        return self.root / "sshd.log"

    @property
    def pid_file(self) -> Path:
        return self.root / "sshd.pid"

    def host_public_key(self) -> str:
        """'ssh-ed25519 AAAA…' of the server's current host key."""
        kind, blob, *_ = self.host_key.with_name(self.host_key.name + ".pub").read_text().split()
        return f"{kind} {blob}"

    def known_hosts_line(self, *, bracketed: bool = True) -> str:
        """The known_hosts line for this server: ``[127.0.0.1]:PORT key`` (or plain ``127.0.0.1 key``)."""
        name = f"[{self.host}]:{self.port}" if bracketed else self.host
        return f"{name} {self.host_public_key()}\n"

    def write_known_hosts(
        self, path: Path | None = None, *, lines: list[str] | None = None, hashed: bool = False
    ) -> Path:
        """Write a known_hosts file (by default the server's own entry); ``hashed`` runs ``ssh-keygen -H``."""
        path = path or self.known_hosts
        path.write_text("".join(lines) if lines is not None else self.known_hosts_line())
        if hashed:
            subprocess.run(
                ["ssh-keygen", "-q", "-H", "-f", str(path)], check=True, capture_output=True, stdin=subprocess.DEVNULL
            )
            path.with_name(path.name + ".old").unlink(missing_ok=True)
        return path

    # -- running ------------------------------------------------------------------
    def prepare(self) -> None:
        """Generate the keys and write the configuration (a fresh folder)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(exist_ok=True)
        generate_key(self.host_key, comment="test-host")
        generate_key(self.client_key, comment="test-client")
        self.authorized_keys.write_text(self.client_key.with_name(self.client_key.name + ".pub").read_text())
        self.authorized_keys.chmod(0o600)
        if os.geteuid() == 0:
            # privilege separation needs its (empty) folder; Debian's service unit creates it at boot
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)

    def _write_config(self) -> None:
        lines = [
            f"ListenAddress {self.host}",
            f"Port {self.port}",
            f"HostKey {self.host_key}",
            f"PidFile {self.pid_file}",
            f"AuthorizedKeysFile {self.authorized_keys}",
            f"AllowUsers {self.user}",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "StrictModes no",
            "UsePAM no",
            "PrintMotd no",
            "AllowTcpForwarding no",
            "X11Forwarding no",
            "LogLevel VERBOSE",
            f"Subsystem sftp internal-sftp -d {self.home}",
        ]
        self.config.write_text("\n".join(lines) + "\n")
        # OpenSSH 9.8+ penalises a source address whose sessions crash or fail to log in; tests
        # do both on purpose (killed sessions, wrong keys) from 127.0.0.1, so switch it off there.
        if _supports(self.sshd_path, self.config, "PerSourcePenalties no"):
            with self.config.open("a") as config:
                config.write("PerSourcePenalties no\n")

    def start(self) -> None:
        """Start sshd (on a new free port unless one was chosen) and wait until it answers."""
        if self.process is not None:
            raise RuntimeError("sshd already running")
        last_error = ""
        for _attempt in range(5):
            if not self.port:
                self.port = _free_port()
            self._write_config()
            log = self.log.open("ab")
            self.process = subprocess.Popen(
                [self.sshd_path, "-D", "-e", "-f", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
            log.close()
            error = self._wait_ready()
            if error is None:
                return
            last_error = error
            self.stop()
            self.port = 0  # the port was taken meanwhile: try another
        raise RuntimeError(f"sshd did not start: {last_error}\n{self.log.read_text(errors='replace')[-2000:]}")

    def _wait_ready(self) -> str | None:
        assert self.process is not None
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"sshd exited with {self.process.returncode}"
            try:
                with socket.create_connection((self.host, self.port), timeout=1.0) as probe:
                    if probe.recv(64).startswith(b"SSH-"):
                        return None
            except OSError:
                time.sleep(0.02)
        return "no SSH banner within 10 s"

    def stop(self) -> None:
        """Stop sshd and every session process it started."""
        if self.process is None:
            return
        self.kill_sessions()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def restart(self) -> None:
        """Stop and start again on the same port (a new host key, a new configuration)."""
        port = self.port
        self.stop()
        self.port = port
        self.start()

    def regenerate_host_key(self) -> None:
        """Give the server a new host key (as if it had been reinstalled or impersonated)."""
        generate_key(self.host_key, comment="test-host-new")
        self.restart()

    def session_pids(self) -> list[int]:
        """The pids of the processes serving connections (every descendant of the listener)."""
        if self.process is None:
            return []
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    ppid = int(stat.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
        found: list[int] = []
        pending = [self.process.pid]
        while pending:
            for child in children.get(pending.pop(), []):
                found.append(child)
                pending.append(child)
        return found

    def kill_sessions(self) -> list[int]:
        """SIGKILL every session process: cuts every open connection, as a network failure would."""
        killed = []
        for pid in self.session_pids():
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except ProcessLookupError:
                continue
        return killed

    # -- for the gateway ------------------------------------------------------------
    def endpoint_fields(self, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments for an EndpointConfig that connects to this server."""
        fields: dict[str, Any] = dict(
            host=self.host,
            port=self.port,
            user=self.user,
            key_file=self.client_key,
            known_hosts=self.known_hosts,
            connect_timeout=10.0,
            op_timeout=10.0,
        )
        fields.update(overrides)
        return fields


def start_sshd(root: Path) -> SSHServer:
    """Prepare and start a server in ``root`` (a new folder); SSHDMissingError where none is installed."""
    path = find_sshd()
    if path is None or not shutil.which("ssh-keygen"):
        raise SSHDMissingError("sshd or ssh-keygen missing: run scripts/ensure-system-packages.sh")
    server = SSHServer(path, root)
    server.prepare()
    server.start()
    server.write_known_hosts()
    return server


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[SSHServer]:
    """A running sshd for one test, with ``known_hosts`` already holding its host key."""
    require_sshd()
    server = start_sshd(tmp_path / "sshd")
    try:
        yield server
    finally:
        server.stop()
