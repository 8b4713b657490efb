"""A real MariaDB server for the tests: Debian's mariadb-server (tools/setup --test), its
own datadir in a temp folder, on a free port and a socket there, no systemd; as root too.

`MariaDb(folder)` makes the datadir (mariadb-install-db) once; start() runs mariadbd and
waits until it answers; stop() shuts it down (the data stays, start() again serves it);
url() is the SQLAlchemy URL of a fresh database for one test (a user with a password).
"""
from __future__ import annotations

import itertools
import shutil
import subprocess
import time
from pathlib import Path

from mqtt_helpers import free_port

PASSWORD = "twcm-test"


def _tool(name: str) -> str | None:
    return shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}")
                                       if Path(p).exists()), None)


def available() -> bool:
    return all(_tool(n) for n in ("mariadbd", "mariadb-install-db", "mariadb-admin", "mariadb"))


class MariaDb:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.socket = folder / "mysql.sock"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self._names = itertools.count(1)
        subprocess.run([_tool("mariadb-install-db"), "--user=root", f"--datadir={self.data}",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [_tool("mariadbd"), "--no-defaults", "--user=root", f"--datadir={self.data}",
             f"--socket={self.socket}", f"--port={self.port}", "--bind-address=127.0.0.1",
             f"--pid-file={self.folder / 'mariadbd.pid'}", "--skip-log-bin",
             "--innodb-buffer-pool-size=32M", f"--log-error={self.folder / 'err.log'}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while subprocess.run([_tool("mariadb-admin"), f"--socket={self.socket}", "-uroot",
                              "ping"], capture_output=True).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "err.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"mariadbd did not start:\n{log}")
            time.sleep(0.05)

    def sql(self, statements: str) -> None:
        subprocess.run([_tool("mariadb"), f"--socket={self.socket}", "-uroot", "-e",
                        statements], check=True, capture_output=True)

    def url(self) -> str:
        """A new, empty database and a user that may use it, as a SQLAlchemy URL."""
        name = f"twcm{next(self._names)}"
        self.sql(f"CREATE DATABASE {name}; CREATE USER IF NOT EXISTS 'twcm'@'127.0.0.1' "
                 f"IDENTIFIED BY '{PASSWORD}'; GRANT ALL ON {name}.* TO 'twcm'@'127.0.0.1';")
        return f"mysql+pymysql://twcm:{PASSWORD}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.proc is None:
            return
        subprocess.run([_tool("mariadb-admin"), f"--socket={self.socket}", "-uroot",
                        "shutdown"], capture_output=True)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
