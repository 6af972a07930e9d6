"""A throw-away PostgreSQL cluster: initdb + pg_ctl on a free port.

initdb refuses to run as root, so when this process is root the cluster is
created and run as the ``postgres`` user.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from shared.localinfra.ports import free_port, wait_for_port


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if candidates:
        return candidates[0]
    raise FileNotFoundError(f"PostgreSQL binary {name!r} not found (install PostgreSQL 15 server binaries)")


@dataclass
class PostgresCluster:
    port: int = 0
    data_dir: Path | None = None
    user: str = "postgres"

    def _run_as(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        return ["runuser", "-u", "postgres", "--"]

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(path, entry.pw_uid, entry.pw_gid)

    @property
    def base_url(self) -> str:
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}"

    def url(self, database: str) -> str:
        return f"{self.base_url}/{database}"

    def start(self, timeout: float = 60.0) -> PostgresCluster:
        try:
            return self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout: float) -> PostgresCluster:
        self.port = self.port or free_port()
        root = Path(tempfile.mkdtemp(prefix="send-pg-"))
        self.data_dir = root / "data"
        os.chmod(root, 0o755)
        self._chown(root)
        subprocess.run(
            [*self._run_as(), _binary("initdb"), "-D", str(self.data_dir), "-U", self.user, "-A", "trust",
             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        )
        self._pg_ctl_start(timeout=timeout)
        return self

    def _options(self) -> str:
        assert self.data_dir is not None
        root = self.data_dir.parent
        return (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root} -c fsync=off"
                " -c max_connections=300")

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        assert self.data_dir is not None
        subprocess.run([*self._run_as(), _binary("pg_ctl"), "-D", str(self.data_dir), *args],
                       check=check, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _pg_ctl_start(self, *, timeout: float, extra: str = "", wait: bool = True) -> None:
        assert self.data_dir is not None
        self._pg_ctl("-l", str(self.data_dir.parent / "server.log"), "-o", f"{self._options()} {extra}".strip(),
                     *(["-w", "-t", str(int(timeout))] if wait else ["-W"]), "start")
        wait_for_port("127.0.0.1", self.port, timeout=timeout, what="PostgreSQL")

    # Outages on purpose, for tests of what a service does while its database is unavailable.

    def shut_down(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: sessions are terminated with 57P01); start it again with ``start_again``."""
        self._pg_ctl("-m", mode, "-w", "stop")

    def begin_smart_shutdown(self) -> None:
        """Ask for a smart shutdown and return at once: open sessions go on, new connections are refused with
        57P03 ("the database system is shutting down") until the last session ends and the server stops."""
        self._pg_ctl("-m", "smart", "-W", "stop")

    def wait_stopped(self, timeout: float = 60.0) -> None:
        self._pg_ctl("-m", "smart", "-w", "-t", str(int(timeout)), "stop", check=False)

    def start_again(self, timeout: float = 60.0) -> None:
        self._pg_ctl_start(timeout=timeout)

    def hold_in_recovery(self, timeout: float = 60.0) -> None:
        """Restart as a standby with hot standby off, as a failover target before promotion: every
        connection is refused with 57P03 ("the database system is not accepting connections")."""
        assert self.data_dir is not None
        self.shut_down()
        signal = self.data_dir / "standby.signal"
        signal.touch()
        self._chown(signal)
        self._pg_ctl_start(timeout=timeout, extra="-c hot_standby=off", wait=False)

    def promote(self, timeout: float = 60.0) -> None:
        """End the recovery that ``hold_in_recovery`` began: the server accepts connections again."""
        assert self.data_dir is not None
        self.shut_down()
        (self.data_dir / "standby.signal").unlink(missing_ok=True)
        self._pg_ctl_start(timeout=timeout)

    def create_database(self, name: str) -> str:
        return create_database_at(self.url("postgres"), name)

    def stop(self) -> None:
        if self.data_dir is None:
            return
        self._pg_ctl("-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)
        self.data_dir = None


def create_database_at(admin_url: str, name: str) -> str:
    """Create database ``name`` on the server of ``admin_url`` and return its URL."""

    async def create() -> None:
        connection = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    with ThreadPoolExecutor(1) as pool:  # callable from inside or outside a running event loop
        pool.submit(asyncio.run, create()).result()
    return f"{admin_url.rsplit('/', 1)[0]}/{name}"
