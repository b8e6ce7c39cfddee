"""blobs: quarantine of damaged originals, bytes trailing the image

Revision ID: 7d2e9b4c1a60
Revises: c4f1a2d9e7b3
Create Date: 2026-12-05 10:00:00.000000
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = '7d2e9b4c1a60'
down_revision = 'c4f1a2d9e7b3'
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN, not a batch: a batch would copy blobs, whose geometry column SpatiaLite
# cannot carry through a table copy; SQLite has both statements natively (3.35+).
def upgrade() -> None:
    op.add_column('blobs', sa.Column('damaged_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('blobs', sa.Column('damage', sa.String(length=300), nullable=True))
    op.add_column('blobs', sa.Column('trailing_bytes', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column('blobs', 'trailing_bytes')
    op.drop_column('blobs', 'damage')
    op.drop_column('blobs', 'damaged_at')
