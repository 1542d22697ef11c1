"""webhook subscriptions name the events they want

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_subscriptions') as batch:
        batch.add_column(sa.Column('events', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('webhook_subscriptions') as batch:
        batch.drop_column('events')
