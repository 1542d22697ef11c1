"""token usage per item and per run

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items') as batch:
        for column in ('llm_requests', 'prompt_tokens', 'completion_tokens'):
            batch.add_column(sa.Column(column, sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('runs') as batch:
        for column in ('prompt_tokens', 'completion_tokens'):
            batch.add_column(sa.Column(column, sa.BigInteger(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('runs') as batch:
        for column in ('prompt_tokens', 'completion_tokens'):
            batch.drop_column(column)
    with op.batch_alter_table('items') as batch:
        for column in ('llm_requests', 'prompt_tokens', 'completion_tokens'):
            batch.drop_column(column)
