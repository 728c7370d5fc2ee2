"""the OCPP central system: transactions, samples, data transfers, anomalies, id tags, sequences

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
        "ocpp_transactions",
        sa.Column("transaction_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("cp_id", sa.String(48), nullable=False),
        sa.Column("connector_id", sa.Integer, nullable=False),
        sa.Column("id_tag", sa.String(20), nullable=False),
        sa.Column("meter_start_wh", sa.BigInteger, nullable=False),
        sa.Column("start_timestamp", sa.BigInteger, nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("meter_stop_wh", sa.BigInteger),
        sa.Column("stop_received_wh", sa.BigInteger),
        sa.Column("stop_timestamp", sa.BigInteger),
        sa.Column("stop_reason", sa.String(32)),
        sa.UniqueConstraint(
            "cp_id", "connector_id", "id_tag", "meter_start_wh", "start_timestamp", name="ocpp_tx_start"
        ),
    )
    op.create_table(
        "ocpp_samples",
        sa.Column(
            "transaction_id",
            sa.BigInteger,
            sa.ForeignKey("ocpp_transactions.transaction_id"),
            primary_key=True,
        ),
        sa.Column("timestamp", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("context", sa.String(32), primary_key=True),
        sa.Column("register_wh", sa.BigInteger),
        sa.Column("power_w", sa.BigInteger),
        sa.Column("interval_wh", sa.BigInteger),
        sa.Column("signed_data", sa.Text),
        sa.Column("soc_pm", sa.Integer),
    )
    op.create_table(
        "ocpp_data_transfers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("cp_id", sa.String(48), nullable=False),
        sa.Column("vendor_id", sa.String(255), nullable=False),
        sa.Column("message_id", sa.String(50)),
        sa.Column("data", sa.Text),
    )
    op.create_table(
        "ocpp_anomalies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("cp_id", sa.String(48), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("transaction_id", sa.BigInteger),
        sa.Column("samples", sa.Text, nullable=False),
    )
    op.create_table("ocpp_id_tags", sa.Column("id_tag", sa.String(20), primary_key=True))
    op.create_table(
        "ocpp_sequences",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("next_value", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("ocpp_sequences", "ocpp_id_tags", "ocpp_anomalies", "ocpp_data_transfers", "ocpp_samples"):
        op.drop_table(table)
    op.drop_table("ocpp_transactions")
