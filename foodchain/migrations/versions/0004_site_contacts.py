"""site contacts: postcode, contact name, phone, e-mail and access notes of each site

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("postcode", sa.String(length=10)),
    ("contact_name", sa.String()),
    ("phone", sa.String(length=32)),
    ("email", sa.String()),
    ("access_notes", sa.String()),
)


def upgrade() -> None:
    # Existing sites get empty values: what was unknown stays stated as unknown.
    with op.batch_alter_table("site") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("site") as batch:
        for name, _kind in reversed(COLUMNS):
            batch.drop_column(name)
