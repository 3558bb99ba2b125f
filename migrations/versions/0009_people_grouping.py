"""people: a job option, a person and an identity embedding per face, a capture time per image

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 22:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("people", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("people_status", sa.String(length=16), nullable=True))
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.add_column(sa.Column("taken_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("faces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("embedding", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("faces", schema=None) as batch_op:
        batch_op.drop_column("embedding")
        batch_op.drop_column("person")
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_column("taken_at")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("people_status")
        batch_op.drop_column("people")
