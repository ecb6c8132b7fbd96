"""cached tool calls

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

response_cache.tool_calls holds the tool calls of a cached answer (a list of {id, name, arguments,
raw_arguments?}), so an agent's turn that called tools is served from the cache whole instead of being asked
again. Nullable: an answer without tool calls, and every row cached before, has none.
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("response_cache", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tool_calls", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("response_cache", "tool_calls")
