"""travel legs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "travel_leg",
        sa.Column("from_id", sa.String(length=64), nullable=False),
        sa.Column("to_id", sa.String(length=64), nullable=False),
        sa.Column("km", sa.Float(), nullable=False),
        sa.Column("minutes", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_id"],
            ["site.id"],
        ),
        sa.ForeignKeyConstraint(
            ["to_id"],
            ["site.id"],
        ),
        sa.PrimaryKeyConstraint("from_id", "to_id"),
    )


def downgrade() -> None:

    op.drop_table("travel_leg")
