"""complaints: the hotline work-order cycle (intake, triage, dispatch, answers, callbacks), who complained kept apart

Revision ID: 5e1c0a7d9b21
Revises: c6a0cee60597
Create Date: 2026-12-06 09:00:00.000000
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry

revision = '5e1c0a7d9b21'
down_revision = 'c6a0cee60597'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('complaint_handlers',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('assigned_by_id', sa.Uuid(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_complaint_handlers_assigned_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_complaint_handlers_unit_id_units')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_complaint_handlers_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_complaint_handlers'))
    )
    op.create_index(op.f('ix_complaint_handlers_unit_id'), 'complaint_handlers', ['unit_id'], unique=False)
    op.create_table('complaint_time_limits',
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('category_code', sa.String(length=48), nullable=False),
    sa.Column('response_days', sa.Integer(), nullable=False),
    sa.Column('answer_days', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Uuid(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('answer_days >= 1 AND answer_days <= 90', name=op.f('ck_complaint_time_limits_answer_days_range')),
    sa.CheckConstraint('response_days >= 1 AND response_days <= 30', name=op.f('ck_complaint_time_limits_response_days_range')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdictions.id'], name=op.f('fk_complaint_time_limits_jurisdiction_id_jurisdictions')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_complaint_time_limits_updated_by_id_users')),
    sa.PrimaryKeyConstraint('jurisdiction_id', 'category_code', name=op.f('pk_complaint_time_limits'))
    )
    op.create_geospatial_table('complaints',
    sa.Column('tracking_number', sa.String(length=24), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.Enum('hotline', 'mailbox', 'open311', name='channel', native_enum=False, length=16), nullable=False),
    sa.Column('state', sa.Enum('received', 'accepted', 'rejected', 'merged', 'dispatched', 'answered', 'closed', name='state', native_enum=False, length=16), nullable=False),
    sa.Column('category_code', sa.String(length=48), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=True),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('taken_by_id', sa.Uuid(), nullable=True),
    sa.Column('triaged_by_id', sa.Uuid(), nullable=True),
    sa.Column('triaged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reject_reason', sa.Text(), nullable=True),
    sa.Column('duplicate_of_id', sa.Uuid(), nullable=True),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('dispatched_on', sa.Date(), nullable=True),
    sa.Column('response_due', sa.Date(), nullable=True),
    sa.Column('answer_due', sa.Date(), nullable=True),
    sa.Column('due_provisional', sa.Boolean(), nullable=False),
    sa.Column('responded_on', sa.Date(), nullable=True),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.Column('handling_working_days', sa.Integer(), nullable=True),
    sa.Column('resolved', sa.Boolean(), nullable=True),
    sa.Column('rating', sa.Enum('satisfied', 'basically_satisfied', 'dissatisfied', name='rating', native_enum=False, length=24), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('round >= 1', name=op.f('ck_complaints_round_positive')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_complaints_case_id_cases')),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['complaints.id'], name=op.f('fk_complaints_duplicate_of_id_complaints')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdictions.id'], name=op.f('fk_complaints_jurisdiction_id_jurisdictions')),
    sa.ForeignKeyConstraint(['taken_by_id'], ['users.id'], name=op.f('fk_complaints_taken_by_id_users')),
    sa.ForeignKeyConstraint(['triaged_by_id'], ['users.id'], name=op.f('fk_complaints_triaged_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_complaints_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints')),
    sa.UniqueConstraint('case_id', name=op.f('uq_complaints_case_id')),
    sa.UniqueConstraint('tracking_number', name=op.f('uq_complaints_tracking_number'))
    )
    op.create_geospatial_index('idx_complaints_location', 'complaints', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_complaints_category_code'), 'complaints', ['category_code'], unique=False)
    op.create_index(op.f('ix_complaints_created_at'), 'complaints', ['created_at'], unique=False)
    op.create_index(op.f('ix_complaints_jurisdiction_id'), 'complaints', ['jurisdiction_id'], unique=False)
    op.create_index('ix_complaints_scope_received', 'complaints', ['jurisdiction_id', 'received_at', 'id'], unique=False)
    op.create_index(op.f('ix_complaints_state'), 'complaints', ['state'], unique=False)
    op.create_index('ix_complaints_unit_received_on', 'complaints', ['unit_id', 'received_on'], unique=False)
    op.create_index('ix_complaints_unit_state', 'complaints', ['unit_id', 'state'], unique=False)
    op.create_table('complaint_answers',
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('resolved', sa.Boolean(), nullable=False),
    sa.Column('handler_id', sa.Uuid(), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_complaint_answers_complaint_id_complaints')),
    sa.ForeignKeyConstraint(['handler_id'], ['users.id'], name=op.f('fk_complaint_answers_handler_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_answers'))
    )
    op.create_index(op.f('ix_complaint_answers_complaint_id'), 'complaint_answers', ['complaint_id'], unique=False)
    op.create_table('complaint_callbacks',
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('callback', 'self', name='callbacksource', native_enum=False, length=16), nullable=False),
    sa.Column('reached', sa.Boolean(), nullable=False),
    sa.Column('resolved', sa.Boolean(), nullable=True),
    sa.Column('rating', sa.Enum('satisfied', 'basically_satisfied', 'dissatisfied', name='rating', native_enum=False, length=24), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Uuid(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_complaint_callbacks_complaint_id_complaints')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_complaint_callbacks_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_callbacks'))
    )
    op.create_index(op.f('ix_complaint_callbacks_complaint_id'), 'complaint_callbacks', ['complaint_id'], unique=False)
    op.create_index('uq_complaint_callbacks_one_rating_per_round', 'complaint_callbacks', ['complaint_id', 'round'], unique=True, sqlite_where=sa.text('rating IS NOT NULL'), postgresql_where=sa.text('rating IS NOT NULL'))
    op.create_table('complaint_contacts',
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('contact', sa.String(length=200), nullable=True),
    sa.Column('enterprise_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_complaint_contacts_complaint_id_complaints')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_complaint_contacts_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdictions.id'], name=op.f('fk_complaint_contacts_jurisdiction_id_jurisdictions')),
    sa.PrimaryKeyConstraint('complaint_id', name=op.f('pk_complaint_contacts'))
    )
    op.create_index(op.f('ix_complaint_contacts_enterprise_id'), 'complaint_contacts', ['enterprise_id'], unique=False)
    op.create_index(op.f('ix_complaint_contacts_jurisdiction_id'), 'complaint_contacts', ['jurisdiction_id'], unique=False)
    op.create_table('complaint_photos',
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('blob_sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=True),
    sa.Column('attached_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['blob_sha256'], ['blobs.sha256'], name=op.f('fk_complaint_photos_blob_sha256_blobs')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_complaint_photos_complaint_id_complaints')),
    sa.PrimaryKeyConstraint('complaint_id', 'blob_sha256', name=op.f('pk_complaint_photos'))
    )
    op.create_index(op.f('ix_complaint_photos_blob_sha256'), 'complaint_photos', ['blob_sha256'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_complaint_photos_blob_sha256'), table_name='complaint_photos')
    op.drop_table('complaint_photos')
    op.drop_index(op.f('ix_complaint_contacts_jurisdiction_id'), table_name='complaint_contacts')
    op.drop_index(op.f('ix_complaint_contacts_enterprise_id'), table_name='complaint_contacts')
    op.drop_table('complaint_contacts')
    op.drop_index('uq_complaint_callbacks_one_rating_per_round', table_name='complaint_callbacks', sqlite_where=sa.text('rating IS NOT NULL'), postgresql_where=sa.text('rating IS NOT NULL'))
    op.drop_index(op.f('ix_complaint_callbacks_complaint_id'), table_name='complaint_callbacks')
    op.drop_table('complaint_callbacks')
    op.drop_index(op.f('ix_complaint_answers_complaint_id'), table_name='complaint_answers')
    op.drop_table('complaint_answers')
    op.drop_index('ix_complaints_unit_state', table_name='complaints')
    op.drop_index('ix_complaints_unit_received_on', table_name='complaints')
    op.drop_index(op.f('ix_complaints_state'), table_name='complaints')
    op.drop_index('ix_complaints_scope_received', table_name='complaints')
    op.drop_index(op.f('ix_complaints_jurisdiction_id'), table_name='complaints')
    op.drop_index(op.f('ix_complaints_created_at'), table_name='complaints')
    op.drop_index(op.f('ix_complaints_category_code'), table_name='complaints')
    op.drop_geospatial_index('idx_complaints_location', table_name='complaints', postgresql_using='gist', column_name='location')
    op.drop_geospatial_table('complaints')
    op.drop_table('complaint_time_limits')
    op.drop_index(op.f('ix_complaint_handlers_unit_id'), table_name='complaint_handlers')
    op.drop_table('complaint_handlers')
