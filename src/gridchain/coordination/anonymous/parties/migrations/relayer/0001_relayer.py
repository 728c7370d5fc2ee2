"""the relayer's tickets and submissions

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
        "relayer_tickets",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("slot", sa.BigInteger, nullable=False),
        sa.Column("epoch", sa.BigInteger, nullable=False),
        sa.Column("pseudonym", sa.String(42), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("arrival", sa.BigInteger, nullable=True),
        sa.Column("tx_hash", sa.String(66), nullable=True),
        sa.Column("gas_used", sa.BigInteger, nullable=True),
        sa.Column("accepted_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_relayer_tickets_pseudonym", "relayer_tickets", ["pseudonym"])
    op.create_index("ix_relayer_tickets_status", "relayer_tickets", ["status"])
    op.create_table(
        "relayer_submissions",
        sa.Column("tx_hash", sa.String(66), primary_key=True),
        sa.Column("nonce", sa.BigInteger, nullable=False),
        sa.Column("raw", sa.LargeBinary, nullable=False),
        sa.Column("tickets", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("from_block", sa.BigInteger, nullable=False),
        sa.Column("sent_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_relayer_submissions_state", "relayer_submissions", ["state"])


def downgrade() -> None:
    op.drop_table("relayer_submissions")
    op.drop_table("relayer_tickets")
