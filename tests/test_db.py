"""The schema: migrations create exactly the models' tables and keep data, on every backend."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel, select

from foodchain.db import (
    MIGRATIONS,
    head_revision,
    open_database,
    schema_revision,
    table_names,
    transaction,
)
from foodchain.demand import load_week_demand
from foodchain.models import Forecast
from foodchain.scenario import install_scenario
from foodchain.weeks import Week

from .snapshot import COLD_CHAIN, copy_at_schema, snapshot


def _schema_drift(url):
    engine = open_database(url)
    with engine.connect() as connection:
        return engine, compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)


def test_migrations_match_the_models(db_url):
    engine, drift = _schema_drift(db_url)
    assert drift == []
    assert schema_revision(engine) == head_revision()
    assert "forecast" in table_names(engine)
    engine.dispose()


def test_head_revision_is_alembics_and_the_schema_revision_its_own(db_url):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()
    engine = open_database(db_url)
    with engine.connect() as connection:
        assert (
            schema_revision(engine) == MigrationContext.configure(connection).get_current_revision()
        )
    engine.dispose()


def test_opening_twice_keeps_the_data(db_url, tiny):
    first = open_database(db_url)
    install_scenario(first, tiny)
    first.dispose()
    engine = open_database(db_url)
    with transaction(engine) as session:
        assert len(session.exec(select(Forecast)).all()) == len(tiny.forecasts)
    engine.dispose()


def test_postgres_and_sqlite_give_the_same_demand(sqlite_url, pg_url, tiny):
    week = Week.parse("2026-W49")
    results = []
    for url in (sqlite_url, pg_url):
        engine = open_database(url)
        install_scenario(engine, tiny)
        results.append(load_week_demand(engine, week))
        engine.dispose()
    assert results[0] == results[1]
    assert results[0].canteens and results[0].baskets


def test_cli_init_then_demand(db_url):
    from .conftest import TINY, Cli

    cli = Cli(db_url)
    assert "added" in cli("init", "--scenario", TINY)
    assert "mat_basly" in cli("demand", "show", "--week", "2026-W49")


def test_bad_database_url_is_a_clear_error(tmp_path):
    from .conftest import Cli

    output = Cli("nosuchdb://user:secret@host/x")("demand", "show", "--week", "2026-W49", code=1)
    assert "cannot use database URL" in output and "secret" not in output


SITE_CONTACTS = ("postcode", "contact_name", "phone", "email", "access_notes")
"""Columns 0004 adds to ``site``, empty for the sites stored before."""


def _upgrade_keeps_data(url, tiny, tmp_path):
    from foodchain.db import upgrade

    engine = copy_at_schema(url, tiny, tmp_path, "0001")
    before = snapshot(engine)
    assert before["site"] and before["forecast"]
    upgrade(engine)
    assert schema_revision(engine) == head_revision()
    after = snapshot(engine)
    blank = ("",) * len(SITE_CONTACTS)
    assert {k: v for k, v in after.items() if k != "alembic_version"} == {
        **{k: v for k, v in before.items() if k != "alembic_version"},
        "site": sorted(((*row, *blank) for row in before["site"]), key=repr),
        # 0006: farms stored before deliver nothing themselves
        "farm": sorted(((*row, []) for row in before["farm"]), key=repr),
        **{
            table: sorted(((*row, *added) for row in before[table]), key=repr)
            for table, added in COLD_CHAIN.items()
        },
        "travel_leg": [],
        "plan_run": [],
        "sent_document": [],
    }
    engine.dispose()


def test_upgrade_from_the_first_schema_keeps_the_data(db_url, tiny, tmp_path):
    _upgrade_keeps_data(db_url, tiny, tmp_path)
