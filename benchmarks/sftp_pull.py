"""Pull (or push) a large file over SFTP from a local sshd: `gateway pull` beside OpenSSH's own `sftp`.

    PYTHONPATH=. .venv/bin/python benchmarks/sftp_pull.py [--size-mb 200] [--repeat 5] [--push]

Starts sshd on 127.0.0.1 exactly as the tests do (tests/support/sshd.py: its own host key, a
generated client key, internal-sftp), writes a random file of ``--size-mb`` MB (10^6
bytes) on the server side and a gateway configuration (the embedded default plus an
``[endpoints.bench]`` on that server), then, ``--repeat`` rounds, each round running in turn:

- ``gateway pull``: the whole command of this tree (benchmarks/measure.py ``gateway_command``:
  ``python -m gateway.entrypoints.cli pull bench --config … --spool …``, a fresh spool each
  time): interpreter start-up, imports, the configuration loaded and validated, host key
  verified against a known_hosts file, SHA-256 computed, fsynced, renamed into the inbox,
  recorded in the ledger — what an operator or a cron job waits for;
- ``transfer alone``: the same :class:`adapters.sftp.Puller` run in a subprocess that has
  already started and imported everything, timed around ``Puller.run()`` only (connect,
  login, download, hash, fsync, rename, record);
- ``openssh``: ``sftp -b <batch> -f -i KEY -o UserKnownHostsFile=... -P PORT`` (``-f``:
  fsync, like the gateway), a subprocess too, whole command.

With ``--push`` the same file goes the other way: `gateway push` (hashed while read, uploaded
under a hidden ``.part`` name, renamed, recorded, moved to ``sent/``) and the
:class:`adapters.sftp.Pusher` alone beside ``sftp put`` (without ``-f``: the Pusher does not
ask the server to fsync either). With ``--getfo`` (pull), once: paramiko's own
``getfo(max_concurrent_prefetch_requests=N)``, which the Puller does not use (adapters/sftp.py).

The rounds alternate the clients so that a machine whose speed drifts moves all of them
alike. Each figure is printed as min and median over the rounds; the ratios are OpenSSH's
wall time over the gateway's (above 1: the gateway is faster), round by round, then min
and median: the whole command against OpenSSH's whole command, and the transfer alone
against OpenSSH's whole command (which includes its own start-up, a few milliseconds).
Peak RSS is each subprocess's own, taken by GNU time (benchmarks/measure.py says why).
Every copy is checked against the source's SHA-256. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.baseline import line  # noqa: E402
from benchmarks.measure import gateway_command, run_measured  # noqa: E402
from spool.atomic import sha256_file  # noqa: E402

if TYPE_CHECKING:
    from tests.support.sshd import SSHServer


def _child(args: argparse.Namespace) -> None:
    """In the subprocess: one pull with the gateway's Puller; prints a JSON line."""
    from adapters.sftp import EndpointConfig, Puller
    from gateway.storage.transfers import TransferStore

    spec = json.loads(args.child)
    endpoint = EndpointConfig(**spec["endpoint"])
    inbox = Path(spec["inbox"])
    if spec.get("mode") == "push":
        from adapters.sftp import Pusher

        started = time.perf_counter()
        with TransferStore(Path(spec["ledger"])) as store:
            pushed = Pusher("bench", endpoint, outbox=inbox, store=store).run()
        seconds = time.perf_counter() - started
        (sent,) = pushed.pushed
        print(json.dumps({"seconds": seconds, "sha256": sent.sha256, "path": spec["remote_copy"]}))
        return
    if spec.get("mode") == "getfo":
        _child_getfo(endpoint, inbox)
        return
    started = time.perf_counter()
    with TransferStore(Path(spec["ledger"])) as store:
        result = Puller("bench", endpoint, inbox=inbox, store=store).run()
    seconds = time.perf_counter() - started
    (pulled,) = result.pulled
    print(json.dumps({"seconds": seconds, "sha256": pulled.sha256, "path": str(pulled.local_path)}))


def _child_getfo(endpoint: object, inbox: Path) -> None:
    """For comparison: paramiko's own ``getfo`` with its bounded prefetch (what the Puller avoids)."""
    from adapters.sftp import EndpointConfig, connect, disconnect

    assert isinstance(endpoint, EndpointConfig) and endpoint.remote_dir is not None
    target = inbox / "BIG.DAT"
    digest = hashlib.sha256()
    started = time.perf_counter()
    sftp = connect(endpoint)
    try:
        with open(target, "wb") as out:

            class Sink:
                def write(self, data: bytes) -> None:
                    out.write(data)
                    digest.update(data)

            sftp.getfo(
                f"{endpoint.remote_dir}/BIG.DAT", Sink(), max_concurrent_prefetch_requests=endpoint.prefetch_limit
            )
            out.flush()
            os.fsync(out.fileno())
    finally:
        disconnect(sftp)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "sha256": digest.hexdigest(), "path": str(target)}))


@dataclass
class Measure:
    label: str
    wall: float
    maxrss_kib: int
    inner: float | None = None


def _run_measured(command: list[str], **kwargs: object) -> tuple[float, int, str]:
    """Run a subprocess; (wall seconds, its own peak RSS in KiB, stdout) — see benchmarks/measure.py
    for why the peak RSS is taken by GNU time and not from this process's wait4."""
    wall, rss_mb, returncode, stdout, stderr = run_measured(command, **kwargs)
    if returncode != 0:
        raise SystemExit(f"{command[0]} failed ({returncode}):\n{stdout}\n{stderr}")
    return wall, int(rss_mb * 1024), stdout


def _config(server: SSHServer, source_dir: Path, pushed_to: Path) -> str:
    """The embedded default configuration with a ``bench`` destination and an endpoint on ``server``."""
    from gateway.config.settings import default_text

    def quoted(value: object) -> str:
        return json.dumps(str(value))  # a TOML basic string

    return default_text() + "\n".join(
        [
            "",
            "[destinations.bench]",
            'transport = "local"',
            'render = "debit-followup-csv"',
            "",
            "[endpoints.bench]",
            f"host = {quoted(server.host)}",
            f"port = {server.port}",
            f"user = {quoted(server.user)}",
            f"key_file = {quoted(server.client_key)}",
            f"known_hosts = {quoted(server.known_hosts)}",
            f"remote_dir = {quoted(source_dir)}",
            'channel = "zengin-91"',
            f"remote_out_dir = {quoted(pushed_to)}",
            'destination = "bench"',
            "op_timeout = 60.0",
            "",
        ]
    )


def _openssh(server: SSHServer, batch: Path, source: Path, target: Path, push: bool) -> list[str]:
    batch.write_text(f"put {source} {target}\n" if push else f"get {source} {target}\n")
    return [
        "sftp",
        "-q",
        "-b",
        str(batch),
        *([] if push else ["-f"]),
        "-F",
        "/dev/null",
        "-i",
        str(server.client_key),
        "-o",
        f"UserKnownHostsFile={server.known_hosts}",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-P",
        str(server.port),
        f"{server.user}@{server.host}",
    ]


def _min_median(values: list[float]) -> str:
    return f"{min(values):8.2f} {statistics.median(values):8.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=200, help="file size in MB (10^6 bytes)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (each client once a round); min and median shown")
    parser.add_argument(
        "--getfo",
        action="store_true",
        help="also time paramiko's getfo(max_concurrent_prefetch_requests=32), once (slow)",
    )
    parser.add_argument(
        "--push", action="store_true", help="measure pushes (`gateway push`, Pusher beside `sftp put`) instead of pulls"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    from tests.support.sshd import start_sshd

    size = args.size_mb * 1_000_000
    direction, verb = ("push", "put") if args.push else ("pull", "get")
    with tempfile.TemporaryDirectory(prefix="sftp-bench-") as scratch:
        work = Path(scratch)
        server = start_sshd(work / "sshd")
        try:
            source_dir = server.home / "out"
            source_dir.mkdir()
            pushed_to = server.home / "in"
            pushed_to.mkdir()
            source = source_dir / "BIG.DAT"
            with open(source, "wb") as f:
                left = size
                while left:
                    block = os.urandom(min(left, 1 << 20))
                    f.write(block)
                    left -= len(block)
            expected = sha256_file(source)
            config = work / "gateway.toml"
            config.write_text(_config(server, source_dir, pushed_to), encoding="utf-8")
            print(
                f"sshd {server.sshd_path} on 127.0.0.1:{server.port}; file {size / 1e6:.0f} MB; {direction}; "
                f"{args.repeat} rounds",
                flush=True,
            )
            endpoint_fields = {
                k: str(v) if isinstance(v, Path) else v
                for k, v in server.endpoint_fields(
                    remote_dir=str(source_dir), channel="zengin-91", remote_out_dir=str(pushed_to), destination="bench"
                ).items()
            }
            endpoint_fields["op_timeout"] = 60.0
            whole: list[Measure] = []
            alone: list[Measure] = []
            openssh: list[Measure] = []
            for attempt in range(args.repeat):
                # -- the whole `gateway pull` / `gateway push` command
                spool = work / f"spool-{attempt}"
                if args.push:
                    outbox = spool / "outbox" / "bench"
                    outbox.mkdir(parents=True)
                    os.link(source, outbox / "BIG.DAT")
                command, env = gateway_command(direction, "bench", "--config", str(config), "--spool", str(spool))
                wall, rss, out = _run_measured(command, cwd=str(ROOT), env=env)
                copy = pushed_to / "BIG.DAT" if args.push else spool / "inbox" / "zengin-91" / "BIG.DAT"
                if f"1 {direction}ed" not in out or sha256_file(copy) != expected:
                    raise SystemExit(f"gateway {direction}: the copy differs from the source\n{out}")
                copy.unlink()
                whole.append(Measure(f"gateway {direction} (whole command)", wall, rss))

                # -- the Puller / Pusher alone, in a process that has started already
                inbox = work / f"alone-{attempt}"
                inbox.mkdir()
                if args.push:
                    os.link(source, inbox / "BIG.DAT")
                spec = {
                    "endpoint": endpoint_fields,
                    "inbox": str(inbox),
                    "mode": direction,
                    "ledger": str(work / f"ledger-alone-{attempt}.sqlite3"),
                    "remote_copy": str(pushed_to / "BIG.DAT"),
                }
                wall, rss, out = _run_measured(
                    [sys.executable, __file__, "--child", json.dumps(spec)],
                    cwd=str(ROOT),
                    env={**os.environ, "PYTHONPATH": str(ROOT)},  # this tree's gateway
                )
                report = json.loads(out.strip().splitlines()[-1])
                if report["sha256"] != expected or sha256_file(Path(report["path"])) != expected:
                    raise SystemExit(f"{direction} alone: the copy differs from the source")
                Path(report["path"]).unlink()
                alone.append(Measure(f"{direction} alone (Puller/Pusher.run)", wall, rss, report["seconds"]))

                # -- OpenSSH's sftp, whole command
                target = pushed_to / f"openssh-{attempt}.DAT" if args.push else work / f"openssh-{attempt}.DAT"
                wall, rss, _ = _run_measured(_openssh(server, work / "batch", source, target, args.push))
                if sha256_file(target) != expected:
                    raise SystemExit("openssh: the copy differs from the source")
                target.unlink()
                openssh.append(Measure(f"openssh sftp {verb}", wall, rss))

            getfo: Measure | None = None
            if args.getfo and not args.push:
                inbox = work / "getfo"
                inbox.mkdir()
                spec = {"endpoint": endpoint_fields, "inbox": str(inbox), "mode": "getfo"}
                wall, rss, out = _run_measured(
                    [sys.executable, __file__, "--child", json.dumps(spec)],
                    cwd=str(ROOT),
                    env={**os.environ, "PYTHONPATH": str(ROOT)},
                )
                report = json.loads(out.strip().splitlines()[-1])
                if report["sha256"] != expected:
                    raise SystemExit("getfo: the copy differs from the source")
                getfo = Measure("paramiko getfo (whole process)", wall, rss, report["seconds"])
        finally:
            server.stop()

    mb = size / 1e6
    reference = statistics.median(m.wall for m in openssh)
    whole_ratio = [o.wall / g.wall for o, g in zip(openssh, whole, strict=True)]
    alone_ratio = [o.wall / g.inner for o, g in zip(openssh, alone, strict=True) if g.inner]
    print(
        line(
            f"sftp {direction}, gateway {direction} (whole command)",
            mb / statistics.median(m.wall for m in whole),
            "MB/s",
            mb / reference,
            f"vs OpenSSH sftp {verb}, whole command; medians",
        )
    )
    print(
        line(
            f"sftp {direction}, transfer alone ({'Pusher' if args.push else 'Puller'}.run)",
            mb / statistics.median(m.inner or m.wall for m in alone),
            "MB/s",
            mb / reference,
            f"vs OpenSSH sftp {verb}, whole command; medians",
        )
    )
    print(
        line(
            f"sftp {direction} peak RSS, gateway {direction}",
            statistics.median(m.maxrss_kib for m in whole) / 1024,
            "MB",
            statistics.median(m.maxrss_kib for m in openssh) / 1024,
        )
    )
    print()
    print(
        f"{'seconds over ' + str(args.repeat) + ' rounds':<44} {'min':>8} {'median':>8} {'MB/s (med)':>11} {'peak RSS MiB':>13}"
    )
    rows: list[tuple[str, list[float], list[int]]] = [
        (f"gateway {direction} (whole command)", [m.wall for m in whole], [m.maxrss_kib for m in whole]),
        (
            "  its start-up and the rest (whole - alone)",
            [w.wall - (a.inner or 0) for w, a in zip(whole, alone, strict=True)],
            [],
        ),
        (
            f"{direction} alone ({'Pusher' if args.push else 'Puller'}.run)",
            [m.inner or 0 for m in alone],
            [m.maxrss_kib for m in alone],
        ),
        (f"openssh sftp {verb} (whole command)", [m.wall for m in openssh], [m.maxrss_kib for m in openssh]),
    ]
    if getfo is not None:
        rows.append(("paramiko getfo, once (getfo alone)", [getfo.inner or getfo.wall], [getfo.maxrss_kib]))
    for label, seconds, rss in rows:
        rate = f"{mb / statistics.median(seconds):11.1f}" if "start-up" not in label else f"{'-':>11}"
        peak = f"{statistics.median(rss) / 1024:13.1f}" if rss else f"{'-':>13}"
        print(f"{label:<44} {_min_median(seconds)} {rate} {peak}")
    print()
    print(f"{'ratio to OpenSSH (its time / ours), round by round':<44} {'min':>8} {'median':>8}")
    print(f"{'gateway ' + direction + ' (whole command)':<44} {_min_median(whole_ratio)}")
    print(f"{'transfer alone':<44} {_min_median(alone_ratio)}")


if __name__ == "__main__":
    main()
