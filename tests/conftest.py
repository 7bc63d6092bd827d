"""Shared fixtures: databases (SQLite file, PostgreSQL when reachable), the tiny scenario, CLI."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
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
PG_ADMIN = os.environ.get(
    "FOODCHAIN_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def tiny() -> Scenario:
    return load_scenario(TINY)


@pytest.fixture(scope="session")
def lensois() -> Scenario:
    return load_scenario(LENSOIS)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'foodchain.db'}"


@pytest.fixture
def engine(db_url: str, tiny: Scenario) -> Engine:
    """A SQLite file database holding the tiny scenario."""
    engine = open_database(db_url)
    install_scenario(engine, tiny)
    return engine


def _postgres_admin() -> Engine | None:
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("select 1"))
        return admin
    except Exception:
        return None


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    admin = _postgres_admin()
    if admin is None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN} (CI expects it)")
        pytest.skip("PostgreSQL is not reachable")
    name = f"foodchain_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'create database "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
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
