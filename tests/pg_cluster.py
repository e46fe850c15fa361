"""A throwaway PostgreSQL cluster for the tests: initdb + pg_ctl in a temp directory, a free port.

initdb refuses to run as root, so as root the cluster is created and run as the `postgres` user
(runuser), in a directory that user owns. The superuser `sheetsync` has a password (scram-sha-256
over TCP), so tests see a real credential in the URL and can check it is never shown.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from glob import glob
from pathlib import Path

PASSWORD = "pg-Secret-7x"  # a throwaway cluster's password, asserted absent from every output


def pg_bin() -> Path | None:
    """The directory of initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    candidates = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


@dataclass
class Cluster:
    port: int
    directory: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://sheetsync:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _owner() -> str:
    """Who runs the cluster when we are root: `postgres` (the Debian package's user), else `nobody`."""
    import pwd

    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "nobody"
    return "postgres"


def _as_owner(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", _owner(), "--", *argv]


@contextmanager
def running_cluster() -> Iterator[Cluster]:
    """Start a cluster; stop it and delete its files on exit. Raises RuntimeError if it cannot start."""
    bin_dir = pg_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (no initdb)")
    # /tmp: reachable by the cluster's user (TMPDIR may be root's own) and short (socket paths are limited)
    top = Path(tempfile.mkdtemp(prefix="sheetsync-pg-", dir="/tmp" if Path("/tmp").is_dir() else None))
    data, pwfile = top / "data", top / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(top, _owner())
        shutil.chown(pwfile, _owner())
    port = _free_port()
    try:
        _run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "sheetsync", f"--pwfile={pwfile}", "-A", "scram-sha-256",
             "-E", "UTF8", "--no-sync"]
        )  # fmt: skip
        options = f"-p {port} -k {top} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(top / "log"), "-w", "start"])
        try:
            yield Cluster(port, top)
        finally:
            _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], check=False)
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _run(argv: list[str], *, check: bool = True) -> None:
    done = subprocess.run(_as_owner(argv), capture_output=True, text=True, cwd="/")
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:1])} failed: {done.stderr.strip() or done.stdout.strip()}")
