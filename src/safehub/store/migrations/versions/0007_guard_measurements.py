"""guard measurements

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-21

A guard screen's recall and false-positive rate on an operator's own labelled traffic, one row per rule,
written by `safehub guard measure` and shown beside the shipped figures by `safehub guard card` and the
hub's /guard page. Plain column types only, so the same statements build it on SQLite and PostgreSQL.
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guard_measurements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("screen_version", sa.String(length=100), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("labelled_set", sa.String(length=200), nullable=False),
        sa.Column("labelled_set_sha256", sa.String(length=64), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("tp", sa.Integer(), nullable=False),
        sa.Column("fn", sa.Integer(), nullable=False),
        sa.Column("fp", sa.Integer(), nullable=False),
        sa.Column("tn", sa.Integer(), nullable=False),
        sa.Column("recall", sa.Float(), nullable=True),
        sa.Column("false_positive_rate", sa.Float(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guard_measurements")),
    )
    with op.batch_alter_table("guard_measurements", schema=None) as batch_op:
        batch_op.create_index("ix_guard_measurements_rule", ["rule", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("guard_measurements", schema=None) as batch_op:
        batch_op.drop_index("ix_guard_measurements_rule")
    op.drop_table("guard_measurements")
