"""open jobs filled part by part, zip entries by index, age ranges

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:44:42.507154
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision; let jobs in flight finish first: their zip images were addressed by name."""
    with op.batch_alter_table("faces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("age_low", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("age_high", sa.Float(), nullable=True))

    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entry", sa.Integer(), nullable=True))
        batch_op.drop_column("member")

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("open", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(
            sa.Column("active_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())
        )
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("closed_by", sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f("ix_jobs_active_at"), ["active_at"], unique=False)

    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("image_count", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_column("image_count")
        batch_op.drop_column("sha256")

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_active_at"))
        batch_op.drop_column("closed_by")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("active_at")
        batch_op.drop_column("open")

    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.add_column(sa.Column("member", sa.VARCHAR(length=1024), nullable=True))
        batch_op.drop_column("entry")

    with op.batch_alter_table("faces", schema=None) as batch_op:
        batch_op.drop_column("age_high")
        batch_op.drop_column("age_low")
