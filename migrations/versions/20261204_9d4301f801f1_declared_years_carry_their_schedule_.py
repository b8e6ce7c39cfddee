"""declared years carry their schedule; provisional deadlines

A declared year now holds the State Council's holidays and make-up working days
(``calendar_year_days``) or says ``weekends_only``; a year declared before this revision
had its holidays entered as overrides, so it becomes ``weekends_only`` (shown as such).
Deadlines, handling times and ad-hoc notices computed over a year without a schedule are
marked provisional instead of being refused (issue 12).

Revision ID: 9d4301f801f1
Revises: 96593a6fdb05
Create Date: 2026-12-04 22:46:50.104774
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '9d4301f801f1'
down_revision = '96593a6fdb05'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Before calendar_year_days exists: SQLite's batch mode rebuilds calendar_years, and a
    # rebuilt parent would cascade-delete the children's rows.
    with op.batch_alter_table('calendar_years') as batch:
        batch.add_column(sa.Column('weekends_only', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('source', sa.String(length=200), nullable=False, server_default=''))
        batch.alter_column('created_by_id', existing_type=sa.Uuid(), nullable=True)
    op.execute(sa.text("UPDATE calendar_years SET weekends_only = true, "
                       "source = 'declared before schedules were kept: holidays as overrides'"))
    op.create_table('calendar_year_days',
    sa.Column('calendar_year_id', sa.Uuid(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('working', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['calendar_year_id'], ['calendar_years.id'],
                            name=op.f('fk_calendar_year_days_calendar_year_id_calendar_years'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('calendar_year_id', 'day', name=op.f('pk_calendar_year_days'))
    )
    op.add_column('cases', sa.Column('deadline_provisional', sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.add_column('cases', sa.Column('handling_days_provisional', sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.add_column('inspection_filings', sa.Column('notice_provisional', sa.Boolean(), nullable=False,
                                                  server_default=sa.false()))


def downgrade() -> None:
    op.drop_column('inspection_filings', 'notice_provisional')
    op.drop_column('cases', 'handling_days_provisional')
    op.drop_column('cases', 'deadline_provisional')
    op.drop_table('calendar_year_days')
    # Years imported from the command line have no declaring user, which the old schema needs.
    op.execute(sa.text("DELETE FROM calendar_years WHERE created_by_id IS NULL"))
    with op.batch_alter_table('calendar_years') as batch:
        batch.alter_column('created_by_id', existing_type=sa.Uuid(), nullable=False)
        batch.drop_column('source')
        batch.drop_column('weekends_only')
