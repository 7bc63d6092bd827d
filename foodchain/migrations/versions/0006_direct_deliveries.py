"""direct deliveries: the destinations a farm delivers itself, from the farm

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing farms deliver nothing themselves: everything goes through the hub, as before.
    with op.batch_alter_table("farm") as batch:
        batch.add_column(
            sa.Column("direct_destinations", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("farm") as batch:
        batch.drop_column("direct_destinations")
