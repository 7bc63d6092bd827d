"""cold chain: each product's temperature class, each vehicle's cold body

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # What was stored before keeps at ambient temperature and travels in any vehicle: the
    # plans it gave stay the plans it gives, until a scenario says otherwise.
    with op.batch_alter_table("product") as batch:
        batch.add_column(
            sa.Column(
                "temperature_class",
                sa.String(length=32),
                nullable=False,
                server_default="ambient",
            )
        )
    with op.batch_alter_table("vehicle") as batch:
        batch.add_column(
            sa.Column("cold", sa.String(length=16), nullable=False, server_default="none")
        )


def downgrade() -> None:
    with op.batch_alter_table("vehicle") as batch:
        batch.drop_column("cold")
    with op.batch_alter_table("product") as batch:
        batch.drop_column("temperature_class")
