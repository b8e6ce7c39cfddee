"""field records: indexes that lead with the scope (the jurisdiction), then the list's order

A reviewer whose scope holds few records paid for the whole queue: the waiting index had no
jurisdiction, so page 1 walked every waiting record (1.5 s at 1M when the scope held none).
With (jurisdiction_id, received_at, id) a page is read jurisdiction by jurisdiction, each an
index range from the cursor on, and merged (field/core/pages.py, ``legs``): the queue's is
partial (waiting records only), the newest-first located lists' covers every record.
Measured by bench/lists.py and bench/spatial.py.

Revision ID: a18e5c0d2b71
Revises: 7d2e9b4c1a60
Create Date: 2026-12-05 04:00:00.000000
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = 'a18e5c0d2b71'
down_revision = '7d2e9b4c1a60'
branch_labels = None
depends_on = None

#: Must match field.records.WAITING.
WAITING = sa.text("review_state IN ('submitted', 'in_review')")


def upgrade() -> None:
    op.create_index('ix_field_records_waiting_scope', 'field_records', ['jurisdiction_id', 'received_at', 'id'],
                    unique=False, postgresql_where=WAITING, sqlite_where=WAITING)
    op.create_index('ix_field_records_scope_received', 'field_records', ['jurisdiction_id', 'received_at', 'id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_field_records_scope_received', table_name='field_records')
    op.drop_index('ix_field_records_waiting_scope', table_name='field_records')
