"""the message board's listings, mailboxes and observations

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
        "negotiation_listings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("community", sa.String(64), nullable=False),
        sa.Column("listing", sa.Text, nullable=False),
        sa.Column("expires", sa.BigInteger, nullable=False),
        sa.Column("posted_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_negotiation_listings_community", "negotiation_listings", ["community"])
    op.create_table(
        "negotiation_messages",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("mailbox", sa.String(64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("posted_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_negotiation_messages_mailbox", "negotiation_messages", ["mailbox"])
    op.create_table(
        "negotiation_observations",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("time_ms", sa.BigInteger, nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("mailbox", sa.String(64), nullable=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("negotiation_observations")
    op.drop_table("negotiation_messages")
    op.drop_table("negotiation_listings")
