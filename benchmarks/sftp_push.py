"""Push a large file over SFTP to a local sshd: the gateway's pusher beside OpenSSH's own `sftp`.

    PYTHONPATH=. .venv/bin/python benchmarks/sftp_push.py [--size-mb 200] [--repeat 3]

Starts sshd on 127.0.0.1 exactly as the tests do (tests/support/sshd.py), writes a random
file of ``--size-mb`` MB (10^6 bytes) on the gateway's side, then sends it, ``--repeat``
times each, the best kept:

- ``gateway``: :class:`adapters.sftp.Pusher` from an outbox folder, in a subprocess (host key
  verified, SHA-256 computed before and while sending, written under a temporary remote
  name and renamed into place, recorded in a ledger file, moved to ``sent/``);
- ``openssh``: ``sftp -b <batch> -i KEY -o UserKnownHostsFile=... -P PORT`` with ``put``
  (no ``-f``: the gateway does not ask the server to fsync either), a subprocess too.

Throughput is the file's size over the subprocess's wall time (start-up and login included,
for both); OpenSSH is the baseline. Peak RSS is each subprocess's own, taken by GNU time
(benchmarks/measure.py says why). Every copy that arrives is checked against the source's SHA-256.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.baseline import line  # noqa: E402
from benchmarks.sftp_pull import Measure, _run_measured  # noqa: E402
from spool.atomic import sha256_file  # noqa: E402


def _child(args: argparse.Namespace) -> None:
    """In the subprocess: one push run with the gateway's Pusher; prints a JSON line."""
    from adapters.sftp import EndpointConfig, Pusher
    from gateway.storage.transfers import TransferStore

    spec = json.loads(args.child)
    endpoint = EndpointConfig(**spec["endpoint"])
    started = time.perf_counter()
    with TransferStore(Path(spec["ledger"])) as store:
        result = Pusher("bench", endpoint, outbox=Path(spec["outbox"]), store=store).run()
    seconds = time.perf_counter() - started
    (pushed,) = result.pushed
    print(json.dumps({"seconds": seconds, "remote_path": pushed.remote_path}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=200, help="file size in MB (10^6 bytes)")
    parser.add_argument("--repeat", type=int, default=3, help="pushes per client; the best is reported")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    from tests.support.sshd import start_sshd

    size = args.size_mb * 1_000_000
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory(prefix="sftp-bench-") as scratch:
        work = Path(scratch)
        server = start_sshd(work / "sshd")
        try:
            remote = server.home / "in"
            remote.mkdir()
            source = work / "BIG.DAT"
            with open(source, "wb") as f:
                left = size
                while left:
                    block = os.urandom(min(left, 1 << 20))
                    f.write(block)
                    left -= len(block)
            expected = sha256_file(source)
            print(
                f"# sftp push: sshd {server.sshd_path} on 127.0.0.1:{server.port}; file {size / 1e6:.0f} MB; "
                f"best of {args.repeat}",
                flush=True,
            )

            best: Measure | None = None
            for attempt in range(args.repeat):
                outbox = work / f"outbox-{attempt}"
                outbox.mkdir()
                shutil.copyfile(source, outbox / "BIG.DAT")
                fields = server.endpoint_fields(remote_out_dir=str(remote), destination="bench")
                spec = {
                    "endpoint": {
                        **{k: str(v) if isinstance(v, Path) else v for k, v in fields.items()},
                        "op_timeout": 60.0,
                    },
                    "outbox": str(outbox),
                    "ledger": str(work / f"ledger-{attempt}.sqlite3"),
                }
                wall, rss, out = _run_measured(
                    [sys.executable, __file__, "--child", json.dumps(spec)], cwd=str(ROOT), env=env
                )
                report = json.loads(out.strip().splitlines()[-1])
                arrived = Path(report["remote_path"])
                if sha256_file(arrived) != expected:
                    raise SystemExit("gateway: the pushed copy differs from the source")
                arrived.unlink()
                shutil.rmtree(outbox)
                measure = Measure("gateway Pusher (paramiko putfo)", wall, rss, report["seconds"])
                if best is None or measure.wall < best.wall:
                    best = measure
            assert best is not None
            gateway = best

            batch = work / "batch"
            best = None
            for attempt in range(args.repeat):
                target = remote / f"openssh-{attempt}.DAT"
                batch.write_text(f"put {source} {target}\n")
                command = [
                    "sftp",
                    "-q",
                    "-b",
                    str(batch),
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
                    raise SystemExit("openssh: the pushed copy differs from the source")
                target.unlink()
                measure = Measure("openssh sftp put", wall, rss)
                if best is None or measure.wall < best.wall:
                    best = measure
            assert best is not None
            openssh = best
        finally:
            server.stop()

    mb = size / 1e6
    print(
        line(
            "sftp push, gateway vs OpenSSH", mb / gateway.wall, "MB/s", mb / openssh.wall, f"{gateway.wall:.2f} s wall"
        )
    )
    assert gateway.inner is not None
    print(
        line(
            "sftp push, gateway transfer alone",
            mb / gateway.inner,
            "MB/s",
            mb / openssh.wall,
            "no interpreter start-up; OpenSSH's figure includes its start-up",
        )
    )
    print(line("sftp push peak RSS, gateway vs OpenSSH", gateway.maxrss_kib / 1024, "MB", openssh.maxrss_kib / 1024))


if __name__ == "__main__":
    main()
