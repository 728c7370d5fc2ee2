"""metering: roaming sessions, the gateway's readings and anchors

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
        "metering_sessions",
        sa.Column("session", sa.String(66), primary_key=True),
        sa.Column("meter", sa.String(42), nullable=False),
        sa.Column("ev", sa.String(42), nullable=False),
        sa.Column("start", sa.BigInteger, nullable=False),
        sa.Column("max_cost_wei", sa.String(40), nullable=False),
        sa.Column("ev_signature", sa.String(132), nullable=False),
        sa.Column("id_tag", sa.String(20), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("transaction_id", sa.BigInteger),
        sa.Column("tx_hash", sa.String(66)),
        sa.Column("detail", sa.Text),
    )
    op.create_table(
        "metering_readings",
        sa.Column("meter", sa.String(42), primary_key=True),
        sa.Column("interval_start", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("active_wh", sa.BigInteger, nullable=False),
        sa.Column("reactive_varh", sa.BigInteger, nullable=False),
        sa.Column("signature", sa.String(132), nullable=False),
    )
    op.create_table(
        "metering_anchors",
        sa.Column("meter", sa.String(42), primary_key=True),
        sa.Column("day", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root", sa.String(66), nullable=False),
        sa.Column("leaves", sa.Integer, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("tx_hash", sa.String(66)),
    )


def downgrade() -> None:
    for table in ("metering_anchors", "metering_readings", "metering_sessions"):
        op.drop_table(table)
