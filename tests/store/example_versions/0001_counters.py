"""counters and their entries

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "example_counters",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.create_table(
        "example_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("counter", sa.String(64), sa.ForeignKey("example_counters.name"), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("example_entries")
    op.drop_table("example_counters")
