"""Alembic environment: runs on the connection foodchain passes in (see foodchain.db)."""

from alembic import context
from sqlmodel import SQLModel

import foodchain.models  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("foodchain migrations run through foodchain.db.upgrade()")
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
