"""first schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "basket_type",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("min_kg", sa.Float(), nullable=False),
        sa.Column("max_kg", sa.Float(), nullable=False),
        sa.Column("min_products", sa.Integer(), nullable=False),
        sa.Column("max_products", sa.Integer(), nullable=False),
        sa.Column("price_eur", sa.Float(), nullable=False),
        sa.Column("max_share_per_product", sa.Float(), nullable=False),
        sa.Column("product_caps", sa.JSON(), nullable=False),
        sa.Column("family_caps", sa.JSON(), nullable=False),
        sa.Column("organic_only", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "holiday_period",
        sa.Column("calendar", sa.String(length=64), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("calendar", "first_day"),
    )
    op.create_table(
        "import_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "portion_rule",
        sa.Column("course", sa.String(length=16), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("age_group", sa.String(length=16), nullable=False),
        sa.Column("grams", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("course", "family", "age_group"),
    )
    op.create_table(
        "product",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("kg_per_unit", sa.Float(), nullable=False),
        sa.Column("shelf_life_days", sa.Integer(), nullable=False),
        sa.Column("edible_fraction", sa.Float(), nullable=False),
        sa.Column("price_eur_per_kg", sa.Float(), nullable=False),
        sa.Column("kg_per_crate", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "setting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "site",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("commune", sa.String(), nullable=False),
        sa.Column("address", sa.String(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("windows", sa.JSON(), nullable=False),
        sa.Column("service_minutes", sa.Float(), nullable=False),
        sa.Column("service_minutes_per_100kg", sa.Float(), nullable=False),
        sa.Column("delivery_days", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "substitution_group",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "canteen",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("age_group", sa.String(length=16), nullable=False),
        sa.Column("covers", sa.JSON(), nullable=False),
        sa.Column("local_share", sa.Float(), nullable=False),
        sa.Column("organic_rule", sa.String(length=16), nullable=False),
        sa.Column("organic_min_share", sa.Float(), nullable=False),
        sa.Column("quality_min_share", sa.Float(), nullable=False),
        sa.Column("holiday_calendar", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
        ),
        sa.PrimaryKeyConstraint("site_id"),
    )
    op.create_table(
        "farm",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("organic_status", sa.String(length=16), nullable=False),
        sa.Column("brings_own_produce", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
        ),
        sa.PrimaryKeyConstraint("site_id"),
    )
    op.create_table(
        "forecast",
        sa.Column("farm_id", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("kg", sa.Float(), nullable=False),
        sa.Column("price_eur_per_kg", sa.Float(), nullable=False),
        sa.Column("organic_status", sa.String(length=16), nullable=False),
        sa.Column("days_available", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["farm_id"],
            ["site.id"],
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
        ),
        sa.PrimaryKeyConstraint("farm_id", "product_id", "week"),
    )
    op.create_table(
        "menu_line",
        sa.Column("canteen_id", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("meal", sa.String(length=16), nullable=False),
        sa.Column("course", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("dish", sa.String(), nullable=False),
        sa.Column("covers", sa.Integer(), nullable=True),
        sa.Column("portion_g", sa.Float(), nullable=True),
        sa.Column("kg", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["canteen_id"],
            ["site.id"],
        ),
        sa.PrimaryKeyConstraint("canteen_id", "date", "meal", "course", "item_id"),
    )
    op.create_table(
        "shop",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("max_kg_per_week", sa.Float(), nullable=False),
        sa.Column("families", sa.JSON(), nullable=False),
        sa.Column("price_factor", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
        ),
        sa.PrimaryKeyConstraint("site_id"),
    )
    op.create_table(
        "subscription",
        sa.Column("relay_point_id", sa.String(length=64), nullable=False),
        sa.Column("basket_type_id", sa.String(length=64), nullable=False),
        sa.Column("subscriber", sa.String(length=64), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("start_week", sa.String(length=8), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("end_week", sa.String(length=8), nullable=True),
        sa.Column("paused_weeks", sa.JSON(), nullable=False),
        sa.Column("contact", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["basket_type_id"],
            ["basket_type.id"],
        ),
        sa.ForeignKeyConstraint(
            ["relay_point_id"],
            ["site.id"],
        ),
        sa.PrimaryKeyConstraint(
            "relay_point_id", "basket_type_id", "subscriber", "frequency", "start_week"
        ),
    )
    op.create_table(
        "vehicle",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("depot_id", sa.String(length=64), nullable=False),
        sa.Column("capacity_kg", sa.Float(), nullable=False),
        sa.Column("capacity_crates", sa.Integer(), nullable=False),
        sa.Column("shift", sa.String(), nullable=False),
        sa.Column("cost_fixed_eur", sa.Float(), nullable=False),
        sa.Column("cost_per_km_eur", sa.Float(), nullable=False),
        sa.Column("cost_per_hour_eur", sa.Float(), nullable=False),
        sa.Column("co2_kg_per_km", sa.Float(), nullable=False),
        sa.Column("range_km", sa.Float(), nullable=False),
        sa.Column("speed_kmh", sa.Float(), nullable=False),
        sa.Column("max_km_from_hub", sa.Float(), nullable=True),
        sa.Column("allowed_kinds", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["depot_id"],
            ["site.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:

    op.drop_table("vehicle")
    op.drop_table("subscription")
    op.drop_table("shop")
    op.drop_table("menu_line")
    op.drop_table("forecast")
    op.drop_table("farm")
    op.drop_table("canteen")
    op.drop_table("substitution_group")
    op.drop_table("site")
    op.drop_table("setting")
    op.drop_table("product")
    op.drop_table("portion_rule")
    op.drop_table("import_record")
    op.drop_table("holiday_period")
    op.drop_table("basket_type")
