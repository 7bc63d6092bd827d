"""A whole-database snapshot, to prove that a failed import wrote nothing."""

from typing import Any

from sqlalchemy import Engine, MetaData, select


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return {
            name: sorted(map(tuple, connection.execute(select(table)).all()), key=repr)
            for name, table in metadata.tables.items()
        }
