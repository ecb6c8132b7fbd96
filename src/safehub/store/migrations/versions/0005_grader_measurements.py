"""grader measurements

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

A grader's measured agreement with a labelled set, one row per question (three_class, refused_or_not,
over_refusal, harmful_help): the grader card's stored part, written by `safehub graders measure`, read by
reports to correct a metric for its grader's error. Supersedes judge_calibrations (kept, no longer written).
Plain column types only, so the same statements build it on SQLite and PostgreSQL.
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grader_measurements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("grader", sa.String(length=100), nullable=False),
        sa.Column("grader_version", sa.String(length=100), nullable=False),
        sa.Column("judge_spec", sa.String(length=500), nullable=True),
        sa.Column("labelled_set", sa.String(length=200), nullable=False),
        sa.Column("labelled_set_sha256", sa.String(length=64), nullable=False),
        sa.Column("question", sa.String(length=50), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("tp", sa.Integer(), nullable=True),
        sa.Column("fn", sa.Integer(), nullable=True),
        sa.Column("fp", sa.Integer(), nullable=True),
        sa.Column("tn", sa.Integer(), nullable=True),
        sa.Column("accuracy", sa.Float(), nullable=True),
        sa.Column("kappa", sa.Float(), nullable=True),
        sa.Column("sensitivity", sa.Float(), nullable=True),
        sa.Column("specificity", sa.Float(), nullable=True),
        sa.Column("confusion", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grader_measurements")),
    )
    with op.batch_alter_table("grader_measurements", schema=None) as batch_op:
        batch_op.create_index("ix_grader_measurements_grader", ["grader", "grader_version", "question"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("grader_measurements", schema=None) as batch_op:
        batch_op.drop_index("ix_grader_measurements_grader")
    op.drop_table("grader_measurements")
