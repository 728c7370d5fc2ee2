"""the issuer: communities, members, sealed epoch keys, quotas, issuance records

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
        "issuer_communities",
        sa.Column("community", sa.String(42), primary_key=True),
        sa.Column("since_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "issuer_members",
        sa.Column("community", sa.String(42), sa.ForeignKey("issuer_communities.community"), primary_key=True),
        sa.Column("identity", sa.String(42), primary_key=True),
    )
    op.create_table(
        "issuer_epoch_keys",
        sa.Column("community", sa.String(42), primary_key=True),
        sa.Column("epoch", sa.BigInteger, primary_key=True),
        sa.Column("modulus", sa.Text, nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("sealed_by", sa.String(42), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "issuer_quotas",
        sa.Column("community", sa.String(42), primary_key=True),
        sa.Column("epoch", sa.BigInteger, primary_key=True),
        sa.Column("identity", sa.String(42), primary_key=True),
        sa.Column("issued", sa.Integer, nullable=False),
    )
    op.create_table(
        "issuer_records",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("community", sa.String(42), nullable=False),
        sa.Column("epoch", sa.BigInteger, nullable=False),
        sa.Column("identity", sa.String(42), nullable=False),
        sa.Column("blinded", sa.Text, nullable=False),
        sa.Column("time_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("issuer_records", "issuer_quotas", "issuer_epoch_keys", "issuer_members", "issuer_communities"):
        op.drop_table(table)
