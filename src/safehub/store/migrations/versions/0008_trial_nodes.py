"""trial nodes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

The steps of a conversation trial (a strategy's attacker proposals, target answers, judge ratings, pruned
branches and backtracked turns), one row per node, written as they happen so an interrupted trial resumes
from them without asking any model again. A node belongs to its trial by the trial's key (run, sample,
attack, epoch), since the trial row itself is written only when the conversation ends; `key` names the
node's place in the conversation and is unique within the trial, which is what stores each node once.
Plain column types only, so the same statements build it on SQLite and PostgreSQL.
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trial_nodes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("sample_pk", sa.Integer(), nullable=False),
        sa.Column("attack", sa.String(length=100), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("parent", sa.Integer(), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("model", sa.String(length=500), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("is_cached", sa.Boolean(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_trial_nodes_run_id_runs")),
        sa.ForeignKeyConstraint(["sample_pk"], ["samples.id"], name=op.f("fk_trial_nodes_sample_pk_samples")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial_nodes")),
        sa.UniqueConstraint("run_id", "sample_pk", "attack", "epoch", "key", name="uq_trial_nodes_identity"),
    )
    with op.batch_alter_table("trial_nodes", schema=None) as batch_op:
        batch_op.create_index("ix_trial_nodes_trial", ["run_id", "sample_pk", "attack", "epoch", "seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("trial_nodes", schema=None) as batch_op:
        batch_op.drop_index("ix_trial_nodes_trial")
    op.drop_table("trial_nodes")
