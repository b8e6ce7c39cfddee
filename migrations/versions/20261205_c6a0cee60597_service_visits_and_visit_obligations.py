"""service visits and visit obligations: the kind service_visit of field record, and the visits owed per role

Revision ID: c6a0cee60597
Revises: 45f3e72fe125
Create Date: 2026-12-05 21:48:03.737764
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = 'c6a0cee60597'
down_revision = '45f3e72fe125'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('visit_obligations',
    sa.Column('role', sa.Enum('chief', 'secretary', 'department_head', name='servicerole', native_enum=False, length=32), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('per', sa.Enum('week', 'month', name='obligationperiod', native_enum=False, length=8), nullable=False),
    sa.Column('set_by_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('visits >= 1 AND visits <= 31', name=op.f('ck_visit_obligations_visits_range')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdictions.id'], name=op.f('fk_visit_obligations_jurisdiction_id_jurisdictions')),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_visit_obligations_set_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_obligations')),
    sa.UniqueConstraint('jurisdiction_id', 'role', name=op.f('uq_visit_obligations_jurisdiction_id'))
    )
    op.create_index(op.f('ix_visit_obligations_created_at'), 'visit_obligations', ['created_at'], unique=False)
    op.create_index(op.f('ix_visit_obligations_jurisdiction_id'), 'visit_obligations', ['jurisdiction_id'], unique=False)
    op.create_table('service_visits',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('official_id', sa.Uuid(), nullable=False),
    sa.Column('project_id', sa.Uuid(), nullable=True),
    sa.Column('enterprise_id', sa.Uuid(), nullable=True),
    sa.Column('visited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('distance_m', sa.Float(), nullable=True),
    sa.CheckConstraint('project_id IS NOT NULL OR enterprise_id IS NOT NULL', name=op.f('ck_service_visits_a_target')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_service_visits_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['id'], ['field_records.id'], name=op.f('fk_service_visits_id_field_records')),
    sa.ForeignKeyConstraint(['official_id'], ['users.id'], name=op.f('fk_service_visits_official_id_users')),
    sa.ForeignKeyConstraint(['project_id'], ['key_projects.id'], name=op.f('fk_service_visits_project_id_key_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_visits'))
    )
    op.create_index(op.f('ix_service_visits_enterprise_id'), 'service_visits', ['enterprise_id'], unique=False)
    op.create_index('ix_service_visits_official_visited', 'service_visits', ['official_id', 'visited_at'], unique=False)
    op.create_index(op.f('ix_service_visits_project_id'), 'service_visits', ['project_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_service_visits_project_id'), table_name='service_visits')
    op.drop_index('ix_service_visits_official_visited', table_name='service_visits')
    op.drop_index(op.f('ix_service_visits_enterprise_id'), table_name='service_visits')
    op.drop_table('service_visits')
    op.drop_index(op.f('ix_visit_obligations_jurisdiction_id'), table_name='visit_obligations')
    op.drop_index(op.f('ix_visit_obligations_created_at'), table_name='visit_obligations')
    op.drop_table('visit_obligations')
