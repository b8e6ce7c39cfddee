"""enrollment codes: one-time QR codes an admin makes for a phone

Revision ID: e1b7c0d5a3f2
Revises: a18e5c0d2b71
Create Date: 2026-12-05 04:00:00.000000
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = 'e1b7c0d5a3f2'
down_revision = 'a18e5c0d2b71'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('enrollment_codes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('device_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_enrollment_codes_created_by_id_users')),
    sa.ForeignKeyConstraint(['device_id'], ['device_tokens.id'], name=op.f('fk_enrollment_codes_device_id_device_tokens')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_enrollment_codes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollment_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_enrollment_codes_code_hash'))
    )
    op.create_index(op.f('ix_enrollment_codes_user_id'), 'enrollment_codes', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_enrollment_codes_user_id'), table_name='enrollment_codes')
    op.drop_table('enrollment_codes')
