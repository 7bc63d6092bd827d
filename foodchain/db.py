"""Opening the database: SQLite file by default, PostgreSQL by URL, schema migrated on open."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, inspect, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from foodchain.errors import DatabaseError

DEFAULT_URL = "sqlite:///foodchain.db"
ENV_VAR = "FOODCHAIN_DB"
MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(url: str | None = None) -> str:
    """``--db`` wins, then ``FOODCHAIN_DB``, then ``foodchain.db`` in the working directory."""
    return url or os.environ.get(ENV_VAR) or DEFAULT_URL


def shown_url(url: str | None = None) -> str:
    """The database URL as it may be printed: without its password."""
    try:
        return make_url(database_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unreadable URL)"


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with SQLite's foreign keys on; ``sqlite://`` stays in memory."""
    try:
        if url.startswith("sqlite"):
            kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
            if url in ("sqlite://", "sqlite:///:memory:"):
                kwargs["poolclass"] = StaticPool
            engine = create_engine(url, **kwargs)
            event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        else:
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            engine = create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ModuleNotFoundError, ImportError) as exc:
        raise DatabaseError(
            f"cannot use database URL {shown_url(url)}: {exc}. Use sqlite:///FILE.db or "
            "postgresql://USER@HOST/DB (install the 'postgres' extra for PostgreSQL)"
        ) from exc
    return engine


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the latest by default; creates it when empty)."""
    cfg = _alembic_config()
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    except OperationalError as exc:
        raise DatabaseError(f"cannot open or upgrade the database: {exc.orig}") from exc


def schema_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def open_database(url: str | None = None) -> Engine:
    """The engine for the configured database, with its schema upgraded to the latest."""
    engine = make_engine(database_url(url))
    upgrade(engine)
    return engine


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
