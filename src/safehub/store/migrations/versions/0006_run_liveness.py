"""run liveness, failures and queue time

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-14

A run records which process owns it (owner_pid, owner_host) and when that process last showed it was
alive (heartbeat_at), so a run whose process died reads as `interrupted` instead of `running` forever;
a run that stopped on a failed write, or whose every trial errored, says why in `failure`.
responses.queue_ms is the time a trial waited to be sent (a concurrency slot, a rate-limit pause, retry
backoff); latency_ms is the model calls alone. Nullable columns only: existing rows need no value.
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("owner_pid", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("owner_host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("failure", sa.Text(), nullable=True))
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue_ms", sa.Float(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): batch mode would copy `runs`, which foreign keys forbid dropping.
    for table, column in (("responses", "queue_ms"), ("runs", "failure"), ("runs", "owner_host"),
                          ("runs", "owner_pid"), ("runs", "heartbeat_at")):
        op.drop_column(table, column)
