"""A whole-database snapshot, to prove that a failed import wrote nothing; a database at an
earlier schema revision holding a scenario, to prove that upgrades keep data."""

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, select

COLD_CHAIN = {"product": ("ambient",), "vehicle": ("none",)}
"""Columns 0007 adds: products stored before keep at ambient, vehicles have no cold body."""


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return {
            name: sorted(map(tuple, connection.execute(select(table)).all()), key=repr)
            for name, table in metadata.tables.items()
        }


def copy_at_schema(url: str, scenario: Any, tmp_path: Path, revision: str) -> Engine:
    """A database at ``revision`` holding the scenario as that schema stored it: the scenario
    is installed at the head elsewhere, then copied over in the columns ``revision`` has."""
    from foodchain.db import make_engine, open_database, schema_revision, upgrade
    from foodchain.scenario import install_scenario

    source = open_database(f"sqlite:///{tmp_path / 'source.db'}")
    install_scenario(source, scenario)
    engine = make_engine(url)
    upgrade(engine, revision)
    assert schema_revision(engine) == revision
    old, new = MetaData(), MetaData()
    old.reflect(engine)
    new.reflect(source)
    with source.connect() as read, engine.begin() as write:
        for table in old.sorted_tables:
            if table.name == "alembic_version":
                continue
            columns = [new.tables[table.name].c[c.name] for c in table.columns]
            rows = [dict(r) for r in read.execute(select(*columns)).mappings()]
            if rows:
                write.execute(table.insert(), rows)
    source.dispose()
    return engine
