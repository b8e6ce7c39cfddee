"""custody checkpoints: the signed heads of every chain, written once

Revision ID: c4f1a2d9e7b3
Revises: 9d4301f801f1
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = 'c4f1a2d9e7b3'
down_revision = '9d4301f801f1'
branch_labels = None
depends_on = None

# The statements as of this revision, copied so later model edits cannot change history.
APPEND_ONLY_DDL = {
    "postgresql": [
        """CREATE OR REPLACE FUNCTION custody_checkpoints_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'custody checkpoints are append-only (% refused)', TG_OP; END;
           $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER custody_checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
           ON custody_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION custody_checkpoints_append_only()""",
    ],
    "sqlite": [
        """CREATE TRIGGER custody_checkpoints_no_update BEFORE UPDATE ON custody_checkpoints
           BEGIN SELECT RAISE(ABORT, 'custody checkpoints are append-only (UPDATE refused)'); END""",
        """CREATE TRIGGER custody_checkpoints_no_delete BEFORE DELETE ON custody_checkpoints
           BEGIN SELECT RAISE(ABORT, 'custody checkpoints are append-only (DELETE refused)'); END""",
    ],
}
DROP_APPEND_ONLY_DDL = {
    "postgresql": ["DROP TRIGGER IF EXISTS custody_checkpoints_append_only ON custody_checkpoints",
                   "DROP FUNCTION IF EXISTS custody_checkpoints_append_only()"],
    "sqlite": ["DROP TRIGGER IF EXISTS custody_checkpoints_no_update",
               "DROP TRIGGER IF EXISTS custody_checkpoints_no_delete"],
}


def upgrade() -> None:
    op.create_table('custody_checkpoints',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('key_name', sa.String(length=128), nullable=False),
    sa.Column('key_id', sa.String(length=8), nullable=False),
    sa.Column('chains', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custody_checkpoints'))
    )
    op.create_index(op.f('ix_custody_checkpoints_made_at'), 'custody_checkpoints', ['made_at'], unique=False)
    for statement in APPEND_ONLY_DDL.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_APPEND_ONLY_DDL.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    op.drop_index(op.f('ix_custody_checkpoints_made_at'), table_name='custody_checkpoints')
    op.drop_table('custody_checkpoints')
