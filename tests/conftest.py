"""Shared fixtures: databases (SQLite, and PostgreSQL when FOODCHAIN_TEST_PG is set), scenarios, CLI."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from typer.testing import CliRunner

from foodchain.cli import app
from foodchain.db import open_database
from foodchain.scenario import Scenario, install_scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
TINY = SCENARIOS / "tiny.yaml"
LENSOIS = SCENARIOS / "lensois.yaml"
DATA = Path(__file__).resolve().parent / "data"
PG_TEST = os.environ.get("FOODCHAIN_TEST_PG")
"""When set (``.ci/run`` sets it), every database test runs on SQLite and on this PostgreSQL."""
PG_ADMIN = PG_TEST or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["sqlite", "postgresql"] if PG_TEST else ["sqlite"]


@pytest.fixture(scope="session")
def tiny() -> Scenario:
    return load_scenario(TINY)


@pytest.fixture(scope="session")
def lensois() -> Scenario:
    return load_scenario(LENSOIS)


def _postgres_admin() -> Engine:
    """The server's admin connection; a skip (or, on CI, a failure) when it cannot be reached."""
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("select 1"))
        return admin
    except Exception:
        if os.environ.get("CI") or PG_TEST:
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN}")
        pytest.skip("PostgreSQL is not reachable")


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """The URL of a new, empty database of ``backend``; a PostgreSQL one is dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'foodchain.db'}"
        return
    admin = _postgres_admin()
    name = f"foodchain_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'create database "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(
                    "select pg_terminate_backend(pid) from pg_stat_activity "
                    "where datname = :name and pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            connection.execute(text(f'drop database "{name}"'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database: SQLite, and PostgreSQL too when ``FOODCHAIN_TEST_PG`` is set."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
def module_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """As ``db_url``, shared by a module's tests (for data that is slow to build)."""
    with fresh_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'foodchain.db'}"


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    """A new PostgreSQL database, for tests that need both backends at once."""
    with fresh_database("postgresql", tmp_path) as url:
        yield url


@pytest.fixture
def engine(db_url: str, tiny: Scenario) -> Iterator[Engine]:
    """A database holding the tiny scenario."""
    engine = open_database(db_url)
    install_scenario(engine, tiny)
    yield engine
    engine.dispose()


class Cli:
    """Runs foodchain commands against one database, as a person would type them."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.runner = CliRunner()

    def __call__(self, *args: str | Path, code: int = 0) -> str:
        result = self.runner.invoke(
            app, ["--db", self.db_url, *map(str, args)], env={"COLUMNS": "200", "NO_COLOR": "1"}
        )
        assert result.exit_code == code, result.output
        if code != 0:
            assert "Traceback" not in result.output
        return result.output


@pytest.fixture
def cli(engine: Engine, db_url: str) -> Cli:
    """The CLI on a database already holding the tiny scenario."""
    return Cli(db_url)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which databases the tests ran on, so a run without PostgreSQL is not mistaken for
    one with it."""
    if PG_TEST:
        where = PG_ADMIN.rsplit("@", 1)[-1]
        terminalreporter.write_line(f"databases: SQLite and PostgreSQL ({where})")
    else:
        terminalreporter.write_line(
            "databases: SQLite only; set FOODCHAIN_TEST_PG to a PostgreSQL URL to run every "
            "database test on PostgreSQL too"
        )
