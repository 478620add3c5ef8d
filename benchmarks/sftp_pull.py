"""Pull a large file over SFTP from a local sshd: the gateway's puller beside OpenSSH's own `sftp`.

    PYTHONPATH=. .venv/bin/python benchmarks/sftp_pull.py [--size-mb 200] [--repeat 3] [--push]

Starts sshd on 127.0.0.1 exactly as the tests do (tests/support/sshd.py: its own host key, a
generated client key, internal-sftp), writes a random file of ``--size-mb`` MB (10^6
bytes) on the server side, then fetches it, ``--repeat`` times each:

- ``gateway``: the gateway's :class:`adapters.sftp.Puller` into a spool inbox, in a
  subprocess (host key verified against a known_hosts file, SHA-256 computed, fsynced,
  renamed into the inbox, recorded in a ledger file) — with the endpoint's default
  ``read_size``/``prefetch_limit``, and once more with larger read requests;
- with ``--getfo``, once: paramiko's own ``getfo(max_concurrent_prefetch_requests=64)``,
  which the Puller does not use (see adapters/sftp.py);
- ``openssh``: ``sftp -b <batch> -f -i KEY -o UserKnownHostsFile=... -P PORT`` (``-f``:
  fsync, like the gateway), a subprocess too.

With ``--push`` the same file goes the other way: the gateway's :class:`adapters.sftp.Pusher`
(hashed while read, uploaded under a hidden ``.part`` name, renamed, recorded) beside
``sftp put`` (without ``-f``: the Pusher does not ask the server to fsync either).

Throughput is the file's size over the subprocess's wall time (start-up and login
included, for both); the gateway's own pull time (without the interpreter's start-up)
is shown beside it. Peak RSS is the subprocess's own, taken by GNU time (benchmarks/measure.py says why).
Each fetched copy is checked against the source's SHA-256. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.baseline import line  # noqa: E402
from benchmarks.measure import run_measured  # noqa: E402
from spool.atomic import sha256_file  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=200, help="file size in MB (10^6 bytes)")
    parser.add_argument("--repeat", type=int, default=3, help="fetches per client; the best is reported")
    parser.add_argument(
        "--getfo",
        action="store_true",
        help="also time paramiko's getfo(max_concurrent_prefetch_requests=64), once (slow)",
    )
    parser.add_argument(
        "--push", action="store_true", help="measure pushes (Pusher beside `sftp put`) instead of pulls"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    from tests.support.sshd import start_sshd

    size = args.size_mb * 1_000_000
    with tempfile.TemporaryDirectory(prefix="sftp-bench-") as scratch:
        work = Path(scratch)
        server = start_sshd(work / "sshd")
        try:
            source_dir = server.home / "out"
            source_dir.mkdir()
            source = source_dir / "BIG.DAT"
            with open(source, "wb") as f:
                left = size
                while left:
                    block = os.urandom(min(left, 1 << 20))
                    f.write(block)
                    left -= len(block)
            expected = sha256_file(source)
            print(
                f"sshd {server.sshd_path} on 127.0.0.1:{server.port}; file {size / 1e6:.0f} MB; best of {args.repeat}",
                flush=True,
            )

            results: list[Measure] = []
            variants: list[tuple[str, dict[str, object], int]] = [
                ("gateway (defaults)", {}, args.repeat),
                ("gateway (read_size 32 KiB x 64)", {"read_size": 32768, "prefetch_limit": 64}, args.repeat),
            ]
            if args.push:
                variants = [("gateway push (defaults)", {"mode": "push"}, args.repeat)]
                pushed_to = server.home / "in"
                pushed_to.mkdir()
            if args.getfo and not args.push:
                variants.append(("paramiko getfo, 64 requests", {"mode": "getfo"}, 1))
            for label, tuning, repeat in variants:
                best: Measure | None = None
                mode = tuning.pop("mode", "puller")
                for attempt in range(repeat):
                    inbox = work / f"inbox-{len(results)}-{attempt}"
                    inbox.mkdir()
                    where: dict[str, object] = {"remote_dir": str(source_dir), "channel": "bench"}
                    if mode == "push":  # the outbox holds a link to the source file
                        os.link(source, inbox / "BIG.DAT")
                        where = {"remote_out_dir": str(pushed_to), "destination": "bench"}
                    spec = {
                        "endpoint": {
                            **{
                                k: str(v) if isinstance(v, Path) else v
                                for k, v in server.endpoint_fields(**where).items()
                            },
                            "op_timeout": 60.0,
                            **tuning,
                        },
                        "inbox": str(inbox),
                        "mode": mode,
                        "ledger": str(inbox.parent / f"ledger-{len(results)}-{attempt}.sqlite3"),
                        "remote_copy": str(server.home / "in" / "BIG.DAT"),
                    }
                    wall, rss, out = _run_measured(
                        [sys.executable, __file__, "--child", json.dumps(spec)],
                        cwd=str(ROOT),
                        env={**os.environ, "PYTHONPATH": str(ROOT)},  # this tree's gateway
                    )
                    report = json.loads(out.strip().splitlines()[-1])
                    if report["sha256"] != expected or sha256_file(Path(report["path"])) != expected:
                        raise SystemExit("gateway: the copy differs from the source")
                    Path(report["path"]).unlink()
                    measure = Measure(label, wall, rss, report["seconds"])
                    if best is None or measure.wall < best.wall:
                        best = measure
                assert best is not None
                results.append(best)

            batch = work / "batch"
            best = None
            for attempt in range(args.repeat):
                target = work / f"openssh-{attempt}.DAT"
                if args.push:
                    target = server.home / "in" / f"openssh-{attempt}.DAT"
                batch.write_text(f"put {source} {target}\n" if args.push else f"get {source} {target}\n")
                command = [
                    "sftp",
                    "-q",
                    "-b",
                    str(batch),
                    *([] if args.push else ["-f"]),
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
                wall, rss, _ = _run_measured(command)
                if sha256_file(target) != expected:
                    raise SystemExit("openssh: the fetched copy differs from the source")
                target.unlink()
                measure = Measure("openssh sftp", wall, rss)
                if best is None or measure.wall < best.wall:
                    best = measure
            assert best is not None
            results.append(best)
        finally:
            server.stop()

    reference = results[-1]
    mb = size / 1e6
    direction, verb = ("push", "put") if args.push else ("pull", "get")
    for measure in results[:-1]:
        print(
            line(
                f"sftp {direction}, {measure.label}",
                mb / measure.wall,
                "MB/s",
                mb / reference.wall,
                f"vs OpenSSH sftp {verb}",
            )
        )
        if measure.inner:
            print(
                line(
                    f"sftp {direction}, {measure.label}, transfer alone",
                    mb / measure.inner,
                    "MB/s",
                    mb / reference.wall,
                    "no interpreter start-up",
                )
            )
        print(
            line(
                f"sftp {direction} peak RSS, {measure.label}",
                measure.maxrss_kib / 1024,
                "MB",
                reference.maxrss_kib / 1024,
            )
        )
    print(f"{'client':<34} {'MB/s':>8} {'wall s':>8} {'run s':>8} {'peak RSS MiB':>13} {'vs openssh':>11}")
    for measure in results:
        rate = size / 1e6 / measure.wall
        inner = f"{measure.inner:8.2f}" if measure.inner is not None else f"{'-':>8}"
        print(
            f"{measure.label:<34} {rate:8.1f} {measure.wall:8.2f} {inner} {measure.maxrss_kib / 1024:13.1f} "
            f"{reference.wall / measure.wall:10.2f}x"
        )
    for measure in results[:-1]:
        if measure.inner:
            print(
                f"{measure.label}: {reference.wall / measure.wall:.2f} of OpenSSH's throughput; "
                f"the transfer alone (no start-up) {size / 1e6 / measure.inner:.1f} MB/s, "
                f"{reference.wall / measure.inner:.2f} of OpenSSH's (whose time includes its start-up)"
            )


if __name__ == "__main__":
    main()
