"""a label per job, and try-it jobs marked

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 21:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision (existing jobs get no label and count as not try-it)."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("try_it", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("try_it")
        batch_op.drop_column("label")
