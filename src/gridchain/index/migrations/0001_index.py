"""the indexer's blocks, events and cursors

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
        "index_blocks",
        sa.Column("number", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.String(66), nullable=False),
        sa.Column("parent_hash", sa.String(66), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "index_events",
        sa.Column("block", sa.BigInteger, sa.ForeignKey("index_blocks.number"), primary_key=True, autoincrement=False),
        sa.Column("log_index", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("contract", sa.String(64), nullable=False),
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("args", sa.Text, nullable=False),
    )
    op.create_index("index_events_by_contract", "index_events", ["contract", "name", "block"])
    op.create_table(
        "index_cursors",
        sa.Column("contract", sa.String(64), primary_key=True),
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("start_block", sa.BigInteger, nullable=False),
        sa.Column("block", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(66), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("index_cursors")
    op.drop_index("index_events_by_contract", "index_events")
    op.drop_table("index_events")
    op.drop_table("index_blocks")
