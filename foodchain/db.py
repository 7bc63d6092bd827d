"""Opening the database: SQLite file by default, PostgreSQL by URL, schema migrated on open."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event, inspect, make_url, text
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from foodchain.errors import DatabaseError

logger = logging.getLogger(__name__)
DEFAULT_URL = "sqlite:///foodchain.db"
LOCK_WAIT_VAR = "FOODCHAIN_LOCK_WAIT_S"
DEFAULT_LOCK_WAIT_S = 180.0
"""How long a command waits for another foodchain writer (or a lock) before giving up."""
WRITERS_LOCK = 0x666F6F64
"""PostgreSQL advisory lock key ("food") that foodchain's writers take in turn."""
ENV_VAR = "FOODCHAIN_DB"
MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(url: str | None = None) -> str:
    """``--db`` wins, then ``FOODCHAIN_DB``, then ``foodchain.db`` in the working directory.
    A plain file path (``plans.db``, ``~/hub/foodchain.db``) is a SQLite file."""
    chosen = url or os.environ.get(ENV_VAR) or DEFAULT_URL
    if "://" not in chosen and not chosen.startswith("sqlite:"):
        return f"sqlite:///{Path(chosen).expanduser().resolve()}"
    return chosen


def sqlite_file(url: str | None = None) -> Path | None:
    """The file of a SQLite database URL (None for a server or an in-memory database)."""
    try:
        parsed = make_url(database_url(url))
    except ArgumentError:
        return None
    database = parsed.database or ""
    if parsed.query.get("uri") in ("true", "1") and database.startswith("file:"):
        database = database.removeprefix("file:")  # sqlite:///file:PATH?mode=ro&uri=true
    if not parsed.drivername.startswith("sqlite") or database in ("", ":memory:"):
        return None
    return Path(database).expanduser().resolve()


def describe_database(url: str | None = None) -> str:
    """Which database a command uses, as people can find it: a SQLite file's full path, or
    the server URL without its password."""
    path = sqlite_file(url)
    return str(path) if path is not None else shown_url(url)


def shown_url(url: str | None = None) -> str:
    """The database URL as it may be printed: without its password."""
    try:
        return make_url(database_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unreadable URL)"


def _alembic_config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def lock_wait_s() -> float:
    """``FOODCHAIN_LOCK_WAIT_S`` seconds (default ``DEFAULT_LOCK_WAIT_S``)."""
    text_value = os.environ.get(LOCK_WAIT_VAR, "")
    try:
        seconds = float(text_value) if text_value else DEFAULT_LOCK_WAIT_S
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 86_400:
        raise DatabaseError(
            f"{LOCK_WAIT_VAR}={text_value!r}: give the seconds to wait for a busy database "
            "(above 0, at most 86400)"
        )
    return seconds


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with SQLite's foreign keys on; ``sqlite://`` stays in memory.
    Waiting for a lock another command holds ends after ``lock_wait_s`` on both backends."""
    wait = lock_wait_s()
    try:
        if url.startswith("sqlite"):
            kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": wait}}
            if url in ("sqlite://", "sqlite:///:memory:"):
                kwargs["poolclass"] = StaticPool
            engine = create_engine(url, **kwargs)
            event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        else:
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            options = f"-c lock_timeout={round(wait * 1000)}"
            engine = create_engine(url, pool_pre_ping=True, connect_args={"options": options})
    except (ArgumentError, ModuleNotFoundError, ImportError) as exc:
        raise DatabaseError(
            f"cannot use database URL {shown_url(url)}: {exc}. Use sqlite:///FILE.db or "
            "postgresql://USER@HOST/DB (install the 'postgres' extra for PostgreSQL)"
        ) from exc
    return engine


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the latest by default; creates it when empty).

    Two processes opening a new database at once take turns (see ``_take_writers_lock``): the
    second finds the schema made instead of failing half-way through creating it."""
    try:
        if revision == "head" and schema_revision(engine) == head_revision():
            return
        from alembic import command

        cfg = _alembic_config()
        with engine.begin() as connection:
            _take_writers_lock(connection)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    except OperationalError as exc:
        raise DatabaseError(f"cannot open or upgrade the database: {describe_fault(exc)}") from exc


_FAULTS = (
    (
        ("readonly database", "read-only", "read only"),
        "the database is read-only (file rights, a read-only disk or mount). Fix: check the "
        "rights of the database file and its folder, or use another --db",
    ),
    (
        ("database is locked", "lock timeout", "deadlock"),
        "another command kept the database busy for more than {wait:g} s. Fix: run again "
        f"once it is done ({LOCK_WAIT_VAR} sets how long to wait)",
    ),
    (
        ("disk is full", "no space left", "disk full", "could not extend file"),
        "the disk holding the database is full; nothing was saved. Fix: free some space, "
        "then run again",
    ),
    (
        ("file is not a database", "malformed", "not a database"),
        "the database file is damaged or is not a foodchain database. Fix: restore a backup, "
        "or give another --db",
    ),
    (
        ("unable to open database file",),
        "cannot open the database file (its folder is missing or not writable). Fix: check "
        "the path given to --db",
    ),
    (
        ("connection refused", "could not connect", "connection failed", "timeout expired"),
        "cannot reach the database server. Fix: check that it runs and the URL given to --db",
    ),
)


def describe_fault(exc: BaseException) -> str:
    """What a database error means for the person running the command, and the fix: the
    driver's own words only when nothing better is known, never the SQL statement."""
    cause = getattr(exc, "orig", None) or exc
    words = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    lowered = str(cause).lower()
    for needles, message in _FAULTS:
        if any(needle in lowered for needle in needles):
            return message.format(wait=lock_wait_s())
    return f"the database refused the operation ({words[:200]})"


def schema_revision(engine: Engine) -> str | None:
    """The schema's migration revision, None for an empty database (read with plain SQL:
    alembic is loaded only to migrate, which keeps every other command's start-up light)."""
    with engine.connect() as connection:
        if "alembic_version" not in inspect(connection).get_table_names():
            return None
        found = connection.execute(text("select version_num from alembic_version")).scalar()
    return str(found) if found is not None else None


def head_revision() -> str | None:
    """The newest migration. Migrations form a line and each file is named after its
    revision, ``NNNN_what.py`` (tests/test_db.py checks that alembic reads the same head)."""
    names = sorted(p.name[:4] for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    return names[-1] if names else None


NO_DATABASE_FIX = (
    "Fix: create it with 'foodchain init --scenario lensois' (or your scenario's YAML), or "
    "give the database you use with --db PATH or the FOODCHAIN_DB environment variable "
    "(commands use foodchain.db in the working folder by default)"
)


def open_database(url: str | None = None, create: bool = True) -> Engine:
    """The engine for the configured database, with its schema upgraded to the latest.

    Without ``create``, a database that does not exist or holds no scenario is refused:
    a command run from the wrong folder must not work on a new empty file and report
    "no runs" or "unknown farm" as if that were the coordinator's data."""
    full_url = database_url(url)
    if not create:
        path = sqlite_file(full_url)
        if path is not None and not path.exists():
            raise DatabaseError(f"there is no foodchain database at {path}. {NO_DATABASE_FIX}")
    engine = make_engine(full_url)
    if not create and not _holds_scenario(engine):
        raise DatabaseError(
            f"the database {describe_database(full_url)} holds no foodchain scenario. "
            + NO_DATABASE_FIX
        )
    upgrade(engine)
    return engine


def _holds_scenario(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            if "setting" not in inspect(connection).get_table_names():
                return False
            found = connection.execute(
                text("select count(*) from setting where key = 'scenario'")
            ).scalar()
    except OperationalError as exc:
        raise DatabaseError(f"cannot open the database: {describe_fault(exc)}") from exc
    return bool(found)


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work is committed together at the end, or not at all.

    Objects stay readable after the commit: callers use them as plain domain values."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _take_writers_lock(connection: Connection) -> None:
    """Make this transaction wait for other foodchain writers, then go alone until it ends.

    Writers read what is stored, then write the difference; two at once would both read
    "not there yet". SQLite: ``BEGIN IMMEDIATE`` takes the write lock at the start (a deferred
    transaction that read first fails when it needs the lock another writer holds; waiting
    here is bounded by ``lock_wait_s``). PostgreSQL: a transaction-level
    advisory lock; statements after it see what the previous writer committed.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {QUICK_TRY_MS}")
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except OperationalError as exc:
            if "locked" not in str(exc.orig).lower():
                raise
            _say_waiting()
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {round(lock_wait_s() * 1000)}")
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        finally:
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {round(lock_wait_s() * 1000)}")
    elif connection.dialect.name == "postgresql":
        taken = connection.execute(
            text("select pg_try_advisory_xact_lock(:key)"), {"key": WRITERS_LOCK}
        ).scalar()
        if not taken:
            _say_waiting()
            connection.execute(text("select pg_advisory_xact_lock(:key)"), {"key": WRITERS_LOCK})


QUICK_TRY_MS = 200
"""How long a writer tries for the lock before it says that it waits."""


def _say_waiting() -> None:
    """A warning (on standard error, unless the caller's logging says otherwise): the
    library does not print, but nobody should wait minutes without a word."""
    logger.warning(
        "Waiting for another foodchain command to finish writing (up to %.0f s, %s)...",
        lock_wait_s(),
        LOCK_WAIT_VAR,
    )


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Session]:
    """A ``transaction`` for a writer that reads before it writes; writers take turns."""
    with transaction(engine) as session:
        _take_writers_lock(session.connection())
        yield session


@contextmanager
def consistent_read(engine: Engine) -> Iterator[Session]:
    """A read-only session that sees the database as it was at one moment, however long it reads.

    Without it, PostgreSQL's default isolation (READ COMMITTED) gives each statement its own
    view, and the SQLite driver starts no transaction for SELECTs: an import committed half-way
    through would reach a plan half. Here PostgreSQL reads under REPEATABLE READ; SQLite holds
    a read transaction (a writer waits for it, within the driver's busy timeout).
    """
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        with Session(bind=connection, expire_on_commit=False) as session:
            if engine.dialect.name == "sqlite":
                session.connection().exec_driver_sql("BEGIN")
            yield session
        # Closing the connection ends the read transaction; loaded objects stay readable.
