"""monitoring: the processing nodes' threads, the published batches, the attested roots, the alerts

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
        "monitoring_records",
        sa.Column("household", sa.String(42), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("leaf", sa.String(66), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
    )
    op.create_table(
        "monitoring_batches",
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root", sa.String(66), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
    )
    op.create_table(
        "monitoring_batch_records",
        sa.Column("batch", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("household", sa.String(42), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("record", sa.Text, nullable=False),
    )
    op.create_index("ix_monitoring_batch_records_household", "monitoring_batch_records", ["household"])
    op.create_table(
        "monitoring_roots",
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root", sa.String(66), nullable=False),
        sa.Column("block", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "monitoring_alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("household", sa.String(42), nullable=False),
        sa.Column("seq", sa.BigInteger),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("batch", sa.BigInteger),
        sa.Column("position", sa.Integer),
        sa.Column("record", sa.Text),
        sa.Column("state", sa.String(14), nullable=False),
        sa.Column("reason", sa.Integer),
        sa.Column("tx_hash", sa.String(66)),
        sa.Column("gas", sa.BigInteger),
        sa.Column("at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_monitoring_alerts_household", "monitoring_alerts", ["household"])
    op.create_table(
        "monitoring_state",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("state", "alerts", "roots", "batch_records", "batches", "records"):
        op.drop_table(f"monitoring_{table}")
