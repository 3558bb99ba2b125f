"""job callback url and webhook delivery

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 21:15:58.220835
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("callback_url", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("webhook_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("webhook_attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("webhook_last_status", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("webhook_last_error", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_jobs_webhook_status"), ["webhook_status"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_webhook_status"))
        batch_op.drop_column("webhook_last_error")
        batch_op.drop_column("webhook_last_status")
        batch_op.drop_column("webhook_attempts")
        batch_op.drop_column("webhook_status")
        batch_op.drop_column("callback_url")
