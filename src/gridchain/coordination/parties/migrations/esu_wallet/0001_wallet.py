"""an ESU wallet: tokens, kept requests, tokens obtained, imported files

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
        "esu_wallet_tokens",
        sa.Column("address", sa.String(42), primary_key=True),
        sa.Column("community", sa.String(42), nullable=False),
        sa.Column("epoch", sa.BigInteger, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("token", sa.Text, nullable=False),
    )
    op.create_index("esu_wallet_tokens_by_epoch", "esu_wallet_tokens", ["community", "epoch"])
    op.create_table(
        "esu_wallet_requests",
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("community", sa.String(42), nullable=False),
        sa.Column("epoch", sa.BigInteger, nullable=False),
        sa.Column("address", sa.String(42), nullable=False, unique=True),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("demand_w", sa.String(24), nullable=False),
        sa.Column("soc_pm", sa.Integer, nullable=False),
        sa.Column("tcc", sa.BigInteger, nullable=False),
        sa.Column("slot", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("ticket", sa.Text),
        sa.Column("arrival", sa.String(48)),
        sa.Column("reason", sa.Text),
        sa.Column("slots_tried", sa.Text, nullable=False),
        sa.Column("body", sa.Text),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("claimed_ms", sa.BigInteger),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "esu_wallet_obtained",
        sa.Column("community", sa.String(42), primary_key=True),
        sa.Column("epoch", sa.BigInteger, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_table(
        "esu_wallet_imports",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("imported_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("esu_wallet_imports")
    op.drop_table("esu_wallet_obtained")
    op.drop_table("esu_wallet_requests")
    op.drop_index("esu_wallet_tokens_by_epoch", "esu_wallet_tokens")
    op.drop_table("esu_wallet_tokens")
