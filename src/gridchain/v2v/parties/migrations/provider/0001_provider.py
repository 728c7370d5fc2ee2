"""a V2V provider's sessions, receipts, settlements and bids

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ADDRESS, HEX32, WH, WEI = sa.String(42), sa.String(66), sa.String(20), sa.String(40)


def upgrade() -> None:
    op.create_table(
        "v2v_provider_sessions",
        sa.Column("provider", ADDRESS, primary_key=True),
        sa.Column("token", HEX32, primary_key=True),
        sa.Column("consumer", ADDRESS, nullable=False),
        sa.Column("amount_wh", WH, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("secret", HEX32, nullable=False),
        sa.Column("delivered_wh", WH, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "v2v_provider_receipts",
        sa.Column("provider", ADDRESS, primary_key=True),
        sa.Column("token", HEX32, primary_key=True),
        sa.Column("delivered_wh", WH, primary_key=True),
        sa.Column("signature", sa.String(132), nullable=False),
        sa.Column("received_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "v2v_provider_settlements",
        sa.Column("provider", ADDRESS, primary_key=True),
        sa.Column("token", HEX32, primary_key=True),
        sa.Column("consumer", ADDRESS, nullable=False),
        sa.Column("delivered_wh", WH, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("from_block", sa.BigInteger, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("tx_hash", sa.String(66)),
        sa.Column("outcome", sa.Text),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "v2v_provider_bids",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("provider", ADDRESS, nullable=False),
        sa.Column("consumer", ADDRESS, nullable=False),
        sa.Column("rate_wei_per_kwh", WEI, nullable=False),
        sa.Column("head_block", sa.BigInteger, nullable=False),
        sa.Column("block", sa.BigInteger),
        sa.Column("tx_hash", sa.String(66)),
        sa.Column("sent_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_v2v_provider_bids_provider", "v2v_provider_bids", ["provider"])


def downgrade() -> None:
    op.drop_index("ix_v2v_provider_bids_provider", "v2v_provider_bids")
    for table in ("bids", "settlements", "receipts", "sessions"):
        op.drop_table(f"v2v_provider_{table}")
