"""A throwaway PostgreSQL cluster: initdb into a temporary directory, a free port on 127.0.0.1,
the unix socket beside the data, durability off. The test fixtures and the benchmarks that need
PostgreSQL without being given a server start one of these; on any server (this one or one they
are given) they work in scratch databases, created and dropped around their work.

When run as root it runs the server as ``postgres``, since initdb refuses to run as root.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from lotlink.errors import DatabaseError, ToolchainMissingError

SUPERUSER = "lotlink"

MISSING_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin "
    "or on PATH: install Debian's `postgresql` package"
)


def find_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin holding initdb and pg_ctl, else one on PATH."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """A PostgreSQL cluster in a temporary directory; `start` returns its superuser URL."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="lotlink-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self._owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                self._owner = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.root, ignore_errors=True)
                raise DatabaseError(
                    url="postgresql://(throwaway cluster)",
                    reason="running as root, but there is no `postgres` user to run PostgreSQL",
                ) from None
            os.chown(self.root, self._owner.pw_uid, self._owner.pw_gid)

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self._owner is not None:
            command = ["runuser", "-u", self._owner.pw_name, "--", *command]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=self.root
        )

    def _log_tail(self) -> str:
        try:
            return " | ".join(self.log.read_text().splitlines()[-5:])
        except OSError:
            return "(no server log)"

    def _failed(self, reason: str) -> DatabaseError:
        """The error to raise for a cluster that would not start, its directory removed."""
        error = DatabaseError(url=f"postgresql://(throwaway cluster in {self.root})", reason=reason)
        self.stop()
        return error

    def start(self) -> str:
        initdb = self._run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        if initdb.returncode != 0:
            raise self._failed(f"initdb failed: {initdb.stderr.strip() or initdb.stdout.strip()}")
        # A port picked free can be taken before the server binds it; try a few.
        for _attempt in range(3):
            self.port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200"
            )
            started = self._run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                "-w", "-t", "60", "start",
            )  # fmt: skip
            if started.returncode == 0:
                return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/postgres"
        raise self._failed(
            f"the server did not start (pg_ctl: {started.stderr.strip()}); {self._log_tail()}"
        )

    def stop(self) -> None:
        """Stops the server, if it runs, and removes the cluster's directory."""
        if self.data.exists() and self.port:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """A fresh cluster for the block's duration; yields its superuser URL (``postgres``
    database). ToolchainMissingError without PostgreSQL's server binaries."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise ToolchainMissingError(tool="PostgreSQL", hint=MISSING_HINT)
    cluster = Cluster(bin_dir)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def admin_execute(url: str, *statements: str) -> None:
    """Runs statements that cannot run in a transaction (CREATE/DROP DATABASE) on `url`."""
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


@contextmanager
def scratch_database(
    server_url: str, *, template: str | None = None, prefix: str = "lotlink_scratch"
) -> Iterator[str]:
    """A new database on the server `server_url` reaches (a copy of `template` if named);
    yields its URL, drops it on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    admin_execute(server_url, f'CREATE DATABASE "{name}"{clause}')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        # FORCE (PostgreSQL 13+) ends sessions left open, so teardown never hangs on them.
        admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
