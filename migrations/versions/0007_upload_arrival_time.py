"""upload arrival time

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:21:21.535422
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision; parts stored before it count as arriving now."""
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_column("created_at")
