"""review queue and newest-first lists read in index order

The queue's index becomes partial (waiting records only, by received_at) so that a page of
the queue is a walk in index order at any table size; lists of records newest first get
(received_at, id). Measured by bench/lists.py and bench/spatial.py.

Revision ID: 96593a6fdb05
Revises: ed9c123c92f0
Create Date: 2026-11-21 08:36:19.002068
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '96593a6fdb05'
down_revision = 'ed9c123c92f0'
branch_labels = None
depends_on = None

#: Must match field.records.WAITING.
WAITING = sa.text("review_state IN ('submitted', 'in_review')")


def upgrade() -> None:
    op.drop_index('ix_field_records_queue', table_name='field_records')
    op.create_index('ix_field_records_received', 'field_records', ['received_at', 'id'], unique=False)
    op.create_index('ix_field_records_waiting', 'field_records', ['received_at', 'id'], unique=False,
                    postgresql_where=WAITING, sqlite_where=WAITING)


def downgrade() -> None:
    op.drop_index('ix_field_records_waiting', table_name='field_records')
    op.drop_index('ix_field_records_received', table_name='field_records')
    op.create_index('ix_field_records_queue', 'field_records', ['review_state', 'received_at', 'id'], unique=False)
